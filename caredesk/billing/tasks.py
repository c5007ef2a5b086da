"""Periodic billing work for the scheduler."""

from datetime import timedelta

from django_tasks import task

from . import ledger, periods
from .notify import send_billing_warnings
from .usage import compute

__all__ = ["roll_ledgers", "send_billing_warnings"]


@task()
def roll_ledgers() -> int:
    """Credit the allowance of periods that have started; expire what is left of those
    that have ended. Returns the ledger rows written (0 when nothing changed)."""
    today = periods.local_today()
    yesterday = today - timedelta(days=1)
    ids = sorted(
        set(periods.subscriptions_active(today)) | set(periods.subscriptions_active(yesterday))
    )
    # Yesterday's windows first, so a period's close comes before the next one's credit.
    usages = compute(periods.periods_containing(ids, yesterday))
    usages += compute(periods.periods_containing(ids, today))
    return ledger.reconcile(usages, today)
