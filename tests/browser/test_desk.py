"""An agent signs in, works the queue and replies to a client, in Chromium."""

import os

import pytest

from caredesk.accounts.models import Role, User
from caredesk.clients.models import Contact
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


@pytest.fixture
def tickets(db):
    load_demo(activity=False)
    User.objects.create_user("agent@agency.example", PASSWORD, role=Role.AGENT, full_name="Ada")
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
        category=WorkCategory.objects.get(code="contact-form"),
    )


def test_agent_signs_in_works_the_queue_and_replies(live_server, page, tickets, tmp_path):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "agent@agency.example")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/tickets/")

    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    # The critical ticket (4 business hours) comes before the routine one.
    assert "Contact form does not send" in rows.nth(0).inner_text()

    page.click("text=Contact form does not send")
    page.wait_for_selector("text=First response")
    page.check("input[value=public_reply]")
    page.fill("#id_body", "Hi Jo, we are fixing the form now.")
    page.select_option("#id_status", "pending")
    page.click("form.reply button[type=submit]")
    page.wait_for_selector("text=Reply to client saved.")
    assert page.locator("article.msg.public_reply").count() == 1
    page.screenshot(path=str(tmp_path / "ticket.png"), full_page=True)

    ticket = Ticket.objects.get(pk=tickets.pk)
    assert ticket.status == "pending"
    assert OutboundEmail.objects.filter(ticket=ticket, kind="reply").exists()


def test_a_client_user_cannot_open_the_desk(live_server, page, tickets):
    contact = Contact.objects.get(email="jo@harbourbakery.example")
    contact.user = User.objects.create_user(contact.email, PASSWORD, role=Role.CLIENT)
    contact.save()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", contact.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "Your organisation" in page.content()
    response = page.goto(f"{live_server.url}/tickets/{tickets.number}/")
    assert response.status == 404
