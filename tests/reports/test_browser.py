"""The report's email and the staff preview, in Debian's Chromium: pictures show, nothing
overflows."""

import base64
import os
from pathlib import Path

import pytest

from caredesk.reports.actions import do_build_reports, do_set_intro

# The Playwright driver talks to Chromium from its own event loop; Django's
# async-safety guard would otherwise refuse the test's database calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Set CAREDESK_SCREENSHOTS=docs/screenshots to refresh the documentation's pictures.
SHOTS = os.environ.get("CAREDESK_SCREENSHOTS", "")


def as_mail_client_shows_it(report) -> str:
    """The HTML with each cid: picture swapped for its bytes, as a mail client resolves them."""
    html = report.html
    for image in report.images.all():
        data = base64.b64encode(bytes(image.png)).decode("ascii")
        html = html.replace(f"cid:{image.content_id}", f"data:image/png;base64,{data}")
    return html


@pytest.fixture
def report(october, org_a, staff):
    [report] = do_build_reports(2026, 10, organisations=[org_a.pk])
    return do_set_intro(
        report,
        "Hello Mia, a quiet month apart from the shop's half-hour outage on the 14th "
        "(a hosting fault, fixed the same morning).",
        acting_user=staff,
    )


def test_email_reads_well_wide_and_on_a_phone(browser, report, tmp_path):
    folder = Path(SHOTS or tmp_path)
    html = as_mail_client_shows_it(report)
    for name, width in (("report-email.png", 760), ("report-email-phone.png", 390)):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_content(html, wait_until="load")
        assert page.title() == "October 2026 maintenance report"
        loaded = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
        )
        assert loaded and all(loaded)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow}px wider than a {width}px screen"
        assert page.get_by_text("99.93 %").first.is_visible()
        page.screenshot(path=str(folder / name), full_page=True)
        context.close()


@pytest.mark.django_db(transaction=True)
def test_staff_preview_in_the_desks_look_with_working_source_links(
    live_server, page, report, october, admin_user, password, tmp_path
):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", admin_user.email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/reports/{report.pk}/")
    assert page.get_by_role("heading", name="Monthly report: October 2026").is_visible()
    assert page.locator("svg.chart").count() == 1
    page.screenshot(path=str(Path(SHOTS or tmp_path) / "report-preview.png"), full_page=True)
    number = october["tickets"]["checkout"].number
    page.get_by_role("link", name=f"#{number}").click()
    page.wait_for_url(f"{live_server.url}/tickets/{number}/")
    assert "Checkout button does nothing" in page.content()
