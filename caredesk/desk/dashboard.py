"""The desk's home: what needs doing today, counted in a handful of queries."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q
from django.shortcuts import render

from caredesk.accounts.models import STAFF_ROLES, User
from caredesk.lib import clock
from caredesk.tickets.models import OPEN_STATUSES, Ticket

from .common import staff_only
from .queue import breached_filter

LIST = 8


def end_of_today(now: datetime) -> datetime:
    zone = ZoneInfo(settings.TIME_ZONE)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time.min, tzinfo=zone)


def figures(user) -> dict:
    """Every number on the dashboard: one aggregate, one grouping by priority, one by agent."""
    now = clock.now()
    today_ends = end_of_today(now)
    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    due_today = Q(sla_next_due_at__gt=now, sla_next_due_at__lt=today_ends)
    breached = breached_filter(now)
    totals = open_tickets.aggregate(
        open=Count("pk"),
        due_today=Count("pk", filter=due_today),
        breached=Count("pk", filter=breached),
        unassigned=Count("pk", filter=Q(assignee=None)),
        mine=Count("pk", filter=Q(assignee=user)),
    )
    by_priority = list(
        open_tickets.values(name=F("priority__name"))
        .annotate(
            count=Count("pk"),
            breached=Count("pk", filter=breached),
            rank=F("priority__rank"),
        )
        .order_by(F("rank").asc(nulls_last=True), "name")
    )
    load = {
        row["assignee"]: row
        for row in open_tickets.exclude(assignee=None)
        .values("assignee")
        .annotate(
            count=Count("pk"),
            breached=Count("pk", filter=breached),
            due_today=Count("pk", filter=due_today),
        )
    }
    agents = [
        {
            "user": agent,
            "count": load.get(agent.pk, {}).get("count", 0),
            "breached": load.get(agent.pk, {}).get("breached", 0),
            "due_today": load.get(agent.pk, {}).get("due_today", 0),
        }
        for agent in User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by(
            "full_name", "email"
        )
    ]
    listed = open_tickets.select_related("organisation", "priority", "assignee").order_by(
        F("sla_next_due_at").asc(nulls_last=True), "created_at"
    )
    return {
        "totals": totals,
        "by_priority": by_priority,
        "agents": agents,
        "due_list": list(listed.filter(due_today)[:LIST]),
        "breached_list": list(listed.filter(breached)[:LIST]),
        "today_ends": today_ends,
    }


@staff_only
def dashboard(request):
    return render(request, "desk/dashboard.html", figures(request.user))
