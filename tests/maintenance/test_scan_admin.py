"""The scans' admin: read-only lists with filters, the feed's upload form, "Scan now"."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from caredesk.maintenance import actions
from caredesk.maintenance.connectors import Inventory, Item
from caredesk.maintenance.models import Finding, Vulnerability
from caredesk.maintenance.scan import feed
from caredesk.maintenance.scan.found import Found
from caredesk.maintenance.scan.run import scan_site

pytestmark = pytest.mark.django_db

FEED = Path(__file__).parent / "feeds" / "wordfence-small.json"


def _scan(site, *found):
    from caredesk.lib import clock

    return actions.do_record_scan(
        site, list(found), started_at=clock.now(), snapshot=None, checks_done=[], notes=[]
    )


def _finding(key="tls:none", severity="medium", title="No HTTPS"):
    return Found(key=key, category=key.split(":")[0], severity=severity, title=title)


@pytest.mark.parametrize("model", ["scanrun", "finding", "vulnerability"])
def test_the_lists_load_for_an_agent_and_cannot_be_edited(client, staff, site_a, model):
    feed.import_feed(FEED.read_bytes())
    _scan(site_a, _finding())
    client.force_login(staff)

    listing = client.get(reverse(f"admin:maintenance_{model}_changelist"))

    assert listing.status_code == 200
    row = {"scanrun": lambda: site_a.scans.get(), "finding": Finding.objects.first}.get(
        model, Vulnerability.objects.first
    )()
    page = client.get(reverse(f"admin:maintenance_{model}_change", args=[row.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_the_open_filter_shows_only_the_latest_scans_findings(client, staff, site_a):
    _scan(site_a, _finding("xmlrpc:open", "low", "xmlrpc.php answers"))
    _scan(site_a, _finding("tls:none", "medium", "No HTTPS"))
    client.force_login(staff)

    page = client.get(reverse("admin:maintenance_finding_changelist") + "?open=yes")
    text = page.content.decode()
    assert "No HTTPS" in text and "xmlrpc.php answers" not in text
    earlier = client.get(reverse("admin:maintenance_finding_changelist") + "?open=no")
    assert "xmlrpc.php answers" in earlier.content.decode()


def test_a_scan_lists_its_findings_by_severity(client, staff, site_a):
    _scan(site_a, _finding("a:1", "critical", "One"), _finding("b:2", "low", "Two"))
    client.force_login(staff)
    text = client.get(reverse("admin:maintenance_scanrun_changelist")).content.decode()
    assert "1 critical, 1 low" in text


def test_uploading_a_feed_imports_it_and_says_what_was_skipped(client, staff):
    client.force_login(staff)
    data = FEED.read_bytes().replace(b'"title": "Contact Form 7', b'"titled": "Contact Form 7', 1)

    response = client.post(
        reverse("admin:maintenance_vulnerability_add"),
        {"file": SimpleUploadedFile("feed.json", data, content_type="application/json")},
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert "5 vulnerabilities imported, 1 records skipped" in text
    assert "8a0f3b55-2c1d-4e77-b6a0-5e9d3c2b1f02: no title" in text
    assert Vulnerability.objects.count() == 5


def test_a_file_that_is_not_a_feed_is_shown_back_with_the_reason(client, staff):
    client.force_login(staff)
    response = client.post(
        reverse("admin:maintenance_vulnerability_add"),
        {"file": SimpleUploadedFile("feed.json", b"<html>oops</html>")},
    )
    assert response.status_code == 200
    assert "not a JSON file" in response.content.decode()
    assert Vulnerability.objects.count() == 0


def test_the_upload_page_is_not_for_clients(client, manager_a):
    client.force_login(manager_a)
    response = client.get(reverse("admin:maintenance_vulnerability_add"))
    assert response.status_code == 302  # to the admin's login


def test_scan_now_queues_a_scan_that_a_worker_runs(
    client, staff, org_a, django_capture_on_commit_callbacks
):
    from .helpers import connected_site
    from .scan_site import ScanSite

    server = ScanSite().start()
    try:
        site = connected_site(org_a, server.url)
        actions.do_record_inventory(
            site, Inventory("6.4.2", "8.2", [Item("plugin", "akismet", "Akismet", "5.3")])
        )
        client.force_login(staff)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("admin:maintenance_maintainedsite_changelist"),
                {"action": "scan_now", "_selected_action": [site.pk]},
                follow=True,
            )
        assert "security scan queued" in response.content.decode()
        queued = DBTaskResult.objects.get(task_path="caredesk.maintenance.tasks.scan_site")
        assert queued.args_kwargs["args"] == [site.pk, staff.pk]

        from caredesk.maintenance import tasks

        tasks.scan_site.call(site.pk, staff.pk)
        scan = site.scans.get()
        assert scan.requested_by == staff
        assert "tls:none" in set(scan.findings.values_list("key", flat=True))
    finally:
        server.stop()


def test_scan_site_notes_a_site_without_inventory(org_a):
    from .helpers import connected_site
    from .scan_site import ScanSite

    server = ScanSite().start()
    try:
        site = connected_site(org_a, server.url)
        scan = scan_site(site)
    finally:
        server.stop()
    assert scan.notes.startswith("versions: not checked (no inventory")
    assert "versions" not in scan.checks_done
