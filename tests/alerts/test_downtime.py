"""The downtime ticket: opened once, clock from the alert; flapping reuses it; recovery noted."""

from datetime import timedelta

import pytest

from caredesk.alerts import delivery
from caredesk.alerts.actions import do_record_down
from caredesk.alerts.downtime import downtime_priority, duration
from caredesk.alerts.models import IncidentTicket
from caredesk.alerts.system import EMAIL
from caredesk.clients.models import Site
from caredesk.monitoring.models import Incident, Kind, Monitor
from caredesk.sla.models import BusinessCalendar, Priority
from caredesk.tickets.actions import do_change_status
from caredesk.tickets.models import Channel, MessageKind, SlaClock, Status, Ticket

from .conftest import at, later, outcome

pytestmark = pytest.mark.django_db


def notes(ticket: Ticket) -> list[str]:
    return list(
        ticket.messages.filter(kind=MessageKind.INTERNAL_NOTE).values_list("body", flat=True)
    )


def test_downtime_opens_one_critical_ticket_with_the_clock_from_the_alert(
    clock_at, save, monitor, org_a
):
    save(outcome(monitor, at(0), True))
    save(outcome(monitor, at(1), False))
    clock_at.move_to(at(5))  # the probe wrote the confirming result late
    save(outcome(monitor, at(2), False))
    incident = Incident.objects.get()
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.MONITOR
    assert ticket.organisation == org_a and ticket.site == monitor.site
    assert ticket.priority.code == "downtime" and ticket.priority.is_critical
    assert ticket.alerted_at == incident.confirmed_at == at(2)
    first_response = SlaClock.objects.get(ticket=ticket, kind="first_response")
    # KIJO: "2 hours from when our team is alerted" (Wednesday 10:02 in London, business hours).
    assert first_response.started_at == at(2)
    assert first_response.due_at == at(2) + timedelta(hours=2)
    assert IncidentTicket.objects.get().ticket == ticket
    assert ticket.subject == "Down: Alpha shop (Alpha shop – HTTP(S) https://alpha.example/)"
    assert "Cause: status: HTTP 500 (expected 200-399)" in ticket.messages.first().body
    incident.refresh_from_db()
    assert incident.timeline[-1]["event"] == "ticket_opened"
    assert incident.timeline[-1]["detail"] == ticket.reference


def test_a_flapping_site_reuses_its_ticket_and_says_it_is_down_again(clock_at, feed_down, monitor):
    feed_down(monitor, "+--++--")
    incident = Incident.objects.get()
    assert incident.reopened == 1
    ticket = Ticket.objects.get()
    assert notes(ticket)[0].startswith("Recovered:")
    assert notes(ticket)[1].startswith("Down again at")
    assert "come back 1 time)" in notes(ticket)[1]
    assert [e["event"] for e in incident.timeline].count("ticket_reused") == 1


def test_a_solved_ticket_is_reopened_when_its_site_flaps(clock_at, feed_down, monitor, staff):
    feed_down(monitor, "+--++")
    ticket = Ticket.objects.get()
    do_change_status(ticket, Status.SOLVED, acting_user=staff)
    feed_down(monitor, "--", start=5)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert Ticket.objects.count() == 1


def test_recovery_notes_the_downtime_on_the_ticket(clock_at, feed_down, monitor):
    feed_down(monitor, "+---++")  # failing from minute 1, first good check at minute 4
    ticket = Ticket.objects.get()
    [note] = notes(ticket)
    assert note.startswith("Recovered: ")
    assert "Downtime: 3 min (from the first failed check" in note
    assert ticket.messages.last().author_user.email == EMAIL


def test_recovery_after_flapping_gives_this_stretch_and_the_total(clock_at, feed_down, monitor):
    feed_down(monitor, "+--++---++")
    last = notes(Ticket.objects.get())[-1]
    assert "Downtime: 3 min " in last
    assert "In all 5 min down over 2 outages" in last


def test_a_second_monitor_of_the_same_site_joins_the_open_ticket(
    clock_at, feed_down, monitor, site_a
):
    tls = Monitor.objects.create(site=site_a, kind=Kind.TLS, host="alpha.example")
    feed_down(monitor, "+--")
    feed_down(tls, "+--")
    ticket = Ticket.objects.get()
    assert IncidentTicket.objects.filter(ticket=ticket).count() == 2
    assert notes(ticket)[0].startswith("Also down: Uptime monitoring confirmed Alpha shop down.")


def test_another_sites_outage_opens_its_own_ticket(clock_at, feed_down, monitor, org_a):
    other = Site.objects.create(
        organisation=org_a, name="Alpha blog", url="https://blog.alpha.example/"
    )
    feed_down(monitor, "+--")
    feed_down(Monitor.objects.get(site=other), "+--")
    assert Ticket.objects.count() == 2


def test_a_policy_without_a_monitoring_priority_uses_its_most_urgent_critical_one(kijo, org_a):
    Priority.objects.filter(policy=kijo, code="downtime").update(for_monitor=False)
    assert downtime_priority(org_a.pk).code == "downtime"  # rank 1 and critical
    Priority.objects.filter(policy=kijo, code="downtime").delete()
    assert downtime_priority(org_a.pk).code == "critical"


def test_a_client_without_plan_or_default_policy_still_gets_a_ticket(clock_at, feed_down, site_b):
    feed_down(Monitor.objects.get(site=site_b), "+--")
    ticket = Ticket.objects.get()
    assert ticket.priority is None and ticket.alerted_at == at(2)


def test_recording_the_same_confirmation_twice_keeps_one_ticket(clock_at, feed_down, monitor):
    feed_down(monitor, "+--")
    do_record_down(Incident.objects.get().pk, reopened=True)
    assert Ticket.objects.count() == 1


def test_durations_read_the_way_people_say_them():
    assert duration(40) == "40 s"
    assert duration(250) == "4 min 10 s"
    assert duration(3900) == "1 h 5 min"
    assert duration(90000) == "1 d 1 h"
    assert duration(0) == "0 s"


def test_a_ticket_that_cannot_be_opened_does_not_cost_the_alert(
    clock_at, feed_down, monitor, kijo, hook_channel, hook
):
    # A calendar broken behind the admin's back: the SLA clocks cannot be computed.
    BusinessCalendar.objects.filter(pk=kijo.calendar_id).update(
        spec={"timezone": "Mars/Olympus_Mons", "hours": {}}
    )
    feed_down(monitor, "+--")
    incident = Incident.objects.get()
    assert Ticket.objects.count() == 0
    assert [e["event"] for e in incident.timeline][-2:] == ["ticket_failed", "alert_queued"]
    later(clock_at, 10)
    delivery.run()
    assert len(hook.posts) == 1
