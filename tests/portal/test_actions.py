"""The portal's actions: logins for contacts, tickets raised and answered with files."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from caredesk.accounts.models import Role, User
from caredesk.clients.models import Contact
from caredesk.portal import actions
from caredesk.portal.actions import SignInRefused, Upload, login_for
from caredesk.portal.models import SignInLink
from caredesk.portal.tasks import send_sign_in_link
from caredesk.tickets.models import Attachment

pytestmark = pytest.mark.django_db


def test_a_spare_client_login_with_the_same_address_is_linked(client_a):
    spare = User.objects.create_user("zoe@alpha.example", None, role=Role.CLIENT)
    contact = Contact.objects.create(organisation=client_a, name="Zoe", email="zoe@alpha.example")
    assert login_for(contact) == spare
    contact.refresh_from_db()
    assert contact.user == spare


def test_a_login_that_speaks_for_another_contact_is_never_taken_over(client_a, org_b, contact_b):
    # B's contact changed address to one that A's new contact now uses.
    contact = Contact.objects.create(organisation=client_a, name="Copy", email="copy@alpha.example")
    User.objects.filter(pk=contact_b.pk).update(email="copy@alpha.example")
    with pytest.raises(SignInRefused):
        login_for(contact)


def test_a_contact_linked_to_a_staff_login_is_refused(client_a, staff):
    contact = Contact.objects.create(
        organisation=client_a, name="Odd", email="odd@alpha.example", user=staff
    )
    with pytest.raises(SignInRefused):
        login_for(contact)


def test_switched_off_login_is_refused(requester_a, client_a):
    User.objects.filter(pk=requester_a.pk).update(is_active=False)
    with pytest.raises(SignInRefused):
        login_for(Contact.objects.get(email="rob@alpha.example"))


def test_raising_with_another_clients_site_is_refused(requester_a, client_a, site_b):
    with pytest.raises(ValidationError):
        actions.do_raise_ticket(
            requester_a.contact, subject="s", description="d", category=None, site=site_b, files=[]
        )


def test_replying_to_another_clients_ticket_is_refused(raise_ticket, requester_a, contact_b):
    ticket = raise_ticket(requester_a)
    with pytest.raises(ValidationError):
        actions.do_client_reply(ticket, contact_b.contact, "hi", [])


def test_a_refused_file_undoes_the_whole_reply(raise_ticket, requester_a):
    # The form checks first; should the rule differ, nothing half-done is kept.
    ticket = raise_ticket(requester_a)
    with pytest.raises(ValidationError):
        actions.do_client_reply(
            ticket,
            requester_a.contact,
            "hi",
            [Upload("a.txt", "text/plain", b"ok"), Upload("e.txt", "text/plain", b"")],
        )
    assert ticket.messages.count() == 1
    assert not Attachment.objects.exists()


def test_a_failed_send_is_logged_and_the_link_stays_unusable(
    requester_a, client_a, settings, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    link = actions.do_request_link("rob@alpha.example", "192.0.2.1")

    assert send_sign_in_link.call(link.pk) == 0
    assert "not sent" in caplog.text
    assert mail.outbox == []
    link.refresh_from_db()
    assert link.sent_at is not None  # minted once: never mailed twice


def test_old_attempts_and_links_are_pruned(requester_a, client_a, traveller):
    from datetime import timedelta

    actions.do_request_link("rob@alpha.example", "192.0.2.1")
    traveller.shift(timedelta(days=2))
    actions.do_request_link("nobody@alpha.example", "192.0.2.1")
    assert SignInLink.objects.count() == 0
    assert actions.SignInAttempt.objects.count() == 1
