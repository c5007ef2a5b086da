"""`caredesk maintenance`: inventory, update with progress, retry, log."""

import pytest
from django.core.management import CommandError, call_command

from caredesk.maintenance import actions
from caredesk.maintenance.models import UpdateRun

from .helpers import INVENTORY, connected_site

pytestmark = pytest.mark.django_db


def test_inventory_prints_a_line_per_site(org_a, fake_site, capsys):
    fake_site.json("/caredesk/v1/inventory", INVENTORY)
    connected_site(org_a, fake_site.url)

    call_command("maintenance", "inventory")

    out = capsys.readouterr().out
    assert "WordPress 6.4.2, PHP 8.2.10, 3 items, 1 update(s) available" in out


def test_inventory_of_a_hanging_site_reports_it_and_fails(org_a, fake_site, settings):
    settings.CAREDESK_MAINTENANCE_TIMEOUT = 0.5
    fake_site.route("/caredesk/v1/inventory", hang=True)
    site = connected_site(org_a, fake_site.url)

    with pytest.raises(CommandError, match="1 site"):
        call_command("maintenance", "inventory", "--site", str(site.pk))


def test_unknown_site_and_bad_item_are_clear_errors(org_a, fake_site):
    connected_site(org_a, fake_site.url)
    with pytest.raises(CommandError, match="no site"):
        call_command("maintenance", "inventory", "--site", "https://nowhere.example/")
    with pytest.raises(CommandError, match="KIND:SLUG"):
        call_command("maintenance", "update", "--all-sites", "--item", "akismet")
    with pytest.raises(CommandError, match="--all-sites"):
        call_command("maintenance", "update")


def test_update_prints_each_step_and_fails_when_the_backup_fails(org_a, fake_site, capsys):
    fake_site.json("/caredesk/v1/backup", {"code": "x", "message": "Disk full"}, status=500)
    site = connected_site(org_a, fake_site.url)

    with pytest.raises(CommandError, match="did not succeed"):
        call_command("maintenance", "update", "--site", str(site.pk), "--item", "plugin:akismet")

    out = capsys.readouterr().out
    assert "Backup: Failed — the site answered HTTP 500: Disk full" in out
    assert "Update akismet: Skipped" in out
    assert UpdateRun.objects.get().state == "failed"


def test_log_prints_the_sites_log(site_a, staff, capsys):
    actions.do_log_work(site_a, acting_user=staff, name="Renewed the TLS certificate")
    call_command("maintenance", "log", "--site", str(site_a.pk))
    assert "Renewed the TLS certificate: Work done" in capsys.readouterr().out
