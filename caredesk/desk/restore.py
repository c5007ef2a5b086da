"""The ticket page's "Restore a backup" panel posts here (see restore_panel)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.views.decorators.http import require_POST

from caredesk.maintenance import actions as maintenance

from . import page
from .common import get_ticket, staff_only
from .restore_panel import RestoreForm, restorable


@require_POST
@staff_only
def restore_backup(request, number: int):
    ticket = get_ticket(number)
    if not restorable(ticket).exists():
        return page.done(
            request,
            ticket,
            page.AFTER_RESTORE,
            messages.ERROR,
            "This ticket has no backup to restore.",
        )
    form = RestoreForm(request.POST, ticket=ticket)
    if not form.is_valid():
        return page.failed(request, ticket, ["restore"], restore_form=form)
    data = form.cleaned_data
    try:
        restore = maintenance.do_request_restore(
            data["backup"],
            acting_user=request.user,
            target=data["target"],
            ticket_number=ticket.number,
            safety_backup=data["safety_backup"],
        )
    except ValidationError as error:
        form.add_error(None, " ".join(error.messages))
        return page.failed(request, ticket, ["restore"], restore_form=form)
    return page.done(
        request,
        ticket,
        page.AFTER_RESTORE,
        messages.SUCCESS,
        f"Restore #{restore.pk} of backup #{data['backup'].pk} to {data['target'].name} queued.",
    )
