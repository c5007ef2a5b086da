"""Logging time from the ticket page, and why each entry is or is not billed."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from caredesk.billing import actions as billing
from caredesk.billing.models import TimeEntry, TimerRun
from caredesk.billing.rules import BILLABLE
from caredesk.billing.usage import usage_on
from caredesk.plans.models import WorkCategory

from .common import get_ticket, staff_only


class TimeForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=24 * 60, label="Minutes")
    work_date = forms.DateField(
        required=False, label="Date", widget=forms.DateInput(attrs={"type": "date"})
    )
    category = forms.ModelChoiceField(
        queryset=WorkCategory.objects.all(), required=False, empty_label="The ticket's category"
    )
    note = forms.CharField(required=False, max_length=1000)


def entries_with_reasons(ticket) -> list[dict]:
    """The ticket's time, each entry split the way its period's statement will bill it."""
    rows = []
    usages = {}
    entries = TimeEntry.objects.filter(ticket=ticket).select_related("staff", "category")
    for entry in entries.order_by("work_date", "pk"):
        parts = []
        if ticket.organisation_id:
            key = (entry.work_date.year, entry.work_date.month)
            if key not in usages:
                usages[key] = usage_on(ticket.organisation_id, entry.work_date)
            parts = usages[key].parts_by_entry.get(entry.pk, [])
        rows.append(
            {
                "entry": entry,
                "parts": parts,
                "billable": any(part.kind in BILLABLE for part in parts),
            }
        )
    return rows


@require_POST
@staff_only
def log_time(request, number: int):
    ticket = get_ticket(number)
    form = TimeForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "Time not logged: "
            + "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()),
        )
        return redirect("desk:ticket", number=number)
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
        messages.error(request, "Time not logged: " + "; ".join(error.messages))
    else:
        messages.success(request, f"{data['minutes']} min logged.")
    return redirect("desk:ticket", number=number)


@require_POST
@staff_only
def timer(request, number: int):
    ticket = get_ticket(number)
    try:
        running = TimerRun.objects.filter(staff=request.user).first()
        if running is not None and running.ticket_id == ticket.pk:
            entry = billing.do_stop_timer(acting_user=request.user)
            if entry is None:
                messages.info(request, "Timer stopped; under half a minute, nothing logged.")
            else:
                messages.success(request, f"Timer stopped: {entry.minutes} min logged.")
        else:
            billing.do_start_timer(ticket, acting_user=request.user)
            messages.success(request, "Timer started.")
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    return redirect("desk:ticket", number=number)
