"""The one clock: aware UTC, and movable by time_machine."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from caredesk.lib import clock


def test_now_is_aware_utc():
    now = clock.now()
    assert now.tzinfo is UTC
    assert now.utcoffset() == timedelta(0)


def test_now_follows_time_machine():
    moment = datetime(2026, 3, 29, 0, 59, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        assert clock.now() == moment


def test_now_in_another_zone_still_comes_back_as_utc():
    with time_machine.travel(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), tick=False):
        now = clock.now()
    assert now.tzinfo is UTC
    assert now.hour == 23


def test_today_utc_is_the_utc_date_not_the_local_one():
    # 23:30 UTC on 30 June is already 1 July in London (BST).
    with time_machine.travel(datetime(2026, 6, 30, 23, 30, tzinfo=UTC), tick=False):
        assert clock.today_utc() == date(2026, 6, 30)


def test_replay_sets_now_inside_the_block_only():
    past = datetime(2026, 10, 14, 9, 30, tzinfo=ZoneInfo("Europe/London"))
    with clock.replay(past):
        assert clock.now() == past and clock.now().tzinfo is UTC
        assert clock.today_utc() == past.date()
    assert clock.now() > past


def test_replay_needs_an_aware_instant():
    with pytest.raises(ValueError), clock.replay(datetime(2026, 10, 14, 9, 30)):  # noqa: DTZ001
        pass
