"""A client as staff see it: people, sites, plan, open tickets, SLA results, hours used."""

from django.db.models import Count, F, Q
from django.shortcuts import render

from caredesk.billing import periods
from caredesk.billing.rules import BILLABLE
from caredesk.billing.usage import usage_on
from caredesk.clients import access
from caredesk.monitoring.models import Incident
from caredesk.plans.models import active_subscription
from caredesk.reports.models import Report
from caredesk.tickets import sla_report
from caredesk.tickets.models import OPEN_STATUSES

from .common import staff_only

OPEN_LIMIT = 25


def hours_this_period(organisation_id: int) -> dict:
    """Counted, allowance and billable minutes of the billing period holding today."""
    usage = usage_on(organisation_id, periods.local_today())
    billable = sum(
        part.minutes
        for row in usage.period_rows
        for part in usage.parts_by_entry.get(row.id, ())
        if part.kind in BILLABLE
    )
    used = usage.counted_minutes()
    allowance = usage.allowance
    return {
        "period": usage.period.window_label,
        "used": used,
        "allowance": allowance,
        "left": max(0, allowance - used) if allowance is not None else None,
        "share": round(used * 100 / allowance) if allowance else None,
        "billable": billable,
        "pooled": usage.period.is_pooled,
    }


@staff_only
def client(request, pk: int):
    organisation = access.get_or_404(
        access.organisations_for(request.user).select_related("account_manager"), pk
    )
    today = periods.local_today()
    subscription = active_subscription(organisation.pk, today)
    tickets = organisation.tickets.filter(status__in=OPEN_STATUSES)
    open_tickets = list(
        tickets.select_related("priority", "assignee", "site").order_by(
            F("sla_next_due_at").asc(nulls_last=True), "created_at"
        )[:OPEN_LIMIT]
    )
    sites = organisation.sites.annotate(
        monitor_count=Count("monitors"),
        down_count=Count("monitors", filter=Q(monitors__enabled=True, monitors__state="down")),
    ).order_by("-is_active", "name")
    return render(
        request,
        "desk/client.html",
        {
            "organisation": organisation,
            "contacts": organisation.contacts.order_by("-is_active", "name"),
            "sites": sites,
            "subscription": subscription,
            "plan_rules": subscription.plan.plancategory_set.select_related("category")
            if subscription
            else [],
            "open_tickets": open_tickets,
            "open_count": tickets.count(),
            "sla": sla_report.summary(organisation.pk, today.year, today.month),
            "month": today,
            "hours": hours_this_period(organisation.pk),
            "reports": Report.objects.filter(organisation=organisation).order_by("-month")[:6],
            "incidents_open": Incident.objects.filter(
                monitor__site__organisation=organisation, resolved_at=None
            ).count(),
        },
    )
