"""The account page: who the client is, and an optional password."""

import pytest

from caredesk.accounts.models import Role, User
from caredesk.clients.models import Contact
from caredesk.portal.actions import login_for

from .conftest import client_for

pytestmark = pytest.mark.django_db
NEW = "green-horse-battery-41"


@pytest.fixture
def linked(client_a):
    """A contact that signed in by link only: no password yet."""
    contact = Contact.objects.create(
        organisation=client_a, name="Lin Link", email="lin@alpha.example"
    )
    return client_for(login_for(contact))


def test_account_shows_who_and_what_they_see(as_manager):
    page = as_manager.get("/portal/account/").content.decode()
    assert "mia@alpha.example" in page
    assert "Alpha Bakery" in page
    assert "all of your organisation's tickets" in page


def test_link_only_client_sets_a_password_then_signs_in_with_it(linked, client):
    page = linked.get("/portal/account/").content.decode()
    assert "Set a password (optional)" in page
    assert "Old password" not in page

    response = linked.post("/portal/account/", {"new_password1": NEW, "new_password2": NEW})
    assert response.url == "/portal/account/"
    assert linked.get("/portal/").status_code == 200  # still signed in

    response = client.post(
        "/portal/sign-in/password/", {"email": "lin@alpha.example", "password": NEW}
    )
    assert response.url == "/portal/"


def test_changing_a_password_needs_the_current_one(as_requester, password):
    page = as_requester.get("/portal/account/").content.decode()
    assert "Change your password" in page
    response = as_requester.post(
        "/portal/account/",
        {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 400
    assert User.objects.get(email="rob@alpha.example").check_password(password)


@pytest.mark.parametrize(
    "pair",
    [
        ("short", "short"),
        (NEW, NEW + "x"),
        ("12345678901", "12345678901"),
        ("nul\x00" * 3, "nul\x00" * 3),
    ],
)
def test_weak_or_mismatched_passwords_are_told(linked, pair):
    response = linked.post("/portal/account/", {"new_password1": pair[0], "new_password2": pair[1]})
    assert response.status_code == 400
    assert b"field-error" in response.content
    assert not User.objects.get(email="lin@alpha.example").has_usable_password()


def test_login_made_for_a_contact_is_a_client_login(client_a):
    contact = Contact.objects.create(
        organisation=client_a, name="New One", email="new@alpha.example"
    )
    user = login_for(contact)
    assert user.role == Role.CLIENT
    assert not user.is_staff
    contact.refresh_from_db()
    assert contact.user == user
