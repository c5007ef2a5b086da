"""Reports in the admin: list, intro edited through the form, hold, send and resend actions."""

from django.urls import reverse

from caredesk.mail.models import OutboundEmail
from caredesk.reports.models import EventKind, Report, ReportState

LIST = "admin:reports_report_changelist"


def test_admin_lists_reports_with_preview_and_pdf_links(client, admin_user, built, org_a):
    client.force_login(admin_user)
    page = client.get(reverse(LIST)).content.decode()
    report = built[org_a.pk]
    assert "Alpha Bakery" in page and "October 2026" in page
    assert f"/reports/{report.pk}/" in page
    pdf = client.get(reverse("admin:reports_report_pdf", args=[report.pk]))
    assert pdf.content == bytes(report.pdf)


def test_editing_the_intro_in_the_form_rebuilds_the_archive_and_logs_it(
    client, admin_user, built, org_a
):
    client.force_login(admin_user)
    report = built[org_a.pk]
    url = reverse("admin:reports_report_change", args=[report.pk])
    response = client.post(
        url,
        {
            "intro": "Welcome to your first report.",
            "events-TOTAL_FORMS": "1",
            "events-INITIAL_FORMS": "1",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
            "events-0-id": report.events.get().pk,
            "events-0-report": report.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    report.refresh_from_db()
    assert report.intro == "Welcome to your first report."
    assert "Welcome to your first report." in report.html
    assert report.events.filter(kind=EventKind.INTRO, actor=admin_user).exists()


def test_hold_send_and_resend_actions(client, admin_user, built, org_a, org_b):
    client.force_login(admin_user)
    a, b = built[org_a.pk], built[org_b.pk]

    def act(action, *reports):
        return client.post(
            reverse(LIST),
            {"action": action, "_selected_action": [r.pk for r in reports]},
            follow=True,
        )

    act("hold", a)
    page = act("send", a, b).content.decode()
    assert "Sent 1 report(s)." in page
    assert Report.objects.get(pk=a.pk).state == ReportState.DRAFT
    act("release", a)
    act("send", a)
    page = act("resend", b).content.decode()
    assert "Resent 1 report(s)." in page
    assert OutboundEmail.objects.filter(kind="report").count() == 3


def test_a_held_report_refuses_a_second_hold_only_once_sent(client, admin_user, built, org_a):
    client.force_login(admin_user)
    client.post(reverse(LIST), {"action": "send", "_selected_action": [built[org_a.pk].pk]})
    page = client.post(
        reverse(LIST), {"action": "hold", "_selected_action": [built[org_a.pk].pk]}, follow=True
    ).content.decode()
    assert "has been sent already" in page


def test_client_contacts_cannot_open_the_reports_admin(client, manager_a, built):
    client.force_login(manager_a)
    response = client.get(reverse(LIST))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
