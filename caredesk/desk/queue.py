"""The staff queue: open tickets, most urgent first.

Most urgent = the nearest due time of a running SLA clock, then priority rank,
then plan tier (plan clients before on-demand clients), then age. A ticket with
no running clock sorts after every ticket that has one.
"""

from datetime import timedelta

from django.db.models import F, Q, QuerySet

from caredesk.lib import clock
from caredesk.tickets.models import OPEN_STATUSES, Status, Ticket

VIEWS = {
    "open": "All open",
    "mine": "Mine",
    "unassigned": "Unassigned",
    "soon": "Breaching soon",
    "breached": "Breached",
    "pending": "Waiting on client",
    "solved": "Solved",
}
SOON = timedelta(hours=2)


def queue(user, view: str = "open", search: str = "") -> QuerySet[Ticket]:
    now = clock.now()
    tickets = Ticket.objects.select_related(
        "organisation", "priority", "assignee", "requester", "site"
    )
    if view == "solved":
        tickets = tickets.filter(status=Status.SOLVED)
    elif view == "pending":
        tickets = tickets.filter(status=Status.PENDING)
    else:
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    if view == "mine":
        tickets = tickets.filter(assignee=user)
    elif view == "unassigned":
        tickets = tickets.filter(assignee=None)
    elif view == "soon":
        tickets = tickets.filter(sla_next_due_at__gt=now, sla_next_due_at__lte=now + SOON)
    elif view == "breached":
        tickets = tickets.filter(
            Q(sla_next_due_at__lte=now) | Q(sla_clocks__breached=True, sla_clocks__stopped_at=None)
        ).distinct()
    search = search.strip()
    if search:
        number = search.lstrip("#")
        match = Q(subject__icontains=search) | Q(organisation__name__icontains=search)
        match |= Q(requester_email__icontains=search)
        if number.isdigit():
            match |= Q(number=int(number))
        tickets = tickets.filter(match)
    return tickets.order_by(
        F("sla_next_due_at").asc(nulls_last=True),
        F("priority__rank").asc(nulls_last=True),
        "queue_tier",
        "created_at",
    )


def counts(user) -> dict[str, int]:
    return {key: queue(user, key).count() for key in VIEWS}
