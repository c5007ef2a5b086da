"""The quarantine in the admin: staff see what could not be filed, and release it.

Clients never reach it, whatever URL they try.
"""

import pytest
from django.urls import reverse

from caredesk.mail.models import InboundEmail, InboundStatus
from caredesk.tickets import actions
from caredesk.tickets.models import Ticket

from .conftest import build_message

CHANGELIST = "admin:mail_quarantined_changelist"


@pytest.fixture
def held(ingest, monkeypatch) -> InboundEmail:
    """A good message held because filing failed; the cause is then fixed."""

    def disk_full(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(actions, "do_create_ticket", disk_full)
    inbound = ingest(
        build_message(sender="rob@alpha.example", subject="Shop checkout shows an error")
    )
    monkeypatch.undo()
    assert inbound.status == InboundStatus.QUARANTINED
    return inbound


@pytest.fixture
def filed(ingest) -> InboundEmail:
    inbound = ingest(build_message(sender="mia@alpha.example", subject="Opening hours update"))
    assert inbound.status == InboundStatus.TICKETED
    return inbound


@pytest.fixture
def unreadable(ingest) -> InboundEmail:
    return ingest(b"\x00\x01\x02 nothing like an email")


def _release(client, *items: InboundEmail):
    return client.post(
        reverse(CHANGELIST),
        {"action": "release_selected", "_selected_action": [i.pk for i in items]},
        follow=True,
    )


def test_staff_see_the_quarantine_with_reasons(client, staff, held, filed, unreadable):
    client.force_login(staff)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Shop checkout shows an error" in page
    assert "RuntimeError: disk full" in page
    assert "no mail headers" in page
    assert "Opening hours update" not in page  # filed mail is not in the quarantine


def test_staff_open_a_quarantined_message(client, staff, held):
    client.force_login(staff)
    response = client.get(reverse("admin:mail_quarantined_change", args=[held.pk]))
    assert response.status_code == 200
    assert "RuntimeError: disk full" in response.content.decode()


def test_staff_download_the_original_bytes(client, staff, held):
    client.force_login(staff)
    response = client.post(
        reverse(CHANGELIST), {"action": "download_raw", "_selected_action": [held.pk]}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response.content == bytes(held.raw)


def test_staff_release_files_the_message(client, staff, held, unreadable):
    client.force_login(staff)
    response = _release(client, held, unreadable)
    assert response.status_code == 200
    assert "1 released, 1 still quarantined." in response.content.decode()
    held.refresh_from_db()
    assert held.status == InboundStatus.TICKETED
    assert Ticket.objects.get().subject == "Shop checkout shows an error"
    unreadable.refresh_from_db()
    assert unreadable.status == InboundStatus.QUARANTINED


def test_only_an_admin_may_delete_from_the_quarantine(client, staff, admin_user, unreadable):
    delete = reverse("admin:mail_quarantined_delete", args=[unreadable.pk])
    client.force_login(staff)
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert InboundEmail.objects.filter(pk=unreadable.pk).exists()
    client.force_login(admin_user)
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not InboundEmail.objects.filter(pk=unreadable.pk).exists()


@pytest.mark.parametrize("persona", ["manager_a", "contact_b"])
def test_a_client_cannot_reach_the_quarantine(client, request, persona, held):
    client.force_login(request.getfixturevalue(persona))
    for url in (
        reverse(CHANGELIST),
        reverse("admin:mail_quarantined_change", args=[held.pk]),
        reverse("admin:mail_inboundemail_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    _release(client, held)
    held.refresh_from_db()
    assert held.status == InboundStatus.QUARANTINED
    assert not Ticket.objects.exists()


def test_nobody_signed_in_cannot_reach_the_quarantine(client, held):
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302
    _release(client, held)
    held.refresh_from_db()
    assert held.status == InboundStatus.QUARANTINED
