"""A backup restoration ticket's "Restore a backup" panel: what it offers and shows.

Shown on a ticket in the backup restoration category whose site has backups
that can be restored. The restore itself is the maintenance app's (its
action checks the backup and the target again); the panel passes the
ticket's number, so the restore's outcome comes back to this ticket as a note.
"""

from django import forms

from caredesk.clients.models import Connection, Site
from caredesk.maintenance.models import Backup, BackupRestore, JobState
from caredesk.tickets.models import Ticket

CATEGORY = "backup-restoration"
SHOWN = 8  # backups offered, newest first


def restorable(ticket: Ticket):
    """The ticket's site's backups that can be put back, newest first; none if not a restoration."""
    if ticket.site_id is None or ticket.category is None or ticket.category.code != CATEGORY:
        return Backup.objects.none()
    return (
        Backup.objects.filter(site_id=ticket.site_id, state=JobState.SUCCEEDED, removed_at=None)
        .exclude(snapshot_id="")
        .order_by("-taken_at", "-pk")
    )


def targets(ticket: Ticket):
    """The site itself, or a staging copy: another site of the client with the companion plugin."""
    return Site.objects.filter(
        organisation_id=ticket.site.organisation_id, connection=Connection.COMPANION, is_active=True
    ).order_by("name")


class BackupChoice(forms.ModelChoiceField):
    def label_from_instance(self, backup: Backup) -> str:
        when = f"{backup.taken_at:%d %b %Y %H:%M}" if backup.taken_at else "—"
        verified = "" if backup.verified else " (not verified)"
        return f"#{backup.pk} of {when}{verified}"


class RestoreForm(forms.Form):
    backup = BackupChoice(queryset=Backup.objects.none(), empty_label=None)
    target = forms.ModelChoiceField(
        queryset=Site.objects.none(),
        empty_label=None,
        label="Restore to",
        help_text="The site itself, or a staging copy (it keeps its own address).",
    )
    safety_backup = forms.BooleanField(
        required=False, initial=True, label="Back up the target first"
    )
    confirm = forms.BooleanField(
        label="The target's database and files are replaced by the backup's",
        error_messages={"required": "Tick the box to confirm the target is overwritten."},
    )

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, prefix="restore", **kwargs)
        shown = list(restorable(ticket).values_list("pk", flat=True)[:SHOWN])
        self.fields["backup"].queryset = restorable(ticket).filter(pk__in=shown)
        self.fields["target"].queryset = targets(ticket)
        self.fields["target"].initial = ticket.site_id
        self.fields["target"].label_from_instance = lambda site: (
            f"{site.name} (this site)" if site.pk == ticket.site_id else f"{site.name} (staging)"
        )


def describe_step(step) -> str:
    """What a running restore is doing: ``Upload the files (40 %)``."""
    if step is None:
        return ""
    return step.get_action_display() + (f" ({step.progress})" if step.progress else "")


def restore_panel(ticket: Ticket, form: RestoreForm | None = None) -> dict | None:
    """What the panel shows, or None when the ticket has no business with it."""
    if not restorable(ticket).exists():
        return None
    restores = list(
        BackupRestore.objects.filter(ticket_number=ticket.number)
        .select_related("target")
        .order_by("-created_at")[:5]
    )
    for restore in restores:
        restore.now = describe_step(restore.steps.filter(state="running").first())
    return {"form": form or RestoreForm(ticket=ticket), "restores": restores}
