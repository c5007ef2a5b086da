"""A client signs in by a link from the email, raises a ticket, sees the promise and replies."""

import os
import re
from pathlib import Path

import pytest
from django.core import mail

from caredesk.clients.models import Contact
from caredesk.ops.demo import load_demo
from caredesk.portal.models import SignInLink
from caredesk.portal.tasks import send_sign_in_link
from caredesk.tickets.models import MessageKind, Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
LINK = re.compile(r"(https?://\S+/portal/link/[\w-]+/)")
# Set to a folder to keep the screenshots (the docs' pictures are made this way).
SHOTS = os.environ.get("CAREDESK_SCREENSHOTS")


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    load_demo(activity=False)
    return Contact.objects.get(email="jo@harbourbakery.example")


def shot(page, tmp_path, name: str) -> None:
    folder = Path(SHOTS) if SHOTS else tmp_path
    page.screenshot(path=str(folder / f"portal-{name}.png"), full_page=True)


def mailed_link(live_url: str) -> str:
    """Run the worker's job for the queued link and read the link from the email."""
    for link in SignInLink.objects.filter(sent_at=None):
        send_sign_in_link.call(link.pk)
    body = mail.outbox[-1].body
    return LINK.search(body).group(1).replace("http://127.0.0.1:8000", live_url)


def test_client_signs_in_by_link_raises_a_ticket_and_replies(live_server, page, demo, tmp_path):
    page.goto(f"{live_server.url}/portal/")
    page.wait_for_url(re.compile(r"/portal/sign-in/"))
    shot(page, tmp_path, "sign-in")
    page.fill("#id_email", "jo@harbourbakery.example")
    page.click("text=Email me a sign-in link")
    page.wait_for_selector("text=Check your email")

    page.goto(mailed_link(live_server.url))
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("text=You are signed in")
    assert "Harbour Bakery Ltd" in page.inner_text("header")

    page.click("header >> text=New request")
    page.fill("#id_subject", "Add a booking form to the cake page")
    assert page.locator("#id_subject + #kb-suggestions").count() == 1
    # The scope notice follows the category before anything is sent (htmx).
    page.select_option("#id_category", label="New feature")
    page.wait_for_selector("#scope-notice.billable")
    assert "not included in KIJO Care" in page.inner_text("#scope-notice")
    page.select_option("#id_category", label="Bug fix")
    page.wait_for_selector("#scope-notice.included")
    page.select_option("#id_category", label="New feature")
    page.wait_for_selector("#scope-notice.billable")
    page.fill("#id_description", "Customers should be able to book a cake tasting.")
    page.set_input_files(
        "#id_files", files=[{"name": "sketch.png", "mimeType": "image/png", "buffer": b"\x89PNG"}]
    )
    shot(page, tmp_path, "new-request")
    page.click("button:has-text('Send request')")
    page.wait_for_selector("text=Thank you, we have your request.")

    promise = page.inner_text(".promise")
    assert re.search(r"first response by \w{3} \d{1,2} \w{3}, \d{2}:\d{2}", promise)
    assert "Billable work." in page.inner_text(".scope")
    assert page.locator("ul.files >> text=sketch.png").count() == 1
    shot(page, tmp_path, "ticket")

    ticket = Ticket.objects.get()
    assert ticket.billable and ticket.channel == "portal"

    page.fill("#id_body", "A photo of the cake page is attached.")
    page.click("button:has-text('Send reply')")
    page.wait_for_selector("text=Your reply was added.")
    assert page.locator("article.msg.customer").count() == 2
    assert ticket.messages.filter(kind=MessageKind.CUSTOMER).count() == 2

    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, tmp_path, "ticket-phone")
    page.goto(f"{live_server.url}/portal/")
    assert page.locator("table.tickets >> text=Add a booking form").count() == 1
    shot(page, tmp_path, "list-phone")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/portal/tickets/{ticket.number}/")
    page.click("button:has-text('Close this ticket')")
    page.wait_for_selector("text=is closed. Thank you.")
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_used_link_shows_a_page_offering_a_new_one(live_server, page, demo, tmp_path):
    page.goto(f"{live_server.url}/portal/sign-in/")
    page.fill("#id_email", "jo@harbourbakery.example")
    page.click("text=Email me a sign-in link")
    page.wait_for_selector("text=Check your email")
    url = mailed_link(live_server.url)
    page.goto(url)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("text=You are signed in")
    page.click("button:has-text('Sign out')")

    page.goto(url)
    assert page.locator("h1").inner_text() == "This link no longer works"
    shot(page, tmp_path, "link-used")
    page.fill("#id_email", "jo@harbourbakery.example")
    page.click("text=Email me a new link")
    page.wait_for_selector("text=Check your email")
