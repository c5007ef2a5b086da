"""Every portal address, for every persona: who gets the page, who is sent away, who gets 404.

Client A's requester raised ticket T and has a finalised statement S; the
manager of A sees both; B's contact, staff and anonymous visitors are the
outsiders. Nothing of A may answer anything but 404 (or a sign-in redirect)
to them.
"""

import pytest
from django.test import Client

from caredesk.billing import statements
from caredesk.tickets import actions

from .conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client_a, requester_a, manager_a, contact_b, staff):
    ticket = actions.do_create_ticket(
        subject="T", body="b", channel="portal", requester=requester_a.contact
    )
    actions.do_request_estimate(ticket, 60, acting_user=staff)
    statement = statements.build_one(client_a, 2026, 10, finalise=True)
    return {
        "ticket": ticket.number,
        "statement": statement.pk,
        "users": {
            "anonymous": None,
            "staff": staff,
            "requester": requester_a,
            "manager": manager_a,
            "other": contact_b,
        },
    }


GETS = [
    ("/portal/", {"requester": 200, "manager": 200, "other": 200}),
    ("/portal/tickets/new/", {"requester": 200, "manager": 200, "other": 200}),
    ("/portal/tickets/new/scope/", {"requester": 200, "manager": 200, "other": 200}),
    ("/portal/account/", {"requester": 200, "manager": 200, "other": 200}),
    ("/portal/tickets/{ticket}/", {"requester": 200, "manager": 200, "other": 404}),
    ("/portal/statements/", {"requester": 404, "manager": 200, "other": 200}),
    ("/portal/statements/{statement}/csv/", {"requester": 404, "manager": 200, "other": 404}),
    ("/portal/statements/{statement}/pdf/", {"requester": 404, "manager": 200, "other": 404}),
]
POSTS = [
    ("/portal/tickets/{ticket}/reply/", {"body": "hello"}, {"requester": 302, "manager": 302}),
    ("/portal/tickets/{ticket}/approve/", {}, {"requester": 302, "manager": 302}),
    ("/portal/tickets/{ticket}/close/", {}, {"requester": 302, "manager": 302}),
    (
        "/portal/tickets/new/",
        {"subject": "s", "description": "d"},
        {"requester": 302, "manager": 302, "other": 302},
    ),
]
PERSONAS = ["anonymous", "staff", "requester", "manager", "other"]


def fill(path: str, world) -> str:
    return path.format(ticket=world["ticket"], statement=world["statement"])


def expect_outsider(response, persona: str):
    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith("/portal/sign-in/")
    elif persona == "staff":
        assert (response.status_code, response.url) == (302, "/")
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("path", "allowed"), GETS)
def test_get(world, persona, path, allowed):
    client = client_for(world["users"][persona])
    response = client.get(fill(path, world))
    if persona in allowed:
        assert response.status_code == allowed[persona]
    else:
        expect_outsider(response, persona)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("path", "data", "allowed"), POSTS)
def test_post(world, persona, path, data, allowed):
    client = client_for(world["users"][persona])
    response = client.post(fill(path, world), data)
    if persona in allowed:
        assert response.status_code == allowed[persona]
    else:
        expect_outsider(response, persona)


@pytest.mark.parametrize(
    "path",
    ["/portal/sign-in/", "/portal/sign-in/password/", "/portal/sign-out/", "/portal/link/x/"],
)
def test_sign_in_pages_are_open_to_anyone_but_need_csrf(world, path):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(path, {"email": "rob@alpha.example"}).status_code == 403


@pytest.mark.parametrize("persona", ["requester", "manager"])
def test_state_changes_need_a_csrf_token(world, persona):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world["users"][persona])
    for path, data, _ in POSTS:
        assert strict.post(fill(path, world), data).status_code == 403
