"""Backups and restores: lists, each one's steps with their progress, restore asked for on
its own page (with the backup restoration ticket's number), retries."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse

from caredesk.clients.models import Connection

from .. import actions
from ..backups import human
from ..models import Backup, BackupRestore, BackupStep, MaintainedSite, Part, RestoreStep
from .common import ReadOnlyInline


def running_step(run) -> str:
    """What a running backup or restore is doing, with its progress."""
    if run.state != "running":
        return ""
    step = run.steps.filter(state="running").first()
    if step is None:
        return ""
    progress = f" ({step.progress})" if step.progress else ""
    return f"{step.get_action_display()}{progress}"


class JobStepInline(ReadOnlyInline):
    fields = ("position", "attempt", "action", "state", "progress", "detail", "finished_at")
    readonly_fields = fields


class BackupStepInline(JobStepInline):
    model = BackupStep


class RestoresInline(ReadOnlyInline):
    model = BackupRestore
    fk_name = "backup"
    fields = ("created_at", "target", "state", "ticket_number", "requested_by", "finished_at")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = "Restores of this backup"


@admin.register(Backup)
class BackupAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "site",
        "trigger",
        "state",
        "now",
        "taken_at",
        "size_text",
        "verified",
        "kept",
    )
    list_filter = ("state", "trigger", "verified", "site__organisation")
    search_fields = ("site__name", "site__url", "snapshot_id", "error")
    date_hierarchy = "created_at"
    list_select_related = ("site",)
    inlines = [BackupStepInline, RestoresInline]
    actions = ("retry", "verify_again", "restore")
    readonly_fields = (
        "site",
        "trigger",
        "state",
        "parts",
        "requested_by",
        "update_run",
        "created_at",
        "started_at",
        "finished_at",
        "attempt",
        "error",
        "taken_at",
        "database_size",
        "database_sha256",
        "database_tables",
        "files_size",
        "files_sha256",
        "files_count",
        "files_skipped",
        "snapshot_id",
        "snapshot_path",
        "stored_at",
        "stored_new_bytes",
        "verified",
        "verified_at",
        "verification",
        "removed_at",
    )

    def has_add_permission(self, request) -> bool:
        return False  # backups start from the sites list, the schedule or the command

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Size")
    def size_text(self, obj) -> str:
        return human(obj.size) if obj.taken_at else "–"

    @admin.display(description="Now")
    def now(self, obj) -> str:
        return running_step(obj)

    @admin.display(description="In the repository", boolean=True)
    def kept(self, obj) -> bool:
        return obj.restorable

    @admin.action(description="Retry (finished steps are not redone)")
    def retry(self, request, queryset) -> None:
        for backup in queryset:
            try:
                actions.do_retry_backup(backup, acting_user=request.user)
            except ValidationError as error:
                self.message_user(request, f"{backup}: {' '.join(error.messages)}", messages.ERROR)
                continue
            self.message_user(request, f"{backup}: queued again.")

    @admin.action(description="Verify again (read back and test-restore the database)")
    def verify_again(self, request, queryset) -> None:
        for backup in queryset:
            try:
                actions.do_request_verification(backup, acting_user=request.user)
            except ValidationError as error:
                self.message_user(request, f"{backup}: {' '.join(error.messages)}", messages.ERROR)
                continue
            self.message_user(request, f"{backup}: verification queued.")

    @admin.action(description="Restore… (choose where on the next page)")
    def restore(self, request, queryset):
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(request, "Choose one backup to restore.", messages.ERROR)
            return None
        return HttpResponseRedirect(
            reverse("admin:maintenance_backuprestore_add") + f"?backup={chosen[0].pk}"
        )


class RestoreForm(forms.ModelForm):
    parts = forms.MultipleChoiceField(
        choices=Part.choices,
        initial=[Part.DATABASE, Part.FILES],
        widget=forms.CheckboxSelectMultiple,
        help_text="What to put back.",
    )
    target = forms.ModelChoiceField(
        queryset=MaintainedSite.objects.filter(connection=Connection.COMPANION),
        required=False,
        help_text="Empty: the backup's own site. Or a staging copy: a site of the same client "
        "with the companion plugin; it keeps its own address.",
    )
    confirm = forms.BooleanField(
        label="I understand the target's database and files are replaced by the backup's",
        required=True,
    )

    class Meta:
        model = BackupRestore
        fields = ("backup", "target", "parts", "ticket_number", "safety_backup")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["backup"].queryset = (
            Backup.objects.filter(removed_at=None).exclude(snapshot_id="").select_related("site")
        )

    def clean(self):
        data = super().clean()
        backup = data.get("backup")
        if backup is not None:
            data["target"] = data.get("target") or backup.site
            try:
                actions.check_restore(
                    backup, data["target"], data.get("parts"), data.get("ticket_number")
                )
            except ValidationError as error:
                raise forms.ValidationError(error.messages) from None
        return data


@admin.register(BackupRestore)
class BackupRestoreAdmin(admin.ModelAdmin):
    """Restores are asked for on the add page (a backup restoration ticket's number with it)."""

    form = RestoreForm
    list_display = (
        "__str__",
        "target",
        "state",
        "now",
        "ticket_number",
        "requested_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("state", "target__organisation")
    search_fields = ("target__name", "backup__site__name", "error")
    list_select_related = ("target", "backup__site", "requested_by")
    actions = ("retry",)

    def get_inlines(self, request, obj):
        return [RestoreStepInline] if obj is not None else []

    @admin.display(description="Now")
    def now(self, obj) -> str:
        return running_step(obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "backup",
            "target",
            "parts",
            "ticket_number",
            "safety_backup",
            "safety",
            "state",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "attempt",
            "error",
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("backup", "target", "parts", "ticket_number", "safety_backup", "confirm")
        return self.get_readonly_fields(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = forms.ModelForm
            kwargs["fields"] = ()
        return super().get_form(request, obj, change, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        saved = actions.do_request_restore(
            data["backup"],
            acting_user=request.user,
            target=data.get("target"),
            parts=data["parts"],
            ticket_number=data.get("ticket_number"),
            safety_backup=data.get("safety_backup", True),
        )
        obj.pk = saved.pk
        obj._state.adding = False

    @admin.action(description="Retry (what was uploaded is not uploaded again)")
    def retry(self, request, queryset) -> None:
        for restore in queryset:
            try:
                actions.do_retry_restore(restore, acting_user=request.user)
            except ValidationError as error:
                self.message_user(request, f"{restore}: {' '.join(error.messages)}", messages.ERROR)
                continue
            self.message_user(request, f"{restore}: queued again.")


class RestoreStepInline(JobStepInline):
    model = RestoreStep
