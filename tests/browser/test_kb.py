"""A visitor searches the public help centre, opens an article and rates it, in Chromium."""

import os
from pathlib import Path

import pytest

from caredesk.accounts.models import Role, User
from caredesk.kb import actions
from caredesk.kb.demo import load_demo_articles
from caredesk.kb.models import Article, Feedback

pytestmark = pytest.mark.django_db(transaction=True)
# The Playwright driver talks to Chromium from its own event loop; Django's
# async-safety guard would otherwise refuse the test's database calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Set CAREDESK_SCREENSHOTS=docs/screenshots to refresh the documentation's pictures.
SHOTS = os.environ.get("CAREDESK_SCREENSHOTS", "")


# Only these two are documentation pictures; the rest are for looking at a failure.
DOC_SHOTS = {"article", "stats"}


def shot(page, tmp_path, name: str) -> None:
    folder = Path(SHOTS) if SHOTS and name in DOC_SHOTS else tmp_path
    page.screenshot(path=str(folder / f"kb-{name}.png"), full_page=True)


@pytest.fixture
def articles(db):
    load_demo_articles()


def test_visitor_searches_reads_and_rates_an_article(live_server, page, articles, tmp_path):
    page.goto(f"{live_server.url}/kb/")
    assert page.locator("h1").inner_text() == "How can we help?"
    # Anonymous visitors see public articles only.
    assert page.locator("text=What your monthly maintenance report contains").count() == 0
    assert page.locator("text=Handling a downtime alert").count() == 0
    shot(page, tmp_path, "index")

    page.fill("#kb-q", "forgot my password")
    page.press("#kb-q", "Enter")
    page.wait_for_url("**/kb/search?q=forgot+my+password")
    results = page.locator(".kb-list li")
    assert "How to reset your WordPress password" in results.nth(0).inner_text()
    shot(page, tmp_path, "search")

    results.nth(0).locator("a").click()
    page.wait_for_selector("h1:has-text('How to reset your WordPress password')")
    assert page.locator(".kb-body ol li").count() == 5
    page.click("#feedback button[value=yes]")
    page.wait_for_selector("text=Thanks for your feedback, glad it helped.")
    assert page.locator("#feedback button[value=yes]").get_attribute("aria-pressed") == "true"

    page.fill("#kb-comment", "Worked first time. A screenshot of the login page would help.")
    page.click("#feedback .kb-comment button[type=submit]")
    page.wait_for_selector("text=Thank you — your comment was sent.")
    shot(page, tmp_path, "article")

    feedback = Feedback.objects.get()
    assert feedback.article.slug == "reset-wordpress-password"
    assert feedback.helpful is True
    assert feedback.comment.startswith("Worked first time.")

    # The vote is remembered for this visitor, and changing it keeps one row.
    page.reload()
    assert page.locator("#feedback button[value=yes]").get_attribute("aria-pressed") == "true"
    page.click("#feedback button[value=no]")
    page.wait_for_selector("text=Sorry it did not help.")
    assert Feedback.objects.count() == 1
    assert Feedback.objects.get().helpful is False


def test_feedback_works_without_javascript(live_server, browser, articles):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/kb/articles/reset-wordpress-password/")
    page.click("#feedback button[value=no]")
    page.wait_for_selector("text=Sorry it did not help.")
    assert page.url.endswith("/kb/articles/reset-wordpress-password/#feedback")
    assert Feedback.objects.get().helpful is False
    context.close()


def test_staff_see_votes_and_deflection_on_the_stats_page(live_server, page, articles, tmp_path):
    User.objects.create_user("agent@agency.example", "a-browser-password-1", role=Role.AGENT)
    article = Article.objects.get(slug="reset-wordpress-password")
    actions.do_give_feedback(article, visitor="v1", helpful=True)
    actions.do_give_feedback(article, visitor="v2", helpful=False, comment="Which login page?")
    page.goto(f"{live_server.url}/login/?next=/kb/staff/stats")
    page.fill("#id_username", "agent@agency.example")
    page.fill("#id_password", "a-browser-password-1")
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Knowledge-base statistics')")
    row = page.locator("tr", has_text="How to reset your WordPress password")
    assert row.locator("td.num").all_inner_texts()[:3] == ["1", "1", "50 %"]
    assert page.locator("text=Which login page?").count() == 1
    # Staff see drafts and staff-only articles, marked as such.
    assert (
        page.locator("tr", has_text="Should you update plugins yourself?")
        .locator(".tag.draft")
        .count()
        == 1
    )
    shot(page, tmp_path, "stats")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/kb/articles/emergencies-and-downtime/")
    assert page.locator("a:has-text('Edit articles')").count() == 1
    shot(page, tmp_path, "article-phone")


def test_insert_link_button_puts_markdown_into_the_reply_box(live_server, page, articles, settings):
    """lookup.js, as the desk will use it: the fragment inside a reply form."""
    settings.CAREDESK_BASE_URL = "https://help.agency.example"
    User.objects.create_user("agent@agency.example", "a-browser-password-1", role=Role.AGENT)
    page.goto(f"{live_server.url}/login/?next=/kb/")
    page.fill("#id_username", "agent@agency.example")
    page.fill("#id_password", "a-browser-password-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/kb/")
    page.evaluate(
        """async () => {
            const box = document.createElement("div");
            box.dataset.kbTarget = "#reply";
            box.innerHTML = '<textarea id="reply">Hi Jo, see </textarea>' +
                (await (await fetch("/kb/staff/lookup?q=backup+restore")).text());
            document.querySelector("main").append(box);
            const script = document.createElement("script");
            script.src = "/static/kb/lookup.js";
            document.head.append(script);
            await new Promise((done) => script.addEventListener("load", done));
        }"""
    )
    reply = page.locator("#reply")
    reply.evaluate("field => field.setSelectionRange(field.value.length, field.value.length)")
    page.locator(".kb-lookup li", has_text="How to request a backup restore").locator(
        "button.kb-insert"
    ).click()
    assert reply.input_value() == (
        "Hi Jo, see [How to request a backup restore]"
        "(https://help.agency.example/kb/articles/request-a-backup-restore/)"
    )
