"""The security scan end to end: a real WordPress on loopback, the fixture feed, the command."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from caredesk.maintenance import actions, signals
from caredesk.maintenance.models import Finding, ScanRun, SiteMaintenance
from caredesk.maintenance.scan.run import scan_site

pytestmark = pytest.mark.django_db(transaction=True)

FEED = Path(__file__).parent / "feeds" / "wordfence-small.json"


def test_a_scan_finds_the_vulnerable_test_plugin_with_severity_cvss_and_fixed_in(
    wp, wp_site_row, staff
):
    call_command("maintenance", "import-feed", str(FEED))
    actions.take_inventory(wp_site_row, acting_user=staff)
    raised = []

    def heard(finding, site, scan, **kwargs):
        raised.append(finding.key)

    signals.finding_raised.connect(heard)
    try:
        scan = scan_site(wp_site_row, acting_user=staff)
    finally:
        signals.finding_raised.disconnect(heard)

    finding = scan.findings.get(item_slug="caredesk-test")
    assert finding.category == "vulnerability"
    assert finding.severity == "high"
    assert finding.cvss_score == Decimal("8.8")
    assert finding.installed_version == "1.0.0"
    assert finding.fixed_in == "1.0.1"
    assert "SQL Injection" in finding.title and "CVE-2099-10001" in finding.title
    assert finding.vulnerability.cve == "CVE-2099-10001"
    # The theme of the test site is in the feed too (no fix known).
    theme = scan.findings.get(item_slug="caredesk-plain")
    assert (theme.severity, theme.fixed_in) == ("medium", "")
    # What a real WordPress shows any visitor.
    keys = set(scan.findings.values_list("key", flat=True))
    assert {"tls:none", "xmlrpc:open", "disclosure:generator", "disclosure:readme"} <= keys
    assert "enumeration:rest-users" in keys  # admin has a published post
    assert scan.checks_done[0] == "versions" and scan.notes == ""
    assert finding.key in raised
    settings = SiteMaintenance.objects.get(site=wp_site_row)
    assert settings.next_scan_at > scan.finished_at


def test_a_plugin_updated_past_the_fix_is_no_longer_found(wp, wp_site_row, staff):
    call_command("maintenance", "import-feed", str(FEED))
    wp.put_test_plugin("1.0.1")
    actions.take_inventory(wp_site_row, acting_user=staff)

    scan = scan_site(wp_site_row)

    assert not scan.findings.filter(item_slug="caredesk-test").exists()


def test_the_scan_command_prints_progress_and_the_serious_findings(wp, wp_site_row, capsys):
    call_command("maintenance", "import-feed", str(FEED))
    actions.take_inventory(wp_site_row)

    call_command("maintenance", "scan", "--site", str(wp_site_row.pk))

    out = capsys.readouterr().out
    assert "6 vulnerabilities imported." in out
    assert "versions: the inventory of" in out
    assert "  user enumeration…" in out
    assert "[High] caredesk test plugin <= 1.0.0" in out
    assert "CVSS 8.8, fixed in 1.0.1" in out
    assert ScanRun.objects.filter(site=wp_site_row).count() == 1
    assert Finding.objects.filter(site=wp_site_row, severity="high").exists()
