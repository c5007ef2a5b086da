"""The maintenance admin: lists load, actions act, the log takes hand-written lines only."""

import pytest
from django.urls import reverse

from caredesk.maintenance import actions
from caredesk.maintenance.connectors import Inventory, Item
from caredesk.maintenance.models import LogEntry, Snapshot, Source, UpdateRun

from .helpers import INVENTORY, connected_site

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["maintainedsite", "snapshot", "logentry", "updaterun"])
def test_the_lists_load(client, admin_user, site_a, model):
    actions.do_record_inventory(site_a, Inventory("6.4", "8.2", [Item("plugin", "a", "A", "1")]))
    actions.do_log_work(site_a, acting_user=admin_user, name="Checked forms")
    client.force_login(admin_user)
    response = client.get(reverse(f"admin:maintenance_{model}_changelist"))
    assert response.status_code == 200


def test_take_inventory_now_reads_the_site_and_reports(client, admin_user, org_a, fake_site):
    fake_site.json("/caredesk/v1/inventory", INVENTORY)
    site = connected_site(org_a, fake_site.url)
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:maintenance_maintainedsite_changelist"),
        {"action": "take_inventory_now", "_selected_action": [site.pk]},
        follow=True,
    )

    assert "inventory taken" in response.content.decode()
    assert Snapshot.objects.filter(site=site).count() == 1
    listing = client.get(reverse("admin:maintenance_maintainedsite_changelist")).content.decode()
    assert "6.4.2" in listing


def test_take_inventory_now_shows_the_sites_error(client, admin_user, org_a, fake_site):
    fake_site.route("/caredesk/v1/inventory", body=b"<html>parked</html>")
    site = connected_site(org_a, fake_site.url)
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:maintenance_maintainedsite_changelist"),
        {"action": "take_inventory_now", "_selected_action": [site.pk]},
        follow=True,
    )

    assert "did not answer in JSON" in response.content.decode()
    assert (
        "did not answer in JSON"
        in client.get(
            reverse("admin:maintenance_maintainedsite_change", args=[site.pk])
        ).content.decode()
    )


def test_run_updates_queues_a_run(client, admin_user, org_a, fake_site):
    site = connected_site(org_a, fake_site.url)
    client.force_login(admin_user)
    client.post(
        reverse("admin:maintenance_maintainedsite_changelist"),
        {"action": "run_updates", "_selected_action": [site.pk]},
    )
    run = UpdateRun.objects.get(site=site)
    assert run.all_items and run.requested_by == admin_user


def test_staff_add_a_log_line_and_cannot_edit_it(client, admin_user, site_a):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:maintenance_logentry_add"),
        {
            "site": site_a.pk,
            "kind": "plugin",
            "slug": "woocommerce",
            "name": "WooCommerce",
            "from_version": "8.0",
            "to_version": "8.1",
            "at_0": "2026-11-10",
            "at_1": "10:00:00",
            "note": "Done on the host's panel.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LogEntry.objects.get()
    assert (entry.source, entry.user, entry.to_version) == (Source.MANUAL, admin_user, "8.1")

    client.post(
        reverse("admin:maintenance_logentry_change", args=[entry.pk]),
        {
            "site": site_a.pk,
            "kind": "plugin",
            "name": "Changed",
            "at_0": "2026-11-10",
            "at_1": "10:00:00",
        },
    )
    delete = client.post(reverse("admin:maintenance_logentry_delete", args=[entry.pk]))
    assert delete.status_code == 403
    assert LogEntry.objects.get().name == "WooCommerce"


def test_retrying_a_succeeded_run_is_refused_with_a_message(client, admin_user, site_a):
    run = UpdateRun.objects.create(site=site_a, state="succeeded")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:maintenance_updaterun_changelist"),
        {"action": "retry", "_selected_action": [run.pk]},
        follow=True,
    )
    assert "Only a failed run can be retried" in response.content.decode()
