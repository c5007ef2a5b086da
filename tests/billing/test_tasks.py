"""The nightly ledger job: allowances credited as periods start, unused hours expired at the end."""

from datetime import date, datetime

from caredesk.billing import ledger
from caredesk.billing.models import LedgerEntry, LedgerKind
from caredesk.billing.tasks import roll_ledgers

from .conftest import LONDON


def test_nightly_job_credits_the_new_period_and_expires_the_old(package_client, frozen_time):
    assert roll_ledgers.call() == 1  # July credited
    assert ledger.balance(package_client.pk, date(2026, 7, 1)) == 300

    frozen_time.move_to(datetime(2026, 8, 1, 0, 10, tzinfo=LONDON))
    assert roll_ledgers.call() == 2  # July expired, August credited
    assert roll_ledgers.call() == 0  # nothing twice

    assert ledger.balance(package_client.pk, date(2026, 7, 1)) == 0
    rows = LedgerEntry.objects.filter(organisation=package_client).order_by("pk")
    assert [(r.window_start.month, r.kind, r.minutes) for r in rows] == [
        (7, LedgerKind.CREDIT, 300),
        (7, LedgerKind.EXPIRE, -300),
        (8, LedgerKind.CREDIT, 300),
    ]


def test_plans_without_counted_hours_have_no_ledger(kijo_client):
    assert roll_ledgers.call() == 0
    assert not LedgerEntry.objects.exists()
