"""Changes the desk makes to its own records (ticket changes go through tickets.actions)."""

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction

from .models import CannedReply


@transaction.atomic
def do_save_canned_reply(form, *, acting_user) -> CannedReply:
    """Save a validated canned-reply form; the admin's change log is its audit trail."""
    if not getattr(acting_user, "is_agency_staff", False):
        raise ValidationError("Only agency staff can do this.")
    adding = form.instance.pk is None
    reply = form.save()
    LogEntry.objects.log_actions(
        acting_user.pk,
        [reply],
        ADDITION if adding else CHANGE,
        change_message=[{"added": {}}] if adding else [{"changed": {"fields": form.changed_data}}],
        single_object=True,
    )
    return reply
