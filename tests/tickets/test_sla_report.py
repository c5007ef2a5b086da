"""Per client and month: targets met and missed, and the median first response."""

from datetime import timedelta

import pytest

from caredesk.tickets.actions import do_reply
from caredesk.tickets.sla_report import summary

from .conftest import june


@pytest.fixture
def month(client_a, raise_ticket, traveller, staff):
    """Three June tickets on the KIJO policy (non-critical: first response 9 business hours)."""
    fast = raise_ticket(subject="fast")
    slow = raise_ticket(subject="slow")
    raise_ticket(subject="waiting")
    traveller.move_to(june(1, 10))  # one business hour after creation
    do_reply(fast, "On it", acting_user=staff)
    traveller.move_to(june(2, 12))  # 9 h on Monday + 3 h on Tuesday: past the limit
    do_reply(slow, "Sorry for the wait", acting_user=staff)
    traveller.move_to(june(2, 13))
    return client_a


def test_met_and_missed_targets_are_counted_from_the_clocks(month):
    result = summary(month.pk, 2026, 6)
    # First response: fast met, slow missed, waiting breached by now (12 h > 9 h).
    # Resolution: three clocks still running within 45 business hours.
    assert (result.met, result.missed, result.open) == (1, 2, 3)
    assert result.met_share == pytest.approx(1 / 3)


def test_median_first_response_is_in_business_time(month):
    result = summary(month.pk, 2026, 6)
    # 1 h and 12 business hours: the median of the two answered tickets is their mean.
    assert result.median_first_response == timedelta(hours=6, minutes=30)


def test_other_months_and_other_clients_are_not_counted(month, org_b):
    assert summary(month.pk, 2026, 5).met == 0
    assert summary(org_b.pk, 2026, 6).missed == 0
    assert summary(month.pk, 2026, 5).median_first_response is None
