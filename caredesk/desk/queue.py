"""The staff queue: open tickets, most urgent first.

Most urgent = the nearest due time of a running SLA clock, then priority rank,
then plan tier (plan clients before on-demand clients), then age. A ticket with
no running clock sorts after every ticket that has one.
"""

from datetime import timedelta

from django.db.models import Count, F, Q, QuerySet

from caredesk.lib import clock
from caredesk.tickets.models import OPEN_STATUSES, SlaClock, Status, Ticket

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


def queue(
    user,
    view: str = "open",
    search: str = "",
    *,
    client: int | None = None,
    site: int | None = None,
    category: int | None = None,
) -> QuerySet[Ticket]:
    now = clock.now()
    tickets = Ticket.objects.all()
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
        tickets = tickets.filter(breached_filter(now))
    if client is not None:
        tickets = tickets.filter(organisation_id=client)
    if site is not None:
        tickets = tickets.filter(site_id=site)
    if category is not None:
        tickets = tickets.filter(category_id=category)
    search = search.strip()
    if search:
        number = search.lstrip("#")
        match = Q(subject__icontains=search) | Q(organisation__name__icontains=search)
        match |= Q(requester_email__icontains=search)
        if number.isdigit():
            match |= Q(number=int(number))
        tickets = tickets.filter(match)
    return tickets.order_by(*URGENCY)


URGENCY = (
    F("sla_next_due_at").asc(nulls_last=True),
    F("priority__rank").asc(nulls_last=True),
    "queue_tier",
    "created_at",
)


def window(tickets: QuerySet[Ticket], start: int, stop: int) -> list[Ticket]:
    """One page of the queue, with what each row shows, in one query.

    The page's ids are chosen first from the tickets alone (and their priority,
    which orders them); only those rows are joined to clients, people and sites.
    Joining every open ticket before sorting cost most of the render at 20 000.
    """
    ids = tickets.values("pk")[start:stop]
    rows = Ticket.objects.select_related(
        "organisation", "priority", "assignee", "requester", "site"
    ).filter(pk__in=ids)
    return list(rows.order_by(*URGENCY))


def breached_filter(now) -> Q:
    """Past the nearest due time, or holding a breached clock (also a paused one)."""
    # An IN over the (few) breached clocks runs once; a correlated EXISTS would
    # run for every open ticket.
    late = SlaClock.objects.filter(breached=True, stopped_at=None).values("ticket_id")
    return Q(sla_next_due_at__lte=now) | Q(pk__in=late)


def counts(user) -> dict[str, int]:
    """Every view's count in one query (the same filters as ``queue``, without search)."""
    now = clock.now()
    is_open = Q(status__in=OPEN_STATUSES)
    return Ticket.objects.filter(status__in=[*OPEN_STATUSES, Status.SOLVED]).aggregate(
        open=Count("pk", filter=is_open),
        mine=Count("pk", filter=is_open & Q(assignee=user)),
        unassigned=Count("pk", filter=is_open & Q(assignee=None)),
        soon=Count(
            "pk",
            filter=is_open & Q(sla_next_due_at__gt=now, sla_next_due_at__lte=now + SOON),
        ),
        breached=Count("pk", filter=is_open & breached_filter(now)),
        pending=Count("pk", filter=Q(status=Status.PENDING)),
        solved=Count("pk", filter=Q(status=Status.SOLVED)),
    )
