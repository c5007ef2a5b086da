"""Last month of the demo, built by the code that builds real months, reported on.

The demo writes October through the real actions with the clock replayed:
inventories that find updates, scans against a small vulnerability feed, a
month of uptime checks with two real outages (confirmed, ticketed, answered,
recovered), tickets raised, answered, solved, and time logged. The report of
that month must say all of it, and its PDF and email must read well.
"""

import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from caredesk.clients.models import Organisation
from caredesk.ops.demo import load_demo
from caredesk.reports.actions import do_build_reports

from .test_browser import as_mail_client_shows_it

SHOTS = os.environ.get("CAREDESK_SCREENSHOTS", "")
NOW = datetime(2026, 11, 3, 10, 0, tzinfo=ZoneInfo("Europe/London"))

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def harbour(staff):
    with time_machine.travel(NOW, tick=False):
        load_demo()
        organisation = Organisation.objects.get(name="Harbour Bakery Ltd")
        [report] = do_build_reports(2026, 10, organisations=[organisation.pk], acting_user=staff)
    return report


def test_the_demo_month_has_updates_a_scan_an_incident_tickets_and_time(harbour):
    [site] = harbour.facts["sites"]
    m = site["maintenance"]
    assert [(c["from"], c["to"]) for c in m["core"]] == [("6.6.1", "6.6.2")]
    assert {p["name"] for p in m["plugins"]} == {"Contact Form 7", "WooCommerce", "Yoast SEO"}
    assert [p["name"] for p in m["pending"]] == ["WooCommerce Stripe Gateway"]
    # The scan on the 3rd found the vulnerable Contact Form 7; the update on the 9th fixed it.
    assert m["scan"]["open"] == [] and len(m["scan"]["fixed"]) == 1
    assert "Contact Form 7" in m["scan"]["fixed"][0]["title"]
    [incident] = site["uptime"]["incidents"]
    assert incident["seconds"] == 38 * 60 and incident["cause"].startswith("status")
    assert 99.8 < site["uptime"]["percent"] < 100
    subjects = {t["subject"] for t in site["support"]["tickets"]}
    assert "Checkout button does nothing on mobile" in subjects
    assert any(s.startswith("Down: Harbour Bakery") for s in subjects)
    assert site["support"]["sla_missed"] <= 1 and site["support"]["sla_met"] >= 6
    assert harbour.facts["hours"]["billable"] > 0  # the gift cards are not in KIJO Care
    backups = m["backups"]
    assert [b["trigger"] for b in backups["taken"]] == ["schedule", "update_run"]
    assert backups["verified"] == 2 and backups["failed"] == 0


def test_a_restore_asked_for_in_a_ticket_is_in_the_clients_report(staff):
    with time_machine.travel(NOW, tick=False):
        load_demo()
        fenwick = Organisation.objects.get(name="Fenwick Dental Practice")
        [report] = do_build_reports(2026, 10, organisations=[fenwick.pk], acting_user=staff)
    site = next(s for s in report.facts["sites"] if s["name"] == "Fenwick Dental")
    [restore] = site["maintenance"]["backups"]["restores"]
    assert restore["ok"] is True and restore["ticket"] is not None
    assert "Restored on 20 Oct" in report.html and f"ticket #{restore['ticket']}" in report.html


def test_the_demo_months_pdf_and_email_read_well(harbour, browser, tmp_path):
    folder = Path(SHOTS or tmp_path)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(bytes(harbour.pdf))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for words in ("Monthly report: October 2026", "6.6.1 → 6.6.2", "all clear", "HTTP 503"):
        assert words in text, words
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 1 <= len(pages) <= 3
    for index, page in enumerate(pages, start=1):
        if SHOTS:
            shutil.copy(page, folder / f"report-demo-pdf-{index}.png")
    context = browser.new_context(viewport={"width": 760, "height": 900})
    page = context.new_page()
    page.set_content(as_mail_client_shows_it(harbour), wait_until="load")
    assert page.get_by_text("WordPress maintenance").first.is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.screenshot(path=str(folder / "report-demo-email.png"), full_page=True)
    context.close()
