"""Scheduled inventories: due sites, one a step, errors recorded, nobody twice."""

from datetime import timedelta

import pytest
import time_machine

from caredesk.lib import clock
from caredesk.maintenance import jobs
from caredesk.maintenance.models import SiteMaintenance, Snapshot

from .helpers import INVENTORY, connected_site

pytestmark = pytest.mark.django_db


def test_a_connected_site_is_inventoried_then_not_due_until_its_interval(org_a, fake_site):
    fake_site.json("/caredesk/v1/inventory", INVENTORY)
    site = connected_site(org_a, fake_site.url)

    assert jobs.inventory_step() is True
    assert jobs.inventory_step() is False
    assert Snapshot.objects.filter(site=site).count() == 1
    settings = SiteMaintenance.objects.get(site=site)
    assert settings.next_inventory_at == settings.last_inventory_at + timedelta(hours=24)

    with time_machine.travel(clock.now() + timedelta(hours=25)):
        assert jobs.take_due_inventories() == 1


def test_an_unreachable_site_is_recorded_and_retried_within_the_hour(org_a, fake_site):
    fake_site.route("/caredesk/v1/inventory", status=503, body=b"maintenance")
    site = connected_site(org_a, fake_site.url)
    other = connected_site(org_a, fake_site.url.replace("127.0.0.1", "localhost"), name="Other")

    assert jobs.take_due_inventories() == 2

    settings = SiteMaintenance.objects.get(site=site)
    assert settings.last_error_kind == "bad_answer"
    assert settings.next_inventory_at <= clock.now() + timedelta(hours=1)
    assert SiteMaintenance.objects.get(site=other).last_error


def test_unconnected_and_switched_off_sites_are_not_due(org_a, site_a, fake_site):
    site = connected_site(org_a, fake_site.url)
    SiteMaintenance.objects.filter(site=site).update(inventory_hours=0)
    assert jobs.take_due_inventories() == 0
    assert fake_site.requests == []
