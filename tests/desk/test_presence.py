"""Two agents on one ticket: each heartbeat is one upserted row; the others see a notice."""

import pytest

from caredesk.desk.models import Presence
from caredesk.desk.presence import do_heartbeat, others_on

from .conftest import signed_in

pytestmark = pytest.mark.django_db


def beat(client, ticket, body=""):
    return client.post(f"/tickets/{ticket.number}/presence", {"body": body})


def test_a_heartbeat_is_one_row_per_agent_and_ticket(desk, omar, form_ticket, clock_at):
    for _ in range(3):
        assert beat(desk, form_ticket).status_code == 200
        clock_at.shift(10)
    row = Presence.objects.get()
    assert (row.user, row.ticket_id, row.replying) == (omar, form_ticket.pk, False)


def test_the_other_agent_sees_who_is_viewing_and_who_is_replying(
    desk, omar, other_agent, form_ticket
):
    nia = signed_in(other_agent)
    assert beat(desk, form_ticket).content.decode().strip() == ""
    seen = beat(nia, form_ticket).content.decode()
    assert "Omar Haddad</strong> is viewing this ticket" in seen
    beat(desk, form_ticket, body="Hi Jo, ")
    seen = beat(nia, form_ticket).content.decode()
    assert "Omar Haddad</strong> is replying" in seen
    assert "you may both answer" in seen
    page = nia.get(f"/tickets/{form_ticket.number}/").content.decode()
    assert "is replying" in page  # also on a full page load, without waiting for a poll


def test_presence_expires_after_thirty_seconds(desk, omar, other_agent, form_ticket, clock_at):
    beat(desk, form_ticket, body="typing")
    clock_at.shift(31)
    assert others_on(form_ticket, other_agent) == []


def test_sending_the_reply_clears_replying(desk, omar, other_agent, form_ticket):
    beat(desk, form_ticket, body="Hi")
    desk.post(f"/tickets/{form_ticket.number}/reply", {"kind": "public_reply", "body": "Hi"})
    [row] = others_on(form_ticket, other_agent)
    assert row.replying is False


def test_old_rows_are_swept_by_later_heartbeats(omar, other_agent, form_ticket, clock_at):
    do_heartbeat(form_ticket, acting_user=omar, replying=False)
    clock_at.shift(2 * 3600)
    do_heartbeat(form_ticket, acting_user=other_agent, replying=False)
    assert list(Presence.objects.values_list("user", flat=True)) == [other_agent.pk]


def test_a_heartbeat_on_a_missing_ticket_is_404(desk, agency):
    assert desk.post("/tickets/999999/presence").status_code == 404
    assert desk.get("/tickets/999999/presence").status_code == 405
