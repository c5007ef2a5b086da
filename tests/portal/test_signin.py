"""Signing in by a link sent by email: single use, short-lived, rate-limited, no enumeration."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from caredesk.accounts.models import Role, User
from caredesk.clients.models import Contact
from caredesk.portal.models import SignInAttempt, SignInLink
from caredesk.portal.tasks import send_sign_in_link

from .conftest import sent_link

pytestmark = pytest.mark.django_db
SENT_PAGE = "/portal/sign-in/sent/"
CSRF = re.compile(r"[A-Za-z0-9]{64}")  # each page has its own CSRF token


@pytest.fixture
def newcomer(client_a) -> Contact:
    """A contact of client A who has never signed in: no login yet."""
    return Contact.objects.create(
        organisation=client_a, name="Nell New", email="nell@alpha.example"
    )


def ask(client: Client, address: str, ip: str = "192.0.2.10"):
    return client.post("/portal/sign-in/", {"email": address}, REMOTE_ADDR=ip)


def follow(client: Client, secret: str):
    return client.post(f"/portal/link/{secret}/")


def test_sign_in_page_offers_a_link_by_email(client):
    response = client.get("/portal/sign-in/")
    assert response.status_code == 200
    assert b"Email me a sign-in link" in response.content


def test_known_address_gets_a_link_that_signs_in_and_creates_the_login(client, newcomer):
    assert ask(client, "Nell@Alpha.example").url == SENT_PAGE

    secret = sent_link("nell@alpha.example")
    assert client.get(f"/portal/link/{secret}/").status_code == 200
    response = follow(client, secret)

    assert response.url == "/portal/"
    newcomer.refresh_from_db()
    assert newcomer.user.email == "nell@alpha.example"
    assert newcomer.user.role == Role.CLIENT
    assert not newcomer.user.has_usable_password()
    assert client.get("/portal/").status_code == 200


def test_mail_names_the_link_its_lifetime_and_is_marked_automatic(client, requester_a, client_a):
    ask(client, "rob@alpha.example")
    sent_link("rob@alpha.example")

    message = mail.outbox[-1]
    assert message.to == ["rob@alpha.example"]
    assert "15 minutes" in message.body
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert "/portal/link/" in message.alternatives[0][0]


def test_existing_login_is_reused(client, requester_a, client_a):
    ask(client, "rob@alpha.example")
    follow(client, sent_link("rob@alpha.example"))

    assert client.session["_auth_user_id"] == str(requester_a.pk)
    assert User.objects.filter(email="rob@alpha.example").count() == 1


def test_link_works_once(client, requester_a, client_a):
    ask(client, "rob@alpha.example")
    secret = sent_link("rob@alpha.example")
    follow(client, secret)

    again = Client().post(f"/portal/link/{secret}/")
    assert again.status_code == 410
    assert b"This link no longer works" in again.content
    assert b"Email me a new link" in again.content


def test_opening_the_link_does_not_use_it_up(client, requester_a, client_a):
    # Mail scanners fetch links; only the button on the page signs in.
    ask(client, "rob@alpha.example")
    secret = sent_link("rob@alpha.example")
    Client().get(f"/portal/link/{secret}/")
    Client().get(f"/portal/link/{secret}/")

    assert follow(client, secret).url == "/portal/"


def test_link_page_never_leaks_its_address_to_other_sites(client, requester_a, client_a):
    ask(client, "rob@alpha.example")
    response = client.get(f"/portal/link/{sent_link('rob@alpha.example')}/")
    assert response["Referrer-Policy"] == "same-origin"


def test_link_expires_after_15_minutes(client, requester_a, client_a, traveller):
    ask(client, "rob@alpha.example")
    secret = sent_link("rob@alpha.example")

    traveller.shift(timedelta(minutes=15, seconds=1))

    response = follow(client, secret)
    assert response.status_code == 410
    assert "_auth_user_id" not in client.session


def test_link_still_works_just_before_it_expires(client, requester_a, client_a, traveller):
    ask(client, "rob@alpha.example")
    secret = sent_link("rob@alpha.example")
    traveller.shift(timedelta(minutes=14, seconds=59))

    assert follow(client, secret).url == "/portal/"


def test_link_queued_too_long_is_never_sent(client, requester_a, client_a, traveller):
    ask(client, "rob@alpha.example")
    traveller.shift(timedelta(minutes=16))

    assert send_sign_in_link.call(SignInLink.objects.get().pk) == 0
    assert mail.outbox == []


def test_a_link_is_sent_once_even_if_the_task_runs_twice(client, requester_a, client_a):
    ask(client, "rob@alpha.example")
    link = SignInLink.objects.get()

    assert send_sign_in_link.call(link.pk) == 1
    assert send_sign_in_link.call(link.pk) == 0
    assert len(mail.outbox) == 1


def test_only_a_hash_of_the_secret_is_stored(client, requester_a, client_a):
    ask(client, "rob@alpha.example")
    secret = sent_link("rob@alpha.example")

    link = SignInLink.objects.get()
    assert secret not in link.token_hash
    assert len(link.token_hash) == 64


@pytest.mark.parametrize("secret", ["nope", "x" * 500, "%00", "a b"])
def test_made_up_links_get_the_expired_page(client, secret):
    assert follow(client, secret).status_code in (404, 410)


def test_unknown_address_gets_the_same_answer_and_no_mail(client, requester_a, client_a):
    known = ask(Client(), "rob@alpha.example")
    unknown = ask(Client(), "nobody@alpha.example")

    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    page_known = Client().get(SENT_PAGE)  # a fresh client has no address to show
    assert page_known.status_code == 302
    assert SignInLink.objects.count() == 1
    sent_link("rob@alpha.example")
    assert [m.to for m in mail.outbox] == [["rob@alpha.example"]]


def test_sent_page_reads_the_same_for_known_and_unknown_addresses(client, requester_a, client_a):
    ask(client, "rob@alpha.example")
    known = client.get(SENT_PAGE).content.decode().replace("rob@alpha.example", "ADDRESS")
    other = Client()
    ask(other, "nobody@alpha.example")
    unknown = other.get(SENT_PAGE).content.decode().replace("nobody@alpha.example", "ADDRESS")

    assert re.sub(CSRF, "", known) == re.sub(CSRF, "", unknown)


def test_inactive_contact_or_client_gets_no_link(client, requester_a, client_a):
    Contact.objects.filter(email="rob@alpha.example").update(is_active=False)
    assert ask(client, "rob@alpha.example").url == SENT_PAGE
    assert SignInLink.objects.count() == 0


def test_staff_address_gets_no_link(client, staff):
    assert ask(client, staff.email).url == SENT_PAGE
    assert SignInLink.objects.count() == 0


def test_contact_whose_address_is_a_staff_login_is_refused(client, client_a, staff):
    Contact.objects.create(organisation=client_a, name="Twin", email=staff.email)
    ask(client, staff.email)
    response = follow(client, sent_link(staff.email))

    assert response.status_code == 403
    assert b"another kind of login" in response.content
    assert "_auth_user_id" not in client.session


def test_contact_switched_off_after_the_link_was_sent_cannot_use_it(client, requester_a, client_a):
    ask(client, "rob@alpha.example")
    secret = sent_link("rob@alpha.example")
    Contact.objects.filter(email="rob@alpha.example").update(is_active=False)

    assert follow(client, secret).status_code == 403
    assert "_auth_user_id" not in client.session


def test_requests_per_address_are_limited(client, requester_a, client_a):
    for n in range(3):
        assert ask(Client(), "rob@alpha.example", ip=f"192.0.2.{n}").status_code == 302

    refused = ask(Client(), "rob@alpha.example", ip="192.0.2.99")
    assert refused.status_code == 429
    assert b"Please wait 15 minutes" in refused.content
    assert SignInLink.objects.count() == 3


def test_unknown_addresses_are_limited_alike(client):
    for _ in range(3):
        ask(Client(), "nobody@alpha.example")
    assert ask(Client(), "nobody@alpha.example").status_code == 429


def test_requests_per_ip_are_limited(client):
    for n in range(20):
        assert ask(client, f"person{n}@nowhere.example").status_code == 302
    assert ask(client, "one-more@nowhere.example").status_code == 429
    assert ask(client, "one-more@nowhere.example", ip="198.51.100.7").status_code == 302


def test_the_limit_lifts_after_its_window(client, requester_a, client_a, traveller):
    for _ in range(3):
        ask(Client(), "rob@alpha.example")
    traveller.shift(timedelta(minutes=16))
    assert ask(Client(), "rob@alpha.example").status_code == 302


def test_addresses_typed_in_are_not_stored(client):
    ask(client, "stranger@nowhere.example")
    attempt = SignInAttempt.objects.get()
    assert "stranger" not in attempt.address_hash


@pytest.mark.parametrize(
    "address", ["", "not-an-address", "a\x00b@alpha.example", "x" * 5000 + "@alpha.example"]
)
def test_bad_addresses_are_told_not_crashed(client, address):
    response = ask(client, address)
    assert response.status_code == 400
    assert b"field-error" in response.content


def test_form_without_csrf_token_is_refused(requester_a, client_a):
    strict = Client(enforce_csrf_checks=True)
    assert ask(strict, "rob@alpha.example").status_code == 403


def test_session_of_a_client_expires_after_the_portal_session_hours(
    client, requester_a, client_a, settings
):
    settings.CAREDESK_PORTAL_SESSION_HOURS = 4
    ask(client, "rob@alpha.example")
    follow(client, sent_link("rob@alpha.example"))
    assert client.session.get_expiry_age() == 4 * 3600


def test_staff_opening_the_portal_are_sent_to_the_desk(staff):
    client = Client()
    client.force_login(staff)
    assert client.get("/portal/").url == "/"
    assert client.get("/portal/sign-in/").url == "/"


def test_anonymous_visitor_is_sent_to_sign_in_and_back(client):
    response = client.get("/portal/tickets/new/")
    assert response.url == "/portal/sign-in/?next=%2Fportal%2Ftickets%2Fnew%2F"


def test_sign_in_ignores_a_next_address_outside_the_portal(client, requester_a, client_a, password):
    requester_a.set_password(password)
    requester_a.save()
    response = client.post(
        "/portal/sign-in/password/",
        {"email": "rob@alpha.example", "password": password, "next": "https://evil.example/"},
    )
    assert response.url == "/portal/"


def test_password_sign_in_works_once_a_password_is_set(client, requester_a, client_a, password):
    requester_a.set_password(password)
    requester_a.save()
    response = client.post(
        "/portal/sign-in/password/",
        {"email": "ROB@alpha.example", "password": password, "next": "/portal/tickets/new/"},
    )
    assert response.url == "/portal/tickets/new/"


def test_wrong_password_is_told_without_saying_which_part(client, requester_a, client_a):
    response = client.post(
        "/portal/sign-in/password/", {"email": "rob@alpha.example", "password": "wrong"}
    )
    assert response.status_code == 400
    assert b"do not match" in response.content


def test_wrong_passwords_are_limited(client, requester_a, client_a, password):
    requester_a.set_password(password)
    requester_a.save()
    for _ in range(10):
        client.post("/portal/sign-in/password/", {"email": "rob@alpha.example", "password": "no"})
    response = client.post(
        "/portal/sign-in/password/", {"email": "rob@alpha.example", "password": password}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_staff_password_does_not_sign_in_to_the_portal(client, staff, password):
    response = client.post(
        "/portal/sign-in/password/", {"email": staff.email, "password": password}
    )
    assert response.status_code == 400
    assert b"sign in at the desk" in response.content
    assert "_auth_user_id" not in client.session


def test_sign_out(as_requester):
    response = as_requester.post("/portal/sign-out/")
    assert response.url == "/portal/sign-in/"
    assert as_requester.get("/portal/").status_code == 302


def test_client_switched_off_while_signed_in_is_signed_out(as_requester, client_a):
    client_a.is_active = False
    client_a.save()
    response = as_requester.get("/portal/")
    assert response.url == "/portal/sign-in/"
    assert "_auth_user_id" not in as_requester.session
