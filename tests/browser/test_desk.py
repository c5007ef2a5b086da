"""An agent signs in, works the queue and the ticket page without reloads, in Chromium."""

import os
from pathlib import Path

import pytest

from caredesk.accounts.models import Role, User
from caredesk.billing.models import TimeEntry
from caredesk.clients.models import Contact
from caredesk.desk.models import CannedReply
from caredesk.mail.models import OutboundEmail
from caredesk.ops.demo import load_demo
from caredesk.plans.models import WorkCategory
from caredesk.tickets import actions
from caredesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a-browser-password-1"
# The Playwright driver talks to Chromium from its own event loop; Django's
# async-safety guard would otherwise refuse the test's database calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Set CAREDESK_SCREENSHOTS=docs/screenshots to refresh the documentation's pictures.
SHOTS = os.environ.get("CAREDESK_SCREENSHOTS", "")


@pytest.fixture
def tickets(db):
    load_demo(activity=False)
    User.objects.create_user("agent@agency.example", PASSWORD, role=Role.AGENT, full_name="Ada")
    User.objects.create_user(
        "nia@agency.example", PASSWORD, role=Role.AGENT, full_name="Nia Okafor"
    )
    CannedReply.objects.create(
        title="Looking into it",
        body="Hi {{ requester.first_name }},\n\nThanks for reporting this on {{ ticket.number }}; "
        "we are looking into it now.\n\n{{ agent.name }}",
    )
    jo = Contact.objects.get(email="jo@harbourbakery.example")
    actions.do_create_ticket(
        subject="Footer text is out of date",
        body="Please update it.",
        channel="email",
        requester=jo,
    )
    return actions.do_create_ticket(
        subject="Contact form does not send",
        body="It shows an error.",
        channel="email",
        requester=jo,
        site=jo.organisation.sites.first(),
        category=WorkCategory.objects.get(code="contact-form"),
    )


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def shot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(Path(SHOTS or tmp_path) / name), full_page=True)


def test_agent_works_a_ticket_without_reloads_and_sees_a_colleague(
    live_server, browser, page, tickets, tmp_path
):
    base = live_server.url
    sign_in(page, base, "agent@agency.example")
    assert "Today" in page.inner_text("h1")
    shot(page, tmp_path, "desk-dashboard.png")

    page.click("nav >> text=Tickets")
    page.wait_for_url(f"{base}/tickets/")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    # The critical ticket (4 business hours) comes before the routine one.
    assert "Contact form does not send" in rows.nth(0).inner_text()
    shot(page, tmp_path, "queue.png")

    page.click("text=Contact form does not send")
    page.wait_for_selector("text=First response")
    # A marker that a full page load would wipe out.
    page.evaluate("window.stillHere = true")

    page.select_option("#id_canned", label="Looking into it")
    page.click("form.canned button[type=submit]")
    page.wait_for_function("document.querySelector('#id_body').value.includes('Hi Jo')")
    body = page.input_value("#id_body")
    assert f"#{tickets.number}" in body
    assert "Ada" in body

    # A colleague opens the same ticket while Ada has a reply typed.
    page.locator("#id_body").press("End")
    page.wait_for_timeout(1500)  # the heartbeat fires a second after typing
    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    other.set_default_timeout(15_000)
    sign_in(other, base, "nia@agency.example")
    other.goto(f"{base}/tickets/{tickets.number}/")
    other.wait_for_selector("#presence >> text=Ada is replying")
    shot(other, tmp_path, "desk-collision.png")
    # Ada's page hears of Nia within one poll.
    page.wait_for_selector("#presence >> text=Nia Okafor is viewing this ticket", timeout=15_000)

    page.check("input[value=public_reply]")
    page.select_option("#id_status", "pending")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("#flash >> text=Reply to client saved.")
    assert page.locator("article.msg.public_reply").count() == 1
    assert page.input_value("#id_body") == ""
    assert page.evaluate("window.stillHere") is True
    assert "Pending" in page.inner_text("#summary")

    page.fill("#id_minutes", "25")
    page.fill("#id_note", "Checked the mail log")
    page.click("form.log-time button[type=submit]")
    page.wait_for_selector("#time >> text=25 min")
    assert page.evaluate("window.stillHere") is True
    shot(page, tmp_path, "ticket.png")

    ticket = Ticket.objects.get(pk=tickets.pk)
    assert ticket.status == "pending"
    assert OutboundEmail.objects.filter(ticket=ticket, kind="reply").exists()
    assert TimeEntry.objects.get(ticket=ticket).minutes == 25
    other.context.close()


def test_the_ticket_page_works_without_javascript(live_server, browser, tickets):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server.url, "agent@agency.example")
    page.goto(f"{live_server.url}/tickets/{tickets.number}/")
    page.select_option("#id_canned", label="Looking into it")
    page.click("form.canned button[type=submit]")
    assert "Hi Jo" in page.input_value("#id_body")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("text=Reply to client saved.")
    assert page.locator("article.msg.public_reply").count() == 1
    context.close()


def test_a_client_user_cannot_open_the_desk(live_server, page, tickets):
    contact = Contact.objects.get(email="jo@harbourbakery.example")
    contact.user = User.objects.create_user(contact.email, PASSWORD, role=Role.CLIENT)
    contact.save()
    sign_in(page, live_server.url, contact.email)
    assert "Your organisation" in page.content()
    response = page.goto(f"{live_server.url}/tickets/{tickets.number}/")
    assert response.status == 404


def test_site_client_and_status_board_pages(live_server, page, tickets, tmp_path):
    from datetime import timedelta

    from caredesk.clients.models import Site
    from caredesk.lib import clock
    from caredesk.monitoring.models import HourlyRollup, Incident, Monitor, Outage

    now = clock.now()
    site = Site.objects.get(url__contains="harbourbakery")
    monitor = Monitor.objects.get(site=site)
    Monitor.objects.filter(pk=monitor.pk).update(
        enabled=True, state="up", last_checked_at=now, created_at=now - timedelta(days=40)
    )
    top = now.replace(minute=0, second=0, microsecond=0)
    # A daily rhythm: slower in the working day, a slow spell three days ago.
    HourlyRollup.objects.bulk_create(
        HourlyRollup(
            monitor=monitor,
            hour=top - timedelta(hours=back),
            checks=60,
            up_seconds=3600,
            p50_ms=280 + 120 * ((back % 24) in range(8, 18)) + (900 if 70 < back < 76 else 0),
            p95_ms=640 + 300 * ((back % 24) in range(8, 18)) + (1800 if 70 < back < 76 else 0),
        )
        for back in range(1, 24 * 30)
        if back != 42
    )
    # The hour of a 47-minute outage: checks failed, so no response times to chart.
    started = top - timedelta(hours=42)
    HourlyRollup.objects.create(
        monitor=monitor, hour=started, checks=60, failures=47, up_seconds=780, down_seconds=2820
    )
    incident = Incident.objects.create(
        monitor=monitor,
        started_at=started,
        confirmed_at=started + timedelta(minutes=2),
        recovered_at=started + timedelta(minutes=47),
        resolved_at=started + timedelta(minutes=49),
        cause="HTTP 503 Service Unavailable",
    )
    Outage.objects.create(
        incident=incident, monitor=monitor, started_at=started, ended_at=incident.recovered_at
    )
    sign_in(page, live_server.url, "agent@agency.example")

    page.goto(f"{live_server.url}/sites/{site.pk}/")
    assert page.locator("svg.chart polyline.p50").count() == 2  # split at the outage
    assert "median response" in page.inner_text("#chart-summary")
    shot(page, tmp_path, "desk-site.png")

    page.click("text=Harbour Bakery Ltd")
    page.wait_for_selector("text=Hours this period")
    shot(page, tmp_path, "desk-client.png")

    page.click("nav >> text=Monitors")
    page.wait_for_selector("table.board")
    assert "up" in page.locator("table.board tbody tr").nth(0).inner_text().lower()
    shot(page, tmp_path, "desk-monitors.png")


def test_ticket_page_fits_a_phone_screen(live_server, browser, tickets):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, live_server.url, "agent@agency.example")
    for url in (f"/tickets/{tickets.number}/", "/", "/monitors/"):
        page.goto(f"{live_server.url}{url}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
    context.close()
