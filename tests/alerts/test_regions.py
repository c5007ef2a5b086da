"""Two regions: one bad network path pages nobody; an outage both see is alerted and ticketed."""

import pytest

from caredesk.alerts.models import AlertDelivery
from caredesk.monitoring.engine import ProbeStatus
from caredesk.monitoring.models import Incident
from caredesk.monitoring.store import record_heartbeat
from caredesk.tickets.models import Ticket

from .conftest import T0, at, outcome

pytestmark = pytest.mark.django_db


def heartbeats(when) -> None:
    for region in ("eu", "us"):
        status = ProbeStatus(region, T0, when, 1, 0, 0, 0, 0, 0, 0, 0)
        record_heartbeat(f"{region}@host", status, seen_at=when)


@pytest.fixture
def two_regions(clock_at):
    heartbeats(T0)


def test_a_failure_only_one_region_sees_sends_no_alert_and_opens_no_ticket(
    two_regions, clock_at, save, monitor, email_channel
):
    save(outcome(monitor, at(0), True, region="us"))
    for minute in range(1, 6):
        # eu's path to the site is broken; us keeps seeing it up.
        clock_at.move_to(at(minute))
        heartbeats(at(minute))  # both probes keep running
        save(outcome(monitor, at(minute), False, region="eu"))
        save(outcome(monitor, at(minute + 0.1), False, region="eu"))  # eu's own re-check
        save(outcome(monitor, at(minute + 0.2), True, region="us"))  # us re-checks on request
    assert not Incident.objects.exists()
    assert not AlertDelivery.objects.exists()
    assert not Ticket.objects.exists()


def test_a_failure_both_regions_see_is_confirmed_alerted_and_ticketed(
    two_regions, clock_at, save, monitor, email_channel
):
    save(outcome(monitor, at(0), True, region="us"))
    clock_at.move_to(at(1))
    save(outcome(monitor, at(1), False, region="eu"))
    clock_at.move_to(at(1.1))
    save(outcome(monitor, at(1.1), False, region="us"))  # the re-check eu asked for
    incident = Incident.objects.get()
    assert incident.started_at == at(1) and incident.confirmed_at == at(1.1)
    assert AlertDelivery.objects.get().channel == email_channel
    ticket = Ticket.objects.get()
    assert ticket.alerted_at == at(1.1)
