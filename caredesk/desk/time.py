"""Logging time from the ticket page: a form, and a timer to start and stop."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.views.decorators.http import require_POST

from caredesk.billing import actions as billing
from caredesk.billing.models import TimerRun

from . import page
from .common import get_ticket, staff_only
from .forms import TimeForm


@require_POST
@staff_only
def log_time(request, number: int):
    ticket = get_ticket(number)
    form = TimeForm(request.POST)
    if not form.is_valid():
        return page.failed(request, ticket, ["time"], time_form=form)
    data = form.cleaned_data
    try:
        billing.do_log_time(
            ticket,
            data["minutes"],
            acting_user=request.user,
            work_date=data["work_date"],
            category=data["category"],
            note=data["note"],
        )
    except ValidationError as error:
        form.add_error(None, "; ".join(error.messages))
        return page.failed(request, ticket, ["time"], time_form=form)
    return page.done(
        request, ticket, page.AFTER_TIME, messages.SUCCESS, f"{data['minutes']} min logged."
    )


@require_POST
@staff_only
def timer(request, number: int):
    ticket = get_ticket(number)
    try:
        running = TimerRun.objects.filter(staff=request.user).first()
        if running is not None and running.ticket_id == ticket.pk:
            entry = billing.do_stop_timer(acting_user=request.user)
            if entry is None:
                level, text = messages.INFO, "Timer stopped; under half a minute, nothing logged."
            else:
                level, text = messages.SUCCESS, f"Timer stopped: {entry.minutes} min logged."
        else:
            billing.do_start_timer(ticket, acting_user=request.user)
            level, text = messages.SUCCESS, "Timer started."
    except ValidationError as error:
        level, text = messages.ERROR, "; ".join(error.messages)
    return page.done(request, ticket, page.AFTER_TIME, level, text)
