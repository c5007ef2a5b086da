"""A client's ticket list and ticket page: only what its contact may see, never internal notes."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from caredesk.tickets import actions
from caredesk.tickets.attachments import Incoming, store
from caredesk.tickets.models import Attachment, MessageKind, Status, Ticket

from .conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def robs(raise_ticket, requester_a) -> Ticket:
    return raise_ticket(requester_a, subject="Rob's gallery is broken")


@pytest.fixture
def mias(raise_ticket, manager_a) -> Ticket:
    return raise_ticket(manager_a, subject="Mia's invoice question")


@pytest.fixture
def beas(contact_b) -> Ticket:
    return actions.do_create_ticket(
        subject="Beta's secret ticket", body="B only", channel="portal", requester=contact_b.contact
    )


def test_requester_lists_only_its_own_tickets(as_requester, robs, mias, beas):
    page = as_requester.get("/portal/").content.decode()
    assert "Rob&#x27;s gallery is broken" in page
    assert "Mia" not in page.split("<main")[1].replace("Mia Manager", "")
    assert "Beta" not in page


def test_manager_lists_the_whole_organisations_tickets_with_who_raised_them(
    as_manager, robs, mias, beas
):
    page = as_manager.get("/portal/").content.decode()
    assert "Rob&#x27;s gallery is broken" in page
    assert "Mia&#x27;s invoice question" in page
    assert "Rob Requester" in page
    assert "Beta" not in page


def test_followed_ticket_is_listed_for_a_requester(as_requester, mias, requester_a):
    mias.followers.add(requester_a.contact)
    assert "Mia&#x27;s invoice question" in as_requester.get("/portal/").content.decode()


def test_open_and_closed_filters(as_requester, robs, raise_ticket, requester_a, staff):
    done = raise_ticket(requester_a, subject="Old request")
    actions.do_change_status(done, Status.SOLVED, acting_user=staff)

    open_page = as_requester.get("/portal/").content.decode()
    closed_page = as_requester.get("/portal/?show=closed").content.decode()
    all_page = as_requester.get("/portal/?show=all").content.decode()

    assert "gallery" in open_page and "Old request" not in open_page
    assert "Old request" in closed_page and "gallery" not in closed_page
    assert "Old request" in all_page and "gallery" in all_page
    assert "Solved" in closed_page


@pytest.mark.parametrize("query", ["?show=nonsense", "?page=abc", "?page=-4", "?page=99999999999"])
def test_odd_list_queries_are_shrugged_off(as_requester, robs, query):
    assert as_requester.get(f"/portal/{query}").status_code == 200


def test_list_says_the_status_in_client_words_and_the_last_update(as_requester, robs, staff):
    actions.do_reply(robs, "Which page?", acting_user=staff, status=Status.PENDING)
    page = as_requester.get("/portal/").content.decode()
    assert "Waiting for your reply" in page
    assert "Mon 23 Nov, 12:00" in page


def test_ticket_page_shows_the_public_conversation_only(as_requester, robs, staff):
    actions.do_add_note(robs, "Client is difficult, bill everything", acting_user=staff)
    actions.do_log_call(robs, "Called the client about it", acting_user=staff)
    actions.do_reply(robs, "We are looking at the gallery.", acting_user=staff)

    page = as_requester.get(f"/portal/tickets/{robs.number}/").content.decode()

    assert "Images do not load since the update." in page
    assert "We are looking at the gallery." in page
    assert "Ada Agent" in page
    assert "difficult" not in page
    assert "bill everything" not in page
    assert "Called the client" not in page


def test_files_of_internal_notes_are_never_listed(as_requester, robs, staff):
    note = actions.do_add_note(robs, "logs", acting_user=staff)
    store(note, [Incoming("server-secrets.log", "text/plain", b"secret")])
    store(robs.messages.get(kind=MessageKind.CUSTOMER), [Incoming("shot.png", "image/png", b"png")])

    page = as_requester.get(f"/portal/tickets/{robs.number}/").content.decode()

    assert "shot.png" in page
    assert "server-secrets.log" not in page


def test_attachment_links_go_through_the_access_rules(as_requester, as_other, robs):
    store(
        robs.messages.get(kind=MessageKind.CUSTOMER), [Incoming("a/b?c.png", "image/png", b"png")]
    )
    item = Attachment.objects.get()
    page = as_requester.get(f"/portal/tickets/{robs.number}/").content.decode()
    url = f"/attachments/{item.pk}/a_b_c.png"

    assert url in page
    response = as_requester.get(url)
    assert response.status_code == 200
    assert as_other.get(url).status_code == 404


def test_another_clients_ticket_is_not_found(as_other, robs):
    assert as_other.get(f"/portal/tickets/{robs.number}/").status_code == 404


def test_manager_sees_a_colleagues_ticket_but_a_requester_does_not(
    as_manager, as_requester, mias, robs
):
    assert as_manager.get(f"/portal/tickets/{robs.number}/").status_code == 200
    assert as_requester.get(f"/portal/tickets/{mias.number}/").status_code == 404


@pytest.mark.parametrize("number", ["0", "999999", "99999999999999999999999", "-1", "abc"])
def test_bad_ticket_numbers_are_not_found(as_requester, robs, number):
    assert as_requester.get(f"/portal/tickets/{number}/").status_code == 404


def test_new_ticket_page_promises_the_first_response(as_requester, robs):
    page = as_requester.get(f"/portal/tickets/{robs.number}/").content.decode()
    assert "by Tue 24 Nov, 12:00" in page


def test_promise_is_gone_once_answered(as_requester, robs, staff):
    actions.do_reply(robs, "On it", acting_user=staff)
    page = as_requester.get(f"/portal/tickets/{robs.number}/").content.decode()
    assert "by Tue 24 Nov" not in page


def test_client_replies_with_a_file(as_requester, robs):
    response = as_requester.post(
        f"/portal/tickets/{robs.number}/reply/",
        {
            "body": "Here is a screenshot",
            "files": [SimpleUploadedFile("shot.png", b"\x89PNG", "image/png")],
        },
    )
    assert response.url == f"/portal/tickets/{robs.number}/"
    message = robs.messages.filter(kind=MessageKind.CUSTOMER).last()
    assert message.body == "Here is a screenshot"
    assert message.author_contact.email == "rob@alpha.example"
    assert [a.filename for a in message.attachments.all()] == ["shot.png"]


@pytest.mark.parametrize("status", [Status.SOLVED, Status.PENDING])
def test_reply_reopens_a_solved_or_pending_ticket(as_requester, robs, staff, status):
    actions.do_reply(robs, "Done, please check", acting_user=staff, status=status)
    as_requester.post(f"/portal/tickets/{robs.number}/reply/", {"body": "Still broken"})
    robs.refresh_from_db()
    assert robs.status == Status.OPEN


def test_reply_to_a_closed_ticket_is_refused_with_a_way_on(as_requester, robs):
    as_requester.post(f"/portal/tickets/{robs.number}/close/")
    response = as_requester.post(f"/portal/tickets/{robs.number}/reply/", {"body": "And another"})
    assert response.status_code == 400
    assert b"This ticket is closed. Please raise a new request." in response.content
    assert robs.messages.count() == 1


def test_blocked_file_type_is_refused_and_nothing_is_saved(as_requester, robs):
    response = as_requester.post(
        f"/portal/tickets/{robs.number}/reply/",
        {
            "body": "see file",
            "files": [SimpleUploadedFile("run.exe", b"MZ", "application/x-msdownload")],
        },
    )
    assert response.status_code == 400
    assert b"run.exe: files of type .exe are not accepted" in response.content
    assert robs.messages.count() == 1


def test_file_over_the_size_limit_is_refused(as_requester, robs, settings):
    settings.CAREDESK_MAX_ATTACHMENT_MB = 1
    big = SimpleUploadedFile("big.pdf", b"x" * (1024 * 1024 + 1), "application/pdf")
    response = as_requester.post(
        f"/portal/tickets/{robs.number}/reply/", {"body": "big", "files": [big]}
    )
    assert response.status_code == 400
    assert b"big.pdf: larger than 1 MB" in response.content


def test_file_names_lose_folders_and_control_characters(as_requester, robs):
    odd = SimpleUploadedFile("../../etc/pass\x07wd.txt", b"hello", "text/plain")
    as_requester.post(f"/portal/tickets/{robs.number}/reply/", {"body": "odd", "files": [odd]})
    assert Attachment.objects.get().filename == "passwd.txt"


@pytest.mark.parametrize("body", ["", "   ", "nul \x00 byte", "x" * 20_001])
def test_bad_replies_are_told_not_crashed(as_requester, robs, body):
    response = as_requester.post(f"/portal/tickets/{robs.number}/reply/", {"body": body})
    assert response.status_code == 400
    assert b"field-error" in response.content
    assert robs.messages.count() == 1


def test_reply_to_another_clients_ticket_is_not_found(as_other, robs):
    response = as_other.post(f"/portal/tickets/{robs.number}/reply/", {"body": "hi"})
    assert response.status_code == 404
    assert robs.messages.count() == 1


def test_client_closes_its_ticket(as_requester, robs):
    response = as_requester.post(f"/portal/tickets/{robs.number}/close/")
    robs.refresh_from_db()
    assert robs.status == Status.CLOSED
    event = robs.events.get(kind="status")
    assert event.actor_contact.email == "rob@alpha.example"
    assert "is closed" in as_requester.get(response.url).content.decode()


def test_closing_needs_a_post(as_requester, robs):
    assert as_requester.get(f"/portal/tickets/{robs.number}/close/").status_code == 405


def test_another_client_cannot_close(as_other, robs):
    assert as_other.post(f"/portal/tickets/{robs.number}/close/").status_code == 404
    robs.refresh_from_db()
    assert robs.status == Status.NEW


def test_client_approves_a_requested_estimate(as_requester, robs, staff):
    actions.do_request_estimate(robs, 150, acting_user=staff)
    page = as_requester.get(f"/portal/tickets/{robs.number}/").content.decode()
    assert "Estimate: 2 h 30 min" in page
    assert "Approve the estimate" in page

    as_requester.post(f"/portal/tickets/{robs.number}/approve/")

    robs.refresh_from_db()
    assert robs.estimate_approved_at is not None
    page = as_requester.get(f"/portal/tickets/{robs.number}/").content.decode()
    assert "Approve the estimate" not in page
    assert "Approved Mon 23 Nov 2026, 12:00" in page


def test_approving_without_an_estimate_is_told(as_requester, robs):
    response = as_requester.post(f"/portal/tickets/{robs.number}/approve/", follow=True)
    assert b"no estimate waiting" in response.content


def test_times_read_in_the_clients_calendar_zone(robs, traveller, staff, requester_a):
    # The reply is written at 12:00 UTC on a summer day: 13:00 in London.
    traveller.move_to(datetime(2027, 6, 14, 12, tzinfo=UTC))
    actions.do_reply(robs, "Summer reply", acting_user=staff)
    page = client_for(requester_a).get(f"/portal/tickets/{robs.number}/").content.decode()
    assert "Mon 14 Jun, 13:00" in page
