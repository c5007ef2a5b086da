"""Two people logging time for the same client at the same moment (PostgreSQL row locks)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection

from caredesk.billing import actions, ledger
from caredesk.billing.models import BillingWarning, LedgerEntry, LedgerKind, TimeEntry


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks of PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_simultaneous_logging_debits_once_each_and_warns_once(
    package_client, make_ticket, agent, account_manager
):
    tickets = [make_ticket(package_client, "bug-fix") for _ in range(2)]
    people = [agent, account_manager]
    start = threading.Barrier(2, timeout=20)

    def log(i: int) -> None:
        try:
            start.wait()
            actions.do_log_time(tickets[i], 160, acting_user=people[i], work_date=date(2026, 7, 1))
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(log, i) for i in range(2)]:
            future.result()

    assert TimeEntry.objects.count() == 2
    debits = LedgerEntry.objects.filter(kind=LedgerKind.DEBIT)
    assert sorted(debits.values_list("minutes", flat=True)) == [-160, -160]
    assert ledger.balance(package_client.pk, date(2026, 7, 1)) == 300 - 320
    assert sorted(BillingWarning.objects.values_list("kind", flat=True)) == [
        "allowance_100",
        "allowance_80",
    ]
