"""A site whose server is down alerts nobody and opens no ticket: the server's incident does."""

import pytest

from caredesk.alerts import delivery
from caredesk.alerts.models import AlertDelivery, DeliveryState
from caredesk.clients.models import Site
from caredesk.lib import clock
from caredesk.monitoring.models import Incident, Kind, Monitor
from caredesk.tickets.models import Ticket

from .conftest import at, later, outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def server(site_a):
    """The TCP monitor of the server Alpha's sites run on."""
    return Monitor.objects.create(site=site_a, kind=Kind.TCP, host="srv1.alpha.example", port=22)


@pytest.fixture
def blog(org_a, server, kijo):
    site = Site.objects.create(
        organisation=org_a, name="Alpha blog", url="https://blog.alpha.example/"
    )
    monitor = Monitor.objects.get(site=site)
    monitor.depends_on = server
    monitor.save()
    return monitor


def test_a_childs_incident_while_its_parent_is_down_is_suppressed_and_noted(
    clock_at, feed_down, server, blog, hook_channel, hook
):
    feed_down(server, "+--")
    feed_down(blog, "+--", start=1)
    child = Incident.objects.get(monitor=blog)
    assert child.timeline[-1]["event"] == "suppressed"
    assert child.timeline[-1]["detail"] == f"depends on {server}, which is down"
    assert Ticket.objects.count() == 1  # the server's
    assert AlertDelivery.objects.filter(incident=child).count() == 0
    later(clock_at, 120)
    delivery.run()
    assert len(hook.posts) == 1 and "srv1.alpha.example:22" in hook.posts[0]["message"]


def test_a_suppressed_childs_recovery_is_silent_too(
    clock_at, feed_down, server, blog, hook_channel, hook
):
    feed_down(server, "+--")
    feed_down(blog, "+--++", start=1)
    assert AlertDelivery.objects.filter(incident__monitor=blog).count() == 0


def test_a_child_confirmed_just_before_its_parent_is_dropped_at_sending(
    clock_at, save, server, blog, hook_channel, hook
):
    save(outcome(server, at(0), True), outcome(blog, at(0), True))
    clock_at.move_to(at(1))
    save(outcome(blog, at(1), False), outcome(server, at(1), False))
    clock_at.move_to(at(1.1))
    save(outcome(blog, at(1.1), False))  # the child is confirmed first
    assert AlertDelivery.objects.get(incident__monitor=blog).state == DeliveryState.PENDING
    clock_at.move_to(at(1.2))
    save(outcome(server, at(1.2), False))
    later(clock_at, 10)
    delivery.run()
    child = AlertDelivery.objects.get(incident__monitor=blog)
    assert child.state == DeliveryState.SUPPRESSED
    assert len(hook.posts) == 1
    assert "srv1.alpha.example" in hook.posts[0]["message"]
    assert "Alpha blog" not in hook.posts[0]["message"]
    events = [e["event"] for e in Incident.objects.get(monitor=blog).timeline]
    assert events[-1] == "suppressed"


def test_a_childs_alert_waits_while_its_parent_is_failing_but_not_yet_confirmed(
    clock_at, save, server, blog, hook_channel, hook
):
    save(outcome(server, at(0), True), outcome(blog, at(0), True))
    clock_at.move_to(at(0.6))
    save(outcome(blog, at(0.5), False))
    save(outcome(blog, at(0.6), False), outcome(server, at(0.6), False))  # parent's 1st failure
    later(clock_at, 10)
    delivery.run()
    assert hook.posts == []
    assert AlertDelivery.objects.get().state == DeliveryState.PENDING
    save(outcome(server, clock.now(), True))  # only a blip: the site itself is down
    later(clock_at, 5)
    delivery.run()
    assert len(hook.posts) == 1 and "Alpha blog" in hook.posts[0]["message"]


def test_a_child_alerts_normally_while_its_parent_is_up(
    clock_at, feed_down, server, blog, hook_channel, hook
):
    feed_down(server, "+")
    feed_down(blog, "+--")
    assert Ticket.objects.get().site == blog.site
    later(clock_at, 200)
    delivery.run()
    assert len(hook.posts) == 1


def test_monitors_cannot_depend_on_each_other_in_a_loop(server, blog):
    from django.core.exceptions import ValidationError

    server.depends_on = blog
    with pytest.raises(ValidationError, match="depend on each other"):
        server.full_clean()
