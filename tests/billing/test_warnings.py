"""Warnings to the account manager: fair usage at 75 %, allowance at 80 % and 100 %,
billable work without an approved estimate — each sent once."""

from datetime import date

import pytest
from django.core import mail

from caredesk.accounts.models import Role, User
from caredesk.billing.models import BillingWarning, WarningKind
from caredesk.billing.notify import send_billing_warnings, send_pending
from caredesk.tickets.actions import do_approve_estimate, do_request_estimate


def _sent() -> list[tuple[list[str], str]]:
    return [(m.to, m.subject) for m in mail.outbox]


def test_ticket_reaching_75_percent_of_fair_usage_warns_once(kijo_client, make_ticket, log):
    ticket = make_ticket(kijo_client, "bug-fix", "Slow pages")
    log(ticket, 60, date(2026, 7, 1))
    assert not BillingWarning.objects.exists()  # 50 %: nothing yet

    log(ticket, 30, date(2026, 7, 2))  # 90 min: 75 %
    log(ticket, 20, date(2026, 7, 3))
    log(ticket, 40, date(2026, 7, 6))  # past the cap: still the one warning

    assert send_pending() == 1
    assert send_pending() == 0
    assert _sent() == [
        (
            ["lena@agency.example"],
            f"[{ticket.reference}] Fair usage: 1 h 30 of 2 h in July 2026 — Alpha Bakery",
        )
    ]
    body = mail.outbox[0].body
    assert "all of this ticket's time in July 2026 is billed" in body
    html = mail.outbox[0].alternatives[0][0]
    assert "Slow pages" in html and "fair-usage limit" in html


def test_fair_usage_warning_comes_again_in_a_new_calendar_month(kijo_client, make_ticket, log):
    ticket = make_ticket(kijo_client, "bug-fix")
    log(ticket, 100, date(2026, 6, 29))
    log(ticket, 100, date(2026, 7, 1))

    assert sorted(BillingWarning.objects.values_list("key", flat=True)) == [
        f"fair_usage:{ticket.pk}:2026-06",
        f"fair_usage:{ticket.pk}:2026-07",
    ]


def test_allowance_warnings_at_80_and_100_percent_each_once(package_client, make_ticket, log):
    ticket = make_ticket(package_client, "bug-fix")
    log(ticket, 200, date(2026, 7, 1))
    log(ticket, 40, date(2026, 7, 2))  # 240 of 300: 80 %
    log(ticket, 30, date(2026, 7, 3))
    log(ticket, 30, date(2026, 7, 6))  # 300: used up
    log(ticket, 60, date(2026, 7, 7))

    kinds = list(BillingWarning.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == [WarningKind.ALLOWANCE_80, WarningKind.ALLOWANCE_100]
    send_billing_warnings.call()
    assert [subject for _, subject in _sent()] == [
        "80 % of the allowance used: Beta Dental, July 2026",
        "Allowance used up: Beta Dental, July 2026",
    ]
    assert "4 h of the 5 h included in Support Package 5 h" in mail.outbox[0].body
    assert "do not roll over" in mail.outbox[1].body


def test_billable_work_on_an_unapproved_request_warns_once(kijo_client, make_ticket, log, agent):
    feature = make_ticket(kijo_client, "new-feature", "Booking calendar")
    do_request_estimate(feature, 240, acting_user=agent)
    log(feature, 30, date(2026, 7, 1))
    log(feature, 30, date(2026, 7, 2))

    assert list(BillingWarning.objects.values_list("kind", flat=True)) == [WarningKind.UNAPPROVED]
    send_pending()
    body = mail.outbox[0].body
    assert "has not approved the estimate of 4 h" in body
    assert "New feature is not included in KIJO Care" in body


def test_approved_or_included_work_does_not_warn(kijo_client, make_ticket, log, agent, requester_a):
    feature = make_ticket(kijo_client, "new-feature")
    do_request_estimate(feature, 120, acting_user=agent)
    do_approve_estimate(feature, acting_contact=requester_a.contact)
    log(feature, 30, date(2026, 7, 1))
    log(make_ticket(kijo_client, "bug-fix"), 30, date(2026, 7, 1))

    assert not BillingWarning.objects.exists()


def test_without_an_account_manager_the_admins_are_told(org_b, package_5h, make_ticket, log):
    from .conftest import subscribe

    subscribe(org_b, package_5h)
    User.objects.create_user("boss@agency.example", "x", role=Role.ADMIN)
    log(make_ticket(org_b, "bug-fix"), 250, date(2026, 7, 1))

    send_pending()

    assert [to for to, _ in _sent()] == [["boss@agency.example"]]


def test_a_failed_send_is_retried_later_and_then_sent_once(
    package_client, make_ticket, log, monkeypatch
):
    log(make_ticket(package_client, "bug-fix"), 250, date(2026, 7, 1))

    def broken(self, *args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
    assert send_pending() == 0
    monkeypatch.undo()
    assert send_pending() == 1
    assert send_pending() == 0
    assert BillingWarning.objects.get().recipients == ["lena@agency.example"]


@pytest.mark.django_db(transaction=True)
def test_warning_is_queued_for_the_worker_after_commit(package_client, make_ticket, log):
    from django_tasks_db.models import DBTaskResult

    log(make_ticket(package_client, "bug-fix"), 250, date(2026, 7, 1))

    assert DBTaskResult.objects.filter(task_path__endswith="send_billing_warnings").exists()
