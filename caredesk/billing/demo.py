"""Demo time for the demo clients: enough to show each billing rule on a statement.

Called by the demo loader after the clients and plans exist. Entries are
dated in the current and previous month, so the usage page and both months'
statements have something to show whatever the day. Like the rest of the demo,
running it twice writes nothing the second time.
"""

from datetime import date

from django.db import transaction

from caredesk.accounts.models import User
from caredesk.clients.models import Organisation
from caredesk.plans.models import WorkCategory
from caredesk.tickets.actions import do_create_ticket
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


@transaction.atomic
def load_demo_time() -> int:
    """Create the demo tickets and their time once; returns how many rows were written."""
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
        ticket = do_create_ticket(
            subject=subject,
            body=subject,
            channel="phone",
            organisation=organisation,
            category=WorkCategory.objects.filter(code=category).first(),
            acting_user=staff,
            notify_requester=False,
        )
        writes += 1
        for offset, day, minutes, note in entries:
            do_log_time(
                ticket,
                minutes,
                acting_user=staff,
                work_date=_day(offset, day, today),
                note=note,
            )
            writes += 1
    return writes
