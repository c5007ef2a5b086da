"""Statements in the portal: a client's managers and billing contacts, finalised ones only."""

from datetime import date
from decimal import Decimal

import pytest

from caredesk.billing import statements
from caredesk.billing.models import Statement, StatementStatus
from caredesk.clients.models import Contact
from caredesk.portal.actions import login_for

from .conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def october(client_a) -> Statement:
    return statements.build_one(client_a, 2026, 10, finalise=True)


@pytest.fixture
def november_draft(client_a) -> Statement:
    return statements.build_one(client_a, 2026, 11)


@pytest.fixture
def beta_statement(org_b) -> Statement:
    return Statement.objects.create(
        organisation=org_b,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 11, 1),
        window_start=date(2026, 10, 1),
        window_end=date(2026, 11, 1),
        status=StatementStatus.FINAL,
        number=900,
        currency="EUR",
        total=Decimal("12.00"),
    )


def test_manager_lists_the_finalised_statements_only(as_manager, october, november_draft):
    page = as_manager.get("/portal/statements/").content.decode()
    assert october.reference in page
    assert "October 2026" in page
    assert "November 2026" not in page
    assert f"/portal/statements/{october.pk}/pdf/" in page
    assert f"/portal/statements/{november_draft.pk}/" not in page


def test_billing_contact_sees_statements(client_a, october):
    billing = Contact.objects.create(
        organisation=client_a, name="Bill Payer", email="bill@alpha.example", is_billing=True
    )
    client = client_for(login_for(billing))
    assert october.reference in client.get("/portal/statements/").content.decode()


def test_plain_requester_has_no_statements_page(as_requester, october):
    assert as_requester.get("/portal/statements/").status_code == 404
    assert as_requester.get(f"/portal/statements/{october.pk}/csv/").status_code == 404
    assert b"/portal/statements/" not in as_requester.get("/portal/").content


def test_another_clients_statement_is_not_found(as_manager, beta_statement):
    assert beta_statement.reference not in as_manager.get("/portal/statements/").content.decode()
    for kind in ("pdf", "csv"):
        assert as_manager.get(f"/portal/statements/{beta_statement.pk}/{kind}/").status_code == 404


def test_draft_cannot_be_downloaded(as_manager, november_draft):
    assert as_manager.get(f"/portal/statements/{november_draft.pk}/csv/").status_code == 404


def test_csv_download(as_manager, october):
    response = as_manager.get(f"/portal/statements/{october.pk}/csv/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="{october.reference}-2026-10.csv"' in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    assert response.content.decode().startswith("statement,organisation")


def test_pdf_download(as_manager, october):
    response = as_manager.get(f"/portal/statements/{october.pk}/pdf/")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize("tail", ["xls/", "PDF/", "../csv/"])
def test_unknown_formats_are_not_found(as_manager, october, tail):
    assert as_manager.get(f"/portal/statements/{october.pk}/{tail}").status_code == 404


def test_no_statements_yet_is_said(as_manager):
    assert b"No statements yet" in as_manager.get("/portal/statements/").content
