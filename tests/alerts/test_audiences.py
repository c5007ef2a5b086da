"""Who hears of which incident: agency on-call (all or some clients), a client's contacts."""

import pytest

from caredesk.alerts import delivery
from caredesk.alerts.actions import channels_for
from caredesk.alerts.models import AlertChannel, AlertDelivery, ChannelKind
from caredesk.monitoring.models import Monitor
from caredesk.tickets.models import Ticket

from .conftest import client_channel, later

pytestmark = pytest.mark.django_db


def test_agency_channels_hear_of_every_client_or_only_those_listed(org_a, org_b):
    everyone = AlertChannel.objects.create(name="All", kind=ChannelKind.EMAIL, target="a@x.example")
    only_b = AlertChannel.objects.create(
        name="B only", kind=ChannelKind.EMAIL, target="b@x.example"
    )
    only_b.only_organisations.add(org_b)
    off = AlertChannel.objects.create(
        name="Off", kind=ChannelKind.EMAIL, target="c@x.example", enabled=False
    )
    a_contacts = client_channel(org_a, target="it@alpha.example")
    b_contacts = client_channel(org_b, target="it@beta.example")
    assert list(channels_for(org_a.pk)) == [everyone, a_contacts]
    assert list(channels_for(org_b.pk)) == [everyone, only_b, b_contacts]
    assert off not in channels_for(org_a.pk)


def test_a_client_channel_gets_its_own_site_in_its_own_words(
    clock_at, feed_down, monitor, org_a, org_b, site_b, mailbox, manager_a, email_channel
):
    client_channel(org_a)  # no addresses: the client's managers
    client_channel(org_b, target="it@beta.example")
    feed_down(monitor, "+--")
    later(clock_at, 10)
    delivery.run()
    ticket = Ticket.objects.get()
    [agency] = mailbox.to("oncall@agency.example")
    [client] = mailbox.to("mia@alpha.example")
    assert mailbox.to("it@beta.example") == []
    assert ticket.reference in agency.text and "Alpha Bakery" in agency.text
    assert ticket.reference not in client.text  # staff links stay with staff
    assert "Alpha shop" in client.text and "(Alpha Bakery)" not in client.text
    assert "Times are Europe/London" in client.text


def test_a_client_channel_never_mixes_in_another_clients_sites(
    clock_at, feed_down, monitor, org_a, site_b, hook
):
    client_channel(org_a, kind=ChannelKind.APPRISE, target=hook.url)
    feed_down(monitor, "+--")
    feed_down(Monitor.objects.get(site=site_b), "+--")
    later(clock_at, 10)
    delivery.run()
    [post] = hook.posts
    assert "Alpha shop" in post["message"] and "Beta" not in post["message"]
    assert AlertDelivery.objects.count() == 1


def test_recoveries_go_only_where_they_are_wanted(clock_at, feed_down, monitor, hook):
    AlertChannel.objects.create(
        name="Pager", kind=ChannelKind.APPRISE, target=hook.url, send_recoveries=False
    )
    feed_down(monitor, "+--++")
    assert list(AlertDelivery.objects.values_list("event", flat=True)) == ["down"]
