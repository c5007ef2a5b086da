"""`caredesk maintenance scan | import-feed`: progress, due scans, clear errors."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from caredesk.maintenance.models import ScanRun, SiteMaintenance

from .helpers import connected_site
from .scan_site import ScanSite

pytestmark = pytest.mark.django_db

FEED = Path(__file__).parent / "feeds" / "wordfence-small.json"


@pytest.fixture
def web():
    server = ScanSite().start()
    yield server
    server.stop()


def test_import_feed_prints_progress_and_what_it_skipped(tmp_path, capsys):
    broken = tmp_path / "feed.json"
    broken.write_bytes(FEED.read_bytes().replace(b'"title": "Old Slider', b'"nope": "x', 1))

    call_command("maintenance", "import-feed", str(broken))

    out = capsys.readouterr().out
    assert "Reading" in out and "KB)…" in out
    assert "  stored 5 of 5" in out
    assert "5 vulnerabilities imported, 1 records skipped." in out
    assert "  skipped f9e8d7c6-b5a4-4f3e-9d2c-1b0a9f8e7d06: no title" in out


@pytest.mark.parametrize(
    ("content", "message"), [(None, "cannot read"), (b"{oops", "not a JSON file")]
)
def test_import_feed_says_what_is_wrong_with_the_file(tmp_path, content, message):
    path = tmp_path / "feed.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("maintenance", "import-feed", str(path))


def test_scan_due_scans_the_sites_whose_time_has_come(org_a, web, capsys):
    due = connected_site(org_a, web.url)
    later = connected_site(org_a, web.url + "later/", name="Later")
    SiteMaintenance.objects.filter(site=later).update(scan_days=0)

    call_command("maintenance", "scan", "--due")

    out = capsys.readouterr().out
    assert f"{due} ({due.url}):" in out
    assert "  xmlrpc…" in out
    assert "1 due site(s) scanned." in out
    assert ScanRun.objects.filter(site=due).count() == 1
    assert not ScanRun.objects.filter(site=later).exists()


def test_scan_needs_sites_or_due():
    with pytest.raises(CommandError, match="--site"):
        call_command("maintenance", "scan")


def test_scan_of_a_site_prints_a_summary_and_notes(org_a, web, capsys):
    site = connected_site(org_a, web.url)
    call_command("maintenance", "scan", "--site", str(site.pk))
    out = capsys.readouterr().out
    assert "  1 finding: 1 medium" in out  # no HTTPS (the home page is a 404: no headers judged)
    assert "note: versions: not checked (no inventory of this site yet)" in out
