"""Files on tickets reach only those who may see the ticket, whatever the URL."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.test import Client

from caredesk.tickets import actions
from caredesk.tickets.access import attachments_for, tickets_for
from caredesk.tickets.models import Attachment, Message, MessageKind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def attach(message: Message, name: str, content_type: str, data: bytes) -> Attachment:
    item = Attachment(message=message, filename=name, content_type=content_type, size=len(data))
    item.file.save("x", ContentFile(data), save=False)
    item.save()
    return item


@pytest.fixture
def ticket_a(requester_a, site_a):
    ticket = actions.do_create_ticket(
        subject="Broken form", body="It fails", channel="portal", requester=requester_a.contact
    )
    return ticket


@pytest.fixture
def files(ticket_a, staff):
    client_message = ticket_a.messages.get(kind=MessageKind.CUSTOMER)
    note = actions.do_add_note(ticket_a, "server logs attached", acting_user=staff)
    return {
        "screenshot": attach(client_message, "screen.png", "image/png", b"\x89PNG fake"),
        "page": attach(client_message, "page.html", "text/html", b"<script>alert(1)</script>"),
        "logs": attach(note, "server.log", "text/plain", b"secret log"),
    }


def url(item: Attachment) -> str:
    return f"/attachments/{item.pk}/{item.filename}"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_download_any_attachment_including_notes(staff, files):
    response = client_for(staff).get(url(files["logs"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"secret log"


def test_requester_downloads_the_file_on_its_own_ticket(requester_a, files):
    response = client_for(requester_a).get(url(files["screenshot"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


def test_html_attachment_is_downloaded_never_rendered(requester_a, files):
    response = client_for(requester_a).get(url(files["page"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]


def test_client_never_gets_a_file_attached_to_an_internal_note(manager_a, requester_a, files):
    for user in (manager_a, requester_a):
        assert client_for(user).get(url(files["logs"])).status_code == 404


def test_contact_of_another_client_gets_404_for_every_file(contact_b, files):
    for item in files.values():
        assert client_for(contact_b).get(url(item)).status_code == 404


def test_anonymous_is_sent_to_sign_in(files):
    response = Client().get(url(files["screenshot"]))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_requester_sees_own_and_followed_tickets_only(requester_a, manager_a, org_a):
    other = actions.do_create_ticket(
        subject="Manager's own", body="x", channel="portal", requester=manager_a.contact
    )
    own = actions.do_create_ticket(
        subject="Mine", body="y", channel="portal", requester=requester_a.contact
    )
    assert set(tickets_for(requester_a)) == {own}
    other.followers.add(requester_a.contact)
    assert set(tickets_for(requester_a)) == {own, other}
    assert set(tickets_for(manager_a)) == {own, other}


def test_nobody_anonymous_sees_tickets_or_files(files):
    assert not tickets_for(AnonymousUser()).exists()
    assert not attachments_for(AnonymousUser()).exists()
