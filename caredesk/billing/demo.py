"""Demo time for the demo clients: enough to show each billing rule on a statement.

Called by the demo loader after the clients and plans exist. Entries are
dated in the current and previous month, so the usage page and both months'
statements have something to show whatever the day. Like the rest of the demo,
running it twice writes nothing the second time.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from caredesk.accounts.models import User
from caredesk.clients.models import Organisation
from caredesk.lib import clock
from caredesk.plans.models import WorkCategory
from caredesk.tickets.actions import do_change_status, do_create_ticket, do_reply
from caredesk.tickets.models import Ticket

from . import periods
from .actions import do_log_time

STAFF = "omar.haddad@agency.example"
# client, ticket subject, category, [(month offset 0 = this month / -1, day, minutes, note)]
TIME = [
    (
        "Harbour Bakery Ltd",
        "Checkout button does nothing on mobile",
        "bug-fix",
        [(-1, 6, 45, "Found a script conflict"), (-1, 7, 45, "Fixed and tested")],
    ),
    (
        "Harbour Bakery Ltd",
        "Move the menu pages to the new theme",
        "bug-fix",
        [(-1, 12, 90, "Templates"), (-1, 20, 60, "Styles and checks")],
    ),
    ("Harbour Bakery Ltd", "Add online gift cards", "new-feature", [(-1, 14, 120, "Plugin setup")]),
    (
        "Bluefin Ceramics",
        "Product filter shows no results",
        "bug-fix",
        [(-1, 4, 150, "Reindexed the catalogue"), (-1, 18, 110, "Filter rewrite")],
    ),
    ("Bluefin Ceramics", "New banner for the summer sale", "design-change", [(0, 1, 75, "")]),
    (
        "Northwind Outdoor Store",
        "Shipping rates wrong for islands",
        "configuration",
        [(-1, 3, 240, "Rates table"), (0, 1, 30, "Follow-up")],
    ),
    ("Paper Lantern Events", "Update the events page layout", "design-change", [(-1, 9, 60, "")]),
]


def _day(offset: int, day: int, today: date) -> date:
    month_start = today.replace(day=1)
    if offset < 0:
        month_start = periods.previous_month(month_start)
        return month_start.replace(day=day)
    return month_start.replace(day=min(day, today.day))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of a work day on the agency's wall clock, never later than now."""
    moment = datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(settings.TIME_ZONE))
    return min(moment, clock.now())


@transaction.atomic
def load_demo_time() -> int:
    """Create the demo tickets and their time once; returns how many rows were written.

    Each ticket is raised on its first day of work, answered within the hour
    and, when its work ended last month, solved on its last day: written with
    the clock replayed to those moments, so the SLA clocks and the monthly
    report see a true history.
    """
    staff = User.objects.filter(email=STAFF).first()
    if staff is None:
        return 0
    today = periods.local_today()
    writes = 0
    for client, subject, category, entries in TIME:
        organisation = Organisation.objects.filter(name=client).first()
        if (
            organisation is None
            or Ticket.objects.filter(organisation=organisation, subject=subject).exists()
        ):
            continue
        days = [_day(offset, day, today) for offset, day, _, _ in entries]
        with clock.replay(_at(days[0], 9, 40)):
            ticket = do_create_ticket(
                subject=subject,
                body=subject,
                channel="phone",
                organisation=organisation,
                site=organisation.sites.order_by("pk").first(),
                category=WorkCategory.objects.filter(code=category).first(),
                acting_user=staff,
                notify_requester=False,
            )
        with clock.replay(_at(days[0], 10, 25)):
            do_reply(ticket, "Thanks, we are on it and will update you here.", acting_user=staff)
        writes += 2
        for (_, _, minutes, note), day in zip(entries, days, strict=True):
            with clock.replay(_at(day, 16)):
                do_log_time(ticket, minutes, acting_user=staff, work_date=day, note=note)
            writes += 1
        if all(offset < 0 for offset, _, _, _ in entries):
            with clock.replay(_at(days[-1], 16, 30)):
                do_change_status(ticket, "solved", acting_user=staff)
            writes += 1
    return writes
