"""POST /api/v1/widget/<key>/tickets: a visitor's form becomes a ticket, or a clear refusal."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from caredesk.clients.models import Contact
from caredesk.mail.models import OutboundEmail
from caredesk.tickets.models import Attachment, Ticket
from caredesk.tickets.sla_sync import promised_first_response
from caredesk.widget.models import QuarantinedSubmission

from .conftest import ORIGIN, tickets_url


def test_contact_of_the_sites_client_gets_a_ticket_with_number_and_promise(
    submit, widget_site, requester_a
):
    response = submit()
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["number"] == ticket.number
    assert body["reference"] == f"#{ticket.number}"
    assert ticket.channel == "widget"
    assert ticket.requester == requester_a.contact
    assert ticket.organisation == widget_site.organisation
    assert ticket.site == widget_site
    # KIJO: non-critical, first response within one business day, London time.
    assert body["promise"] == promised_first_response(ticket) == "by Tue 2 Jun, 09:00"
    assert body["timezone"] == "Europe/London"
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert OutboundEmail.objects.filter(ticket=ticket, kind="confirmation").exists()


def test_message_names_the_page_it_was_sent_from(submit, requester_a):
    submit()
    message = Ticket.objects.get().messages.get()
    assert message.body.startswith("Images do not load since the update.")
    assert f"{ORIGIN}/gallery" in message.body


def test_stranger_gets_an_unassigned_ticket_and_no_promise(submit, widget_site):
    response = submit(email="someone@elsewhere.example", name="Sam Stranger")
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.organisation is None and ticket.requester is None and ticket.site is None
    assert ticket.requester_email == "someone@elsewhere.example"
    assert response.json()["promise"] is None
    assert widget_site.name in ticket.messages.get().body
    assert not Contact.objects.filter(email="someone@elsewhere.example").exists()


def test_contact_of_another_client_is_a_stranger_on_this_site(submit, contact_b):
    response = submit(email="bea@beta.example")
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.organisation is None and ticket.requester is None


def test_someone_from_the_clients_email_domain_becomes_its_contact(submit, widget_site):
    response = submit(email="new.person@alpha.example", name="New Person")
    assert response.status_code == 201
    contact = Contact.objects.get(email="new.person@alpha.example")
    assert contact.organisation == widget_site.organisation
    assert Ticket.objects.get().requester == contact
    assert response.json()["promise"]


def test_strangers_are_refused_next_to_the_email_field_when_unknown_senders_are(submit, settings):
    settings.CAREDESK_UNKNOWN_SENDERS = "refuse"
    response = submit(email="someone@elsewhere.example")
    assert response.status_code == 422
    assert "not registered" in response.json()["errors"]["email"][0]
    assert not Ticket.objects.exists()


def test_missing_and_bad_fields_come_back_by_field(submit):
    response = submit(name="", email="not-an-address", subject=None, description="   ")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"name", "email", "subject", "description"}
    assert errors["name"] == ["Please tell us your name."]
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert not Ticket.objects.exists()


def test_nul_bytes_and_huge_fields_are_field_errors_not_crashes(submit):
    response = submit(name="Rob\x00", subject="x" * 100_000, description="a\x00b")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"name", "subject", "description"}


def test_a_body_that_is_not_a_form_is_a_field_error(widget_site, browser_client):
    response = browser_client.post(
        tickets_url(widget_site), b'{"name": 3}', content_type="application/json"
    )
    assert response.status_code == 422
    assert "email" in response.json()["errors"]


def test_a_broken_multipart_body_is_a_400(widget_site, browser_client):
    response = browser_client.post(
        tickets_url(widget_site),
        b"--nope\r\nContent-Disposition: form-data\r\n\r\n",
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "The form could not be read."


def test_a_request_larger_than_the_attachment_limit_is_a_413(widget_site, settings):
    settings.CAREDESK_MAX_ATTACHMENT_MB = 1
    client = Client(headers={"Origin": ORIGIN})
    big = SimpleUploadedFile("big.pdf", b"%" * (3 * 1024 * 1024), "application/pdf")
    response = client.post(tickets_url(widget_site), {"name": "x", "attachment": big})
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"]


def test_attachment_is_stored_on_the_first_message(submit, requester_a):
    upload = SimpleUploadedFile("screenshot.png", b"\x89PNG fake image", "image/png")
    response = submit(attachment=upload)
    assert response.status_code == 201
    attachment = Attachment.objects.get()
    assert attachment.filename == "screenshot.png"
    assert attachment.message == Ticket.objects.get().messages.get()
    assert attachment.file.read() == b"\x89PNG fake image"


def test_attachment_limits_of_the_tickets_app_are_field_errors(submit, settings, requester_a):
    settings.CAREDESK_MAX_ATTACHMENT_MB = 1
    too_big = SimpleUploadedFile("video.mp4", b"0" * (1024 * 1024 + 1), "video/mp4")
    response = submit(attachment=too_big)
    assert response.status_code == 422
    assert response.json()["errors"]["attachment"] == ["The file is larger than 1 MB."]
    program = SimpleUploadedFile("setup.exe", b"MZ", "application/octet-stream")
    response = submit(attachment=program)
    assert "files of type .exe are not accepted" in response.json()["errors"]["attachment"][0]
    empty = SimpleUploadedFile("empty.txt", b"", "text/plain")
    assert "attachment" in submit(attachment=empty).json()["errors"]
    assert not Ticket.objects.exists()


def test_filled_honeypot_is_quarantined_and_answered_like_a_success(submit, requester_a):
    response = submit(website="http://cheap-pills.example")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"number", "reference", "promise", "timezone"}
    assert body["promise"] == "by Tue 2 Jun, 09:00"
    assert not Ticket.objects.exists()
    caught = QuarantinedSubmission.objects.get()
    assert caught.reason == "honeypot"
    assert caught.honeypot == "http://cheap-pills.example"
    assert caught.email == "rob@alpha.example"
    assert caught.client_ip == "203.0.113.7"
    assert caught.origin == ORIGIN
    assert not OutboundEmail.objects.exists()


def test_form_sent_faster_than_a_person_types_is_quarantined(submit):
    response = submit(seconds=1)
    assert response.status_code == 201
    assert not Ticket.objects.exists()
    caught = QuarantinedSubmission.objects.get()
    assert caught.reason == "too_fast"
    assert "1.0 s" in caught.detail


def test_form_without_or_with_a_forged_token_is_quarantined(submit):
    assert submit(token="").status_code == 201
    assert submit(token="eyJzIjoxfQ:forged:sig").status_code == 201
    assert not Ticket.objects.exists()
    assert list(QuarantinedSubmission.objects.values_list("reason", flat=True)) == [
        "no_token",
        "no_token",
    ]


def test_token_of_another_site_is_not_accepted(submit, site_b, requester_a):
    site_b.widget_enabled = True
    site_b.widget_origins = ORIGIN
    site_b.save()
    other = Client(headers={"Origin": ORIGIN})
    token = other.get(f"/api/v1/widget/{site_b.widget_key}/form").json()["token"]
    assert submit(token=token).status_code == 201
    assert QuarantinedSubmission.objects.get().detail == "form token of another site"


def test_form_left_open_for_a_day_asks_to_send_again(submit, requester_a):
    response = submit(seconds=13 * 3600)
    assert response.status_code == 422
    assert "send it again" in response.json()["errors"]["token"][0]
    assert not Ticket.objects.exists() and not QuarantinedSubmission.objects.exists()


def test_odd_requests_get_a_4xx_never_a_500(widget_site, browser_client, clock_at_monday):
    url = tickets_url(widget_site)
    many = "&".join(f"f{n}=x" for n in range(1500))
    odd = [
        browser_client.post(url, {"attachment": "not a file", "name": ["a", "b"]}),
        browser_client.post(url, many, content_type="application/x-www-form-urlencoded"),
        browser_client.post(url, b"\x00\xff\xfe", content_type="application/octet-stream"),
        browser_client.post(url, {"email": "a@b.example\r\nBcc: x@y.example"}),
        browser_client.post(url, {"token": "x" * 10_000, "website": "\x00"}),
        browser_client.post("/api/v1/widget//tickets", {}),
        browser_client.put(url, {}),
    ]
    statuses = [response.status_code for response in odd]
    assert all(400 <= status < 500 for status in statuses), statuses
    assert not Ticket.objects.exists()
