"""Warnings reach the channels once, as warnings: no DOWN, no downtime ticket."""

from datetime import timedelta

import pytest

from caredesk.alerts import tasks
from caredesk.alerts.models import AlertDelivery, AlertEvent, DeliveryState
from caredesk.monitoring import heartbeats
from caredesk.monitoring.models import Incident, Kind, Monitor, MonitorWarning
from caredesk.tickets.models import Ticket

from .conftest import at, later, outcome

pytestmark = pytest.mark.django_db


def subject(mail) -> str:
    # A long subject with a dash is folded as encoded words; read it back as one line.
    return " ".join(str(mail.message["Subject"]).split())


@pytest.fixture
def backup(site_a, kijo, clock_at) -> Monitor:
    monitor = heartbeats.ensure_heartbeat(
        site_a, every=timedelta(hours=1), grace=timedelta(minutes=30)
    )
    return monitor


def test_an_expiring_certificate_is_one_warning_email_and_no_ticket(
    clock_at, save, monitor, mailbox, email_channel, hook_channel, hook
):
    for minute in range(5):
        clock_at.move_to(at(minute))
        save(outcome(monitor, at(minute), True, cert_days=9))
    assert not Incident.objects.exists() and not Ticket.objects.exists()
    later(clock_at, 10)
    assert tasks.deliver_alerts.call() == 2
    [mail] = mailbox.received
    assert subject(mail) == (
        "WARNING: Alpha shop: the TLS certificate of alpha.example expires in 9 days "
        "(warning below 14 days)"
    )
    assert "DOWN" not in mail.text
    assert "WARNING (1), nothing is down:" in mail.text
    [post] = hook.posts
    assert post["type"] == "warning"
    warning = MonitorWarning.objects.get()
    assert warning.alerted_at is not None
    # Still expiring at the next checks: nothing more is sent.
    clock_at.move_to(at(10))
    save(outcome(monitor, at(10), True, cert_days=8))
    later(clock_at, 10)
    assert tasks.deliver_alerts.call() == 0
    assert len(mailbox.received) == 1
    deliveries = AlertDelivery.objects.all()
    assert {d.event for d in deliveries} == {AlertEvent.WARNING}
    assert all(d.incident_id is None and d.warning_id == warning.pk for d in deliveries)


def test_a_channel_may_refuse_warnings(clock_at, save, monitor, mailbox, email_channel):
    email_channel.send_warnings = False
    email_channel.save()
    save(outcome(monitor, at(0), True, cert_days=3))
    later(clock_at, 10)
    tasks.deliver_alerts.call()
    assert mailbox.received == [] and not AlertDelivery.objects.exists()


def test_a_late_heartbeat_warns_then_is_down_with_a_ticket(
    clock_at, committing, backup, mailbox, email_channel
):
    with committing():
        heartbeats.ping(backup, agent="backup job")
    clock_at.move_to(at(61))
    with committing():
        heartbeats.run()
    later(clock_at, 10)
    tasks.deliver_alerts.call()
    [warning_mail] = mailbox.received
    assert subject(warning_mail).startswith(
        "WARNING: Alpha shop – Backup: heartbeat late: no ping since 2026-06-10 09:00 UTC"
    )
    assert not Ticket.objects.exists()
    clock_at.move_to(at(91))
    with committing():
        heartbeats.run()
    later(clock_at, 10)
    tasks.deliver_alerts.call()
    down_mail = mailbox.received[-1]
    assert down_mail.message["Subject"] == "DOWN: Alpha shop – Backup"
    assert "late: no ping since" in down_mail.text
    ticket = Ticket.objects.get()
    assert ticket.subject.startswith("Down: Alpha shop (Backup)")
    clock_at.move_to(at(100))
    with committing():
        heartbeats.ping(backup, agent="backup job")
    later(clock_at, 10)
    tasks.deliver_alerts.call()
    assert mailbox.received[-1].message["Subject"].startswith("UP: Alpha shop – Backup after")


def test_a_ping_within_the_grouping_window_cancels_the_warning(
    clock_at, committing, backup, mailbox, email_channel
):
    with committing():
        heartbeats.ping(backup)
    clock_at.move_to(at(61))
    with committing():
        heartbeats.run()
    later(clock_at, 2)
    with committing():
        heartbeats.ping(backup)  # the job was only a little late
    later(clock_at, 10)
    assert tasks.deliver_alerts.call() == 1  # the channel was served: nothing in it to send
    assert mailbox.received == []
    delivery = AlertDelivery.objects.get()
    assert delivery.state == DeliveryState.SUPPRESSED
    assert delivery.last_error == "cleared before it was sent"


def test_warnings_and_outages_waiting_together_are_one_message(
    clock_at, save, monitor, org_a, mailbox, email_channel
):
    other = Monitor.objects.create(
        site=monitor.site, kind=Kind.TLS, host="alpha.example", name="Certificate"
    )
    save(outcome(other, at(0), True, cert_days=2))
    save(outcome(monitor, at(0), False))
    save(outcome(monitor, at(0.05), False))
    later(clock_at, 10)
    tasks.deliver_alerts.call()
    [mail] = mailbox.received
    assert mail.message["Subject"] == "1 monitor down, 1 warning"
    assert mail.text.index("DOWN (1)") < mail.text.index("WARNING (1)")
