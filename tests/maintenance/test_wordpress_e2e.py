"""End to end against a real WordPress on loopback: inventory, update, log, roll back."""

import pytest

from caredesk.clients.models import Connection
from caredesk.maintenance import actions, connectors, signals, updates
from caredesk.maintenance.connectors import ItemRef
from caredesk.maintenance.models import (
    LogEntry,
    RunState,
    SiteMaintenance,
    StepAction,
    StepState,
    UpdateRun,
)

from . import wp_site

pytestmark = pytest.mark.django_db(transaction=True)

TEST = ItemRef("plugin", "caredesk-test")


def test_inventory_sees_core_php_plugins_themes_and_the_offered_update(wp, wp_site_row, staff):
    wp.updates.offer_version("1.1.0")

    snapshot = actions.take_inventory(wp_site_row, acting_user=staff)

    assert snapshot.core_version.startswith("6.")
    assert snapshot.php_version.startswith("8.")
    items = {(i.kind, i.slug): i for i in snapshot.items.all()}
    test_plugin = items[("plugin", "caredesk-test")]
    assert (test_plugin.version, test_plugin.update_version, test_plugin.active) == (
        "1.0.0",
        "1.1.0",
        True,
    )
    assert items[("plugin", "caredesk-connector")].version == "1.1.1"
    assert items[("theme", "caredesk-plain")].active
    assert SiteMaintenance.objects.get(site=wp_site_row).last_inventory_at == snapshot.taken_at


def test_update_run_backs_up_updates_checks_health_and_logs_from_to(wp, wp_site_row, staff):
    wp.updates.offer_version("1.1.0")
    actions.take_inventory(wp_site_row, acting_user=staff)

    run = actions.do_request_update_run(wp_site_row, acting_user=staff, items=[TEST])
    updates.execute(run.pk)

    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    steps = [(s.action, s.state) for s in run.steps.order_by("position")]
    assert steps == [
        (StepAction.BACKUP, StepState.DONE),
        (StepAction.UPDATE, StepState.DONE),
        (StepAction.HEALTH, StepState.DONE),
        (StepAction.INVENTORY, StepState.DONE),
    ]
    assert wp.installed_test_version() == "1.1.0"
    entry = LogEntry.objects.get(site=wp_site_row, slug="caredesk-test")
    assert (entry.from_version, entry.to_version, entry.change) == ("1.0.0", "1.1.0", "updated")
    assert entry.update_run == run
    assert str(entry) == "caredesk test plugin: 1.0.0 → 1.1.0"


def test_update_that_breaks_the_site_is_rolled_back_and_signalled(wp, wp_site_row, staff):
    wp.updates.offer_version("1.1.0", broken=True)  # a fatal error on every page
    actions.take_inventory(wp_site_row, acting_user=staff)
    heard = []

    def receiver(**kwargs):
        heard.append(kwargs)

    signals.update_failed.connect(receiver)
    try:
        run = actions.do_request_update_run(wp_site_row, acting_user=staff, items=[TEST])
        updates.execute(run.pk)
    finally:
        signals.update_failed.disconnect(receiver)

    run.refresh_from_db()
    assert run.state == RunState.ROLLED_BACK
    steps = [(s.action, s.state) for s in run.steps.order_by("position")]
    assert steps == [
        (StepAction.BACKUP, StepState.DONE),
        (StepAction.UPDATE, StepState.DONE),
        (StepAction.HEALTH, StepState.FAILED),
        (StepAction.ROLLBACK, StepState.DONE),
        (StepAction.HEALTH, StepState.DONE),
        (StepAction.INVENTORY, StepState.DONE),
    ]
    assert wp.installed_test_version() == "1.0.0"
    assert not LogEntry.objects.filter(site=wp_site_row, slug="caredesk-test").exists()
    assert len(heard) == 1 and heard[0]["rolled_back"] is True
    assert "health check failed" in heard[0]["summary"]


def test_retry_after_a_failed_backup_does_the_rest_once(wp, wp_site_row, staff):
    wp.updates.offer_version("1.1.0")
    actions.take_inventory(wp_site_row, acting_user=staff)
    right_key = wp_site_row.connection_secret
    wp_site_row.connection_secret = "f" * 64
    wp_site_row.save()
    run = actions.do_request_update_run(wp_site_row, acting_user=staff)  # all updates
    updates.execute(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert "signature" in run.error

    wp_site_row.connection_secret = right_key
    wp_site_row.save()
    actions.do_retry_update_run(run, acting_user=staff)
    updates.execute(run.pk)

    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.items == [{"kind": "plugin", "slug": "caredesk-test"}]
    backups = run.steps.filter(action=StepAction.BACKUP)
    assert [b.state for b in backups] == [StepState.FAILED, StepState.DONE]
    update_steps = run.steps.filter(action=StepAction.UPDATE)
    assert [u.state for u in update_steps] == [StepState.SKIPPED, StepState.DONE]
    assert wp.installed_test_version() == "1.1.0"

    # A third go finds nothing left to do: no second backup, no second update.
    UpdateRun.objects.filter(pk=run.pk).update(state=RunState.FAILED)
    run.refresh_from_db()
    actions.do_retry_update_run(run, acting_user=staff)
    updates.execute(run.pk)
    third = run.steps.filter(attempt=3)
    assert [s.action for s in third] == [StepAction.HEALTH]
    assert run.steps.filter(action=StepAction.BACKUP, state=StepState.DONE).count() == 1


def test_rest_connector_reads_plugins_themes_core_version_and_site_health(wp, wp_site_row):
    wp_site_row.connection = Connection.WP_REST
    wp_site_row.connection_user = "admin"
    wp_site_row.connection_secret = wp.app_password
    wp_site_row.save()

    snapshot = actions.take_inventory(wp_site_row)

    slugs = {(i.kind, i.slug, i.version) for i in snapshot.items.all()}
    assert ("plugin", "caredesk-test", "1.0.0") in slugs
    assert ("theme", "caredesk-plain", "1.0") in slugs
    # The core version from the feed's generator line; PHP's is not given by the API.
    installed = wp_site.installed_core_version()
    assert snapshot.core_version == installed
    assert ("core", "wordpress", installed) in slugs
    assert snapshot.php_version == ""
    tests = {t["test"]: t for t in snapshot.health}
    assert tests["https_status"]["status"] == "recommended"  # plain HTTP on loopback
    assert tests["loopback_requests"]["status"] == "good"
    assert tests["dotorg_communication"]["status"] == "critical"  # no network here
    assert tests["background_updates"]["badge"] == "Security"
    assert all(t["label"] for t in snapshot.health)


def test_wrong_companion_key_is_refused_and_recorded_on_the_site(wp, wp_site_row):
    wp_site_row.connection_secret = "0" * 64
    wp_site_row.save()

    with pytest.raises(connectors.AuthRefused, match="signature"):
        actions.take_inventory(wp_site_row)

    settings = SiteMaintenance.objects.get(site=wp_site_row)
    assert settings.last_error_kind == "auth"
    assert "signature does not match" in settings.last_error


def test_a_replayed_request_is_refused(wp, wp_site_row):
    from caredesk.lib import clock
    from caredesk.maintenance.connectors import http, signing

    route = "/caredesk/v1/inventory"
    body = b"{}"
    headers = signing.signed_headers(wp.key, int(clock.now().timestamp()), "POST", route, body)
    url = wp.url + "/?rest_route=" + route

    first = http.request("POST", url, headers=headers, body=body, allow_private=True)
    again = http.request("POST", url, headers=headers, body=body, allow_private=True)

    assert first.status == 200
    assert again.status == 401
    assert b"already received" in again.body


def test_an_old_timestamp_is_refused(wp):
    from caredesk.lib import clock
    from caredesk.maintenance.connectors import http, signing

    route = "/caredesk/v1/inventory"
    old = int(clock.now().timestamp()) - 3600
    headers = signing.signed_headers(wp.key, old, "POST", route, b"{}")
    answer = http.request(
        "POST", wp.url + "/?rest_route=" + route, headers=headers, body=b"{}", allow_private=True
    )
    assert answer.status == 401
    assert b"timestamp" in answer.body


def test_command_updates_a_real_site_and_prints_from_to(wp, wp_site_row, capsys):
    from django.core.management import call_command

    wp.updates.offer_version("1.1.0")
    call_command("maintenance", "inventory", "--site", str(wp_site_row.pk))
    call_command("maintenance", "update", "--site", str(wp_site_row.pk))
    call_command("maintenance", "log", "--site", str(wp_site_row.pk))

    out = capsys.readouterr().out
    assert "1 update(s) available" in out
    assert "Update caredesk test plugin: Done 1.0.0 → 1.1.0" in out
    assert "Succeeded" in out
    assert "caredesk test plugin: 1.0.0 → 1.1.0  (Update run" in out
