"""Sending: once per report through the outbox, whatever crashes; the PDF and pictures attached."""

import pytest
from django.core import mail
from django.db import transaction

from caredesk.mail.models import OutboundEmail, OutboundState
from caredesk.mail.outbound import send_outbox
from caredesk.reports import actions
from caredesk.reports.deliver import REPORT_HEADER
from caredesk.reports.models import EventKind, Report, ReportEvent, ReportState


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


@pytest.fixture
def attaching_backend(settings):
    settings.EMAIL_BACKEND = "caredesk.reports.mailbackend.EmailBackend"
    settings.CAREDESK_MAIL_TRANSPORT = "django.core.mail.backends.locmem.EmailBackend"


def report_mails() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind="report").order_by("pk"))


def test_each_report_goes_once_to_its_clients_report_recipients(built, org_a, org_b):
    counts = actions.send_month(2026, 10)
    assert counts["sent"] == 2
    to = {tuple(email.to) for email in report_mails()}
    assert to == {("rita@alpha.example",), ("bea@beta.example",)}
    assert Report.objects.filter(state=ReportState.SENT).count() == 2
    assert actions.send_month(2026, 10)["sent"] == 0  # a second run finds nothing to send
    assert len(report_mails()) == 2


def test_a_run_killed_between_two_clients_and_run_again_sends_each_report_once(built):
    seen = []

    def die_after_first(text):
        seen.append(text)
        raise Killed

    with pytest.raises(Killed):
        actions.send_month(2026, 10, progress=die_after_first)
    assert len(seen) == 1 and len(report_mails()) == 1
    actions.send_month(2026, 10)
    assert len(report_mails()) == 2
    assert sorted(len(e.to) for e in report_mails()) == [1, 1]
    assert ReportEvent.objects.filter(kind=EventKind.SENT).count() == 2


def test_a_crash_after_queueing_but_before_commit_leaves_no_mail_and_no_claim(built, org_a):
    report = built[org_a.pk]
    with pytest.raises(Killed), transaction.atomic():
        actions.do_send(report)
        assert len(report_mails()) == 1
        raise Killed  # the process dies before the transaction commits
    report.refresh_from_db()
    assert report.state == ReportState.DRAFT and report_mails() == []
    actions.send_month(2026, 10)
    assert [e.to for e in report_mails()].count(["rita@alpha.example"]) == 1


def test_two_senders_racing_for_one_report_send_it_once(built, org_a):
    report = built[org_a.pk]
    stale = Report.objects.get(pk=report.pk)  # the second sender loaded it too
    assert actions.do_send(report) is not None
    assert actions.do_send(stale) is None
    assert len(report_mails()) == 1


def test_held_reports_wait_and_go_once_released(built, org_a, staff):
    actions.do_hold(built[org_a.pk], acting_user=staff, reason="Check the incident first")
    counts = actions.send_month(2026, 10)
    assert (counts["sent"], counts["held"]) == (1, 1)
    actions.do_release(built[org_a.pk], acting_user=staff)
    assert actions.send_month(2026, 10)["sent"] == 1
    assert len(report_mails()) == 2


def test_a_client_without_report_recipients_is_built_but_not_sent(built, org_b):
    from caredesk.clients.models import Contact

    Contact.objects.filter(organisation=org_b).update(is_report_recipient=False)
    counts = actions.send_month(2026, 10)
    assert (counts["sent"], counts["no_recipients"]) == (1, 1)
    assert Report.objects.get(organisation=org_b).state == ReportState.DRAFT


def test_resend_sends_the_archive_again_and_logs_who_asked(built, org_a, staff):
    actions.do_send(built[org_a.pk])
    actions.do_resend(built[org_a.pk], acting_user=staff, to=["owner@alpha.example"])
    assert [e.to for e in report_mails()] == [["rita@alpha.example"], ["owner@alpha.example"]]
    event = ReportEvent.objects.get(kind=EventKind.RESENT)
    assert event.actor == staff and event.email == report_mails()[1]


def test_the_sent_mail_carries_the_pdf_and_the_pictures_its_html_names(
    october, org_a, attaching_backend, django_capture_on_commit_callbacks
):
    [report] = actions.do_build_reports(2026, 10, organisations=[org_a.pk])
    actions.do_send(report)
    send_outbox.call()  # the month's ticket mails go too; the report is one of them
    [message] = [m for m in mail.outbox if "maintenance report" in m.subject]
    assert REPORT_HEADER not in message.extra_headers  # never leaves caredesk
    html = message.alternatives[0].content
    assert "cid:chart-" in html and "<script" not in html
    names = {}
    for part in message.attachments:
        if hasattr(part, "get_content_type"):  # inline MIME images
            names[part["Content-ID"]] = part.get_content_type()
        else:
            names[part.filename] = part.mimetype
    shop = october["shop"].pk
    assert names[f"<chart-{shop}>"] == "image/png" and f"cid:chart-{shop}" in html
    assert names[report.filename] == "application/pdf"
    raw = message.message().as_bytes()
    assert b"%PDF" in bytes(report.pdf)[:8] and b"Content-ID: <chart-" in raw
    assert OutboundEmail.objects.get(kind="report").state == OutboundState.SENT


def test_a_mail_naming_a_deleted_report_fails_and_is_retried_not_sent_bare(
    built, org_a, attaching_backend
):
    actions.do_send(built[org_a.pk])
    Report.objects.filter(pk=built[org_a.pk].pk).delete()
    send_outbox.call()
    email = OutboundEmail.objects.get(kind="report")
    assert email.state == OutboundState.QUEUED and "gone" in email.last_error
    assert not [m for m in mail.outbox if "maintenance report" in m.subject]
