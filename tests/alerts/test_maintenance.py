"""Incidents inside a maintenance window alert nobody and open no ticket."""

from datetime import date, time

import pytest

from caredesk.alerts import delivery
from caredesk.alerts.models import AlertDelivery
from caredesk.monitoring.models import Incident, MaintenanceWindow, Recurrence
from caredesk.tickets.models import Ticket

from .conftest import later

pytestmark = pytest.mark.django_db


def test_an_outage_in_a_window_is_noted_but_sends_nothing(
    clock_at, feed_down, monitor, site_a, hook_channel, hook
):
    # 10:00-11:00 London on Wednesday 10 June is 09:00-10:00 UTC: the whole test.
    MaintenanceWindow.objects.create(
        site=site_a,
        reason="Server move",
        day=date(2026, 6, 10),
        start_time=time(10),
        duration_minutes=60,
    )
    feed_down(monitor, "+--++")
    incident = Incident.objects.get()
    suppressed = [e for e in incident.timeline if e["event"] == "suppressed"]
    assert [e["detail"] for e in suppressed] == ["maintenance window: Server move"]
    assert Ticket.objects.count() == 0
    assert AlertDelivery.objects.count() == 0
    later(clock_at, 600)
    delivery.run()
    assert hook.posts == []


def test_outside_its_hours_a_weekly_window_suppresses_nothing(
    clock_at, feed_down, monitor, site_a, hook_channel, hook
):
    MaintenanceWindow.objects.create(
        site=site_a,
        reason="Weekly updates",
        recurrence=Recurrence.WEEKLY,
        weekdays=["wed"],
        start_time=time(2),
        duration_minutes=120,
    )
    feed_down(monitor, "+--")
    assert Ticket.objects.count() == 1
    later(clock_at, 200)
    delivery.run()
    assert len(hook.posts) == 1
