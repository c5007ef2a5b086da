"""The report as email (HTML, text, subject) and as PDF, rendered from the stored facts."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from caredesk.reports import render
from caredesk.reports.actions import do_build_reports, do_set_intro

# Set CAREDESK_SCREENSHOTS=docs/screenshots to refresh the documentation's pictures.
SHOTS = os.environ.get("CAREDESK_SCREENSHOTS", "")


@pytest.fixture
def report(october, org_a):
    return do_build_reports(2026, 10, organisations=[org_a.pk])[0]


def test_percent_never_rounds_down_time_up_to_a_full_hundred():
    assert render.percent(99.9999) == "99.99 %"
    assert render.percent(100.0) == "100 %"
    assert render.percent(99.93288) == "99.93 %"
    assert render.percent(None) == "not monitored"


def test_durations_round_up_to_the_minute():
    assert render.duration(20) == "1 min"
    assert render.duration(1800) == "30 min"
    assert render.duration(3900) == "1 h 05"


def test_email_html_is_inline_styled_without_scripts_and_names_its_pictures_by_cid(report):
    html = report.html
    assert "<script" not in html and "<style" not in html and "<link" not in html
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    assert cids == {image.content_id for image in report.images.all()}
    assert "<svg" not in html  # Gmail and Outlook show no inline SVG


def test_email_shows_the_months_figures_in_words(report, october):
    html = report.html
    for text in (
        "Monthly report: October 2026",
        "99.93 %",
        "30 min down",
        "valid until 15 December 2026 (45 days left)",
        "KIJO Care does not count included work against an allowance of hours",
        f"Ticket #{october['tickets']['checkout'].number} passed the 2 h fair-usage limit"
        " in October 2026: 2 h 30",
        "New feature is not included in KIJO Care: 45 min",
        "1 h business time",  # the client's median first response
        "6 h 30 business time",  # the shop's
        "updated 6.6.1 → 6.6.2 on 12 Oct",  # WordPress core, from the maintenance log
        "9.1.0 → 9.1.2",  # WooCommerce
        "Contact Form 7 5.9 → 5.9.3",  # still pending at the month's end
        "1 high</span> open after the scan on 20 Oct",
        "Update to 5.9.3.",
        "Fixed this month: xmlrpc.php answers.",
        "Cleared 1 200 spam comments",
    ):
        assert text in html, text
    assert "/admin/" not in html and "/tickets/" not in html  # no staff links for clients


def test_text_part_and_subject_say_the_same(report):
    text = render.email_text(report)
    assert "Uptime: 99.93 %, 30 min down" in text
    assert "WordPress core: updated 6.6.1 → 6.6.2 on 12 Oct" in text
    assert "- WooCommerce: 9.1.0 → 9.1.2 (12 Oct)" in text
    assert "Security scan: 1 high open after the scan on 20 Oct" in text
    assert "&amp;" not in text and "&lt;" not in text
    assert not re.search(r"<[a-z/!]", text)  # no HTML in the text part
    assert render.subject(report) == "October 2026 maintenance report: Alpha Bakery"


def test_intro_note_is_rendered_escaped_and_rebuilds_the_archive(report, staff):
    report = do_set_intro(
        report, "Quiet month. <b>Thanks</b> for your patience!", acting_user=staff
    )
    assert "Quiet month. &lt;b&gt;Thanks&lt;/b&gt; for your patience!" in report.html
    assert report.events.filter(kind="intro").exists()


def test_plan_words_for_an_allowance_say_what_is_included_and_that_it_expires():
    words = render.plan_words(
        {
            "plan": "Support Package 5 h",
            "billed_per_hour": False,
            "allowance": 300,
            "window_label": "October 2026",
            "pooled": False,
            "fair_usage_cap": None,
            "fair_usage_mode": "whole_ticket",
        }
    )
    assert words == (
        "Support Package 5 h includes 5 h for October 2026; "
        "unused hours expire at the end of the period."
    )


def test_pdf_renders_every_section_and_turns_into_readable_pages(report, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(bytes(report.pdf))
    assert bytes(report.pdf).startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for words in ("Monthly report: October 2026", "Alpha shop", "Alpha blog", "99.93 %"):
        assert words in text
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 1 <= len(pages) <= 4
    first = Image.open(pages[0]).convert("L")
    assert first.getextrema()[0] < 100  # ink on the page, not a blank sheet
    if SHOTS:
        shutil.copy(pages[0], Path(SHOTS) / "report-pdf.png")
