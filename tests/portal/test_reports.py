"""Monthly reports in the portal: the managers' and recipients' archive, sent reports only."""

import pytest

from caredesk.clients.models import Contact
from caredesk.portal.actions import login_for
from caredesk.reports.actions import do_build_reports
from caredesk.reports.models import Report, ReportState

from .conftest import client_for

pytestmark = pytest.mark.django_db


def _built(organisation, staff, month: int) -> Report:
    (report,) = do_build_reports(2026, month, organisations=[organisation.pk], acting_user=staff)
    return report


@pytest.fixture
def october(client_a, site_a, staff) -> Report:
    report = _built(client_a, staff, 10)
    Report.objects.filter(pk=report.pk).update(state=ReportState.SENT)
    return report


@pytest.fixture
def november_draft(client_a, site_a, staff) -> Report:
    return _built(client_a, staff, 11)


@pytest.fixture
def beta_report(org_b, site_b, staff) -> Report:
    report = _built(org_b, staff, 10)
    Report.objects.filter(pk=report.pk).update(state=ReportState.SENT)
    return report


def test_manager_lists_sent_reports_and_reads_one_online_and_as_pdf(
    as_manager, october, november_draft
):
    page = as_manager.get("/portal/reports/").content.decode()
    assert "October 2026" in page
    assert "November 2026" not in page  # a draft is never shown
    assert f"/reports/{october.pk}/pdf/" in page
    online = as_manager.get(f"/portal/reports/{october.pk}/").content.decode()
    assert "Monthly report: October 2026" in online and "Alpha" in online
    assert "/admin/" not in online  # the client's copy has no staff links
    pdf = as_manager.get(f"/reports/{october.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert bytes(pdf.content).startswith(b"%PDF")


def test_report_recipient_who_is_not_a_manager_sees_the_archive(client_a, october):
    rita = Contact.objects.create(
        organisation=client_a, name="Rita", email="rita@alpha.example", is_report_recipient=True
    )
    client = client_for(login_for(rita))
    assert client.get(f"/portal/reports/{october.pk}/").status_code == 200
    assert "Reports</a>" in client.get("/portal/").content.decode()


def test_plain_requester_has_no_reports(as_requester, october):
    assert as_requester.get("/portal/reports/").status_code == 404
    assert as_requester.get(f"/portal/reports/{october.pk}/").status_code == 404
    assert as_requester.get(f"/reports/{october.pk}/pdf/").status_code == 404
    assert "Reports</a>" not in as_requester.get("/portal/").content.decode()


def test_another_clients_report_is_not_found(as_manager, beta_report):
    assert as_manager.get(f"/portal/reports/{beta_report.pk}/").status_code == 404
    assert as_manager.get(f"/reports/{beta_report.pk}/pdf/").status_code == 404
    assert "October 2026" not in as_manager.get("/portal/reports/").content.decode()
