"""Every desk page is for agency staff: clients get 404, strangers the sign-in page, never data."""

import pytest
from django.test import Client

from caredesk.clients.models import Organisation, Site
from caredesk.desk.models import CannedReply

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls(form_ticket):
    organisation = Organisation.objects.get(name="Harbour Bakery Ltd")
    site = Site.objects.filter(organisation=organisation).first()
    reply = CannedReply.objects.create(title="Thanks", body="Thanks {{ requester.first_name }}")
    number = form_ticket.number
    return {
        "get": [
            "/tickets/",
            f"/tickets/{number}/",
            f"/tickets/{number}/canned?canned={reply.pk}",
            f"/clients/{organisation.pk}/",
            f"/sites/{site.pk}/",
            "/monitors/",
            "/canned/",
            "/canned/new",
            f"/canned/{reply.pk}/",
        ],
        "post": [
            f"/tickets/{number}/reply",
            f"/tickets/{number}/properties",
            f"/tickets/{number}/presence",
            f"/tickets/{number}/time",
            f"/tickets/{number}/timer",
            "/tickets/bulk",
            "/canned/new",
        ],
        "secret": [organisation.name.encode(), form_ticket.subject.encode()],
    }


def test_staff_reach_every_desk_page(desk, urls):
    for url in urls["get"]:
        assert desk.get(url).status_code == 200, url
    assert desk.get("/").status_code == 200


def test_client_contacts_get_404_and_no_data(client_logins, urls, form_ticket):
    for login in client_logins:
        for url in urls["get"]:
            response = login.get(url)
            assert response.status_code == 404, url
            for secret in urls["secret"][1:]:
                assert secret not in response.content, url
        for url in urls["post"]:
            assert login.post(url, {"body": "x", "minutes": "5"}).status_code == 404, url
    assert form_ticket.messages.count() == 1


def test_strangers_are_sent_to_sign_in(urls):
    anonymous = Client()
    for url in urls["get"] + urls["post"]:
        response = anonymous.post(url) if url in urls["post"] else anonymous.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url
