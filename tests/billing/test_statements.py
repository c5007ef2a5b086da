"""Statements: drafts rebuilt, finalised ones numbered and frozen, CSV and PDF that agree."""

import csv
import io
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from caredesk.billing import actions, export, statements
from caredesk.billing.models import Statement, StatementLine, StatementStatus, TimeEntry

from .conftest import ANNUAL, subscribe

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "statement.png"


@pytest.fixture
def busy_may(package_client, make_ticket, log):
    """A month of the 5-hour package: included work, then overage, excluded and a straddle."""
    bug = make_ticket(package_client, "bug-fix", "Search shows no results")
    feature = make_ticket(package_client, "new-feature", "Gift cards")
    log(bug, 95, date(2026, 5, 4))
    log(feature, 180, date(2026, 5, 11))
    log(bug, 50, date(2026, 5, 18))  # 25 included, 25 overage
    log(feature, 47, date(2026, 5, 25))
    return package_client


def test_draft_is_rebuilt_from_the_entries(busy_may, make_ticket, log):
    first = statements.build_one(busy_may, 2026, 5)
    log(make_ticket(busy_may, "bug-fix"), 30, date(2026, 5, 28))

    again = statements.build_one(busy_may, 2026, 5)

    assert again.pk == first.pk and again.status == StatementStatus.DRAFT and again.number is None
    assert again.overage_minutes == first.overage_minutes + 30


def test_each_line_of_time_points_at_its_entry(busy_may):
    may = statements.build_one(busy_may, 2026, 5)

    timed = may.lines.exclude(time_entry=None)
    assert set(timed.values_list("time_entry_id", flat=True)) == set(
        TimeEntry.objects.values_list("pk", flat=True)
    )
    straddle = timed.filter(logged_minutes=50)
    assert sorted(straddle.values_list("kind", "minutes")) == [("included", 25), ("overage", 25)]
    assert may.total == sum(may.lines.values_list("amount", flat=True))


def test_finalised_statements_are_numbered_in_sequence(busy_may, kijo_client, make_ticket, log):
    log(make_ticket(kijo_client, "bug-fix"), 30, date(2026, 5, 5))

    built = statements.build(2026, 5, finalise=True)
    june = statements.build(2026, 6, finalise=True)

    numbers = [s.number for s in built] + [s.number for s in june]
    assert numbers == [1, 2, 3, 4]
    assert built[0].reference == "ST-00001"


def test_a_finalised_statement_is_never_rebuilt_nor_renumbered(busy_may):
    final = statements.build_one(busy_may, 2026, 5, finalise=True)

    again = statements.build_one(busy_may, 2026, 5, finalise=True)

    assert (again.pk, again.number, again.total) == (final.pk, final.number, final.total)


def test_a_running_period_cannot_be_finalised(package_client):
    with pytest.raises(ValidationError, match="runs until 01 August 2026"):
        statements.build_one(package_client, 2026, 7, finalise=True)
    assert not Statement.objects.filter(status=StatementStatus.FINAL).exists()


def test_the_second_pooled_period_waits_for_the_first(package_client, account_manager):
    actions.do_pool_periods(package_client, date(2026, 5, 1), acting_user=account_manager)
    with pytest.raises(ValidationError, match="finalise its first period first"):
        statements.build_one(package_client, 2026, 6, finalise=True)
    statements.build_one(package_client, 2026, 5, finalise=True)
    assert statements.build_one(package_client, 2026, 6, finalise=True).is_final


def test_entries_of_a_finalised_statement_are_frozen_in_the_actions(busy_may, agent):
    statements.build_one(busy_may, 2026, 5, finalise=True)
    entry = TimeEntry.objects.first()
    ticket = entry.ticket

    with pytest.raises(ValidationError, match="finalised statement"):
        actions.do_edit_time(entry, acting_user=agent, minutes=5)
    with pytest.raises(ValidationError, match="finalised statement"):
        actions.do_delete_time(entry, acting_user=agent)
    with pytest.raises(ValidationError, match="ST-00001"):
        actions.do_log_time(ticket, 10, acting_user=agent, work_date=date(2026, 5, 30))
    june = actions.do_log_time(ticket, 10, acting_user=agent, work_date=date(2026, 6, 2))
    with pytest.raises(ValidationError, match="ST-00001"):
        actions.do_edit_time(june, acting_user=agent, work_date=date(2026, 5, 3))
    assert TimeEntry.objects.get(pk=june.pk).work_date == date(2026, 6, 2)


def test_entries_of_a_finalised_statement_are_frozen_in_the_model_too(busy_may):
    statements.build_one(busy_may, 2026, 5, finalise=True)
    entry = TimeEntry.objects.first()

    entry.minutes = 1
    with pytest.raises(ValidationError, match="cannot be changed"):
        entry.save()
    with pytest.raises(ValidationError, match="cannot be deleted"):
        entry.delete()
    with pytest.raises(ValidationError):
        TimeEntry.objects.filter(pk=entry.pk).update(minutes=1)
    with pytest.raises(ValidationError):
        TimeEntry.objects.all().delete()
    sneaky = TimeEntry(
        ticket=entry.ticket, staff=entry.staff, work_date=date(2026, 5, 9), minutes=5
    )
    with pytest.raises(ValidationError, match="finalised"):
        sneaky.save()
    assert TimeEntry.objects.get(pk=entry.pk).minutes == 95


def test_a_finalised_statement_and_its_lines_cannot_change(busy_may):
    final = statements.build_one(busy_may, 2026, 5, finalise=True)

    final.total = Decimal("0.00")
    with pytest.raises(ValidationError, match="finalised"):
        final.save()
    with pytest.raises(ValidationError, match="finalised"):
        final.delete()
    line = final.lines.first()
    line.amount = Decimal("0.00")
    with pytest.raises(ValidationError):
        line.save()
    with pytest.raises(ValidationError):
        StatementLine.objects.filter(statement=final).delete()
    with pytest.raises(ValidationError):
        StatementLine.objects.filter(statement=final).update(amount=0)


def test_time_after_finalising_goes_to_the_open_period(busy_may, make_ticket, log):
    final = statements.build_one(busy_may, 2026, 5, finalise=True)
    log(make_ticket(busy_may, "bug-fix"), 30, date(2026, 6, 2))

    assert statements.build_one(busy_may, 2026, 6).included_minutes == 30
    assert Statement.objects.get(pk=final.pk).total == final.total


def test_rounding_setting_bills_each_entry_in_whole_units(
    package_client, make_ticket, log, settings
):
    settings.CAREDESK_BILLING_ROUNDING_MINUTES = 15
    ticket = make_ticket(package_client, "bug-fix")
    log(ticket, 290, date(2026, 5, 4))  # billed as 300
    log(ticket, 20, date(2026, 5, 5))  # billed as 30: all overage

    may = statements.build_one(package_client, 2026, 5)

    assert (may.included_minutes, may.overage_minutes) == (300, 30)
    line = may.lines.get(kind="overage")
    assert (line.logged_minutes, line.minutes, line.amount) == (20, 30, Decimal("30.00"))


def test_client_without_a_plan_gets_an_on_demand_statement(org_a, on_demand, make_ticket, log):
    log(make_ticket(org_a, "bug-fix"), 90, date(2026, 5, 4))

    may = statements.build_one(org_a, 2026, 5)

    assert (may.plan_name, may.on_demand_minutes, may.currency) == ("", 90, "USD")
    assert may.total == Decimal("97.50")  # the only on-demand plan's $65 an hour
    assert may.lines.get().reason == "No plan: on-demand work, billed per hour"


def test_client_without_plan_or_time_gets_no_statement(org_a, package_client):
    assert [s.organisation for s in statements.build(2026, 5)] == [package_client]


def test_bad_period_and_unknown_client_are_clear_errors(package_client):
    with pytest.raises(ValidationError, match="YYYY-MM"):
        statements.parse_period("2026-13")
    with pytest.raises(ValidationError, match="No client with id 999"):
        statements.build(2026, 5, organisations=[999])


def _csv_rows(statement) -> list[dict]:
    return list(csv.DictReader(io.StringIO(export.statement_csv(statement))))


def test_csv_has_one_line_per_priced_piece_ready_for_an_import(busy_may):
    may = statements.build_one(busy_may, 2026, 5, finalise=True)

    rows = _csv_rows(may)

    assert list(rows[0]) == export.CSV_COLUMNS
    assert [r["classification"] for r in rows] == [
        "plan_fee",
        "included",
        "included",
        "included",
        "overage",
        "overage",
    ]
    fee = rows[0]
    assert (fee["amount"], fee["currency"], fee["ticket"], fee["minutes"]) == (
        "300.00",
        "USD",
        "",
        "",
    )
    overage = next(r for r in rows if r["classification"] == "overage")
    assert (overage["date"], overage["minutes"], overage["rate"], overage["amount"]) == (
        "2026-05-18",
        "25",
        "60.00",
        "25.00",
    )
    assert overage["staff"] == "Omar Haddad" and overage["statement"] == "ST-00001"
    assert sum(Decimal(r["amount"]) for r in rows) == may.total


def test_csv_cells_cannot_smuggle_spreadsheet_formulas(busy_may, agent):
    agent.full_name = '=HYPERLINK("http://x.example")'
    agent.save()
    rows = _csv_rows(statements.build_one(busy_may, 2026, 5))
    assert {r["staff"] for r in rows if r["staff"]} == {'\'=HYPERLINK("http://x.example")'}


def _tool(name: str) -> str:
    return shutil.which(name) or name


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        [_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return done.stdout


needs_poppler = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "pdfinfo")),
    reason="poppler-utils (pdftotext, pdftoppm) is not installed",
)


@needs_poppler
def test_csv_re_adds_to_the_totals_printed_in_the_pdf(
    org_b, package_5h, make_ticket, log, tmp_path
):
    subscribe(org_b, package_5h, **ANNUAL)
    bug = make_ticket(org_b, "bug-fix", "Search shows no results")
    design = make_ticket(org_b, "design-change", "New banner")
    log(bug, 200, date(2026, 5, 4))
    log(design, 150, date(2026, 5, 12))
    log(bug, 37, date(2026, 5, 19))
    statement = statements.build_one(org_b, 2026, 5, finalise=True)

    text = _pdf_text(export.statement_pdf(statement), tmp_path)
    rows = _csv_rows(statement)

    printed_total = re.search(r"Total\s+USD ([\d,]+\.\d\d)", text).group(1)
    csv_total = sum(Decimal(r["amount"]) for r in rows)
    assert Decimal(printed_total.replace(",", "")) == csv_total == Decimal("357.00")
    # The totals table, line by line, re-adds from the CSV too.
    for kind, label in [
        ("plan_fee", "Plan fee"),
        ("discount", "Annual discount"),
        ("overage", "Overage"),
    ]:
        amount = sum(Decimal(r["amount"]) for r in rows if r["classification"] == kind)
        assert re.search(rf"{label}[^\n]*USD {amount:,.2f}", text), (label, text)
    assert "ST-00001" in text and "Beta Dental" in text and "May 2026" in text


@needs_poppler
def test_statement_pdf_renders_to_an_a4_page(busy_may, tmp_path):
    statement = statements.build_one(busy_may, 2026, 5, finalise=True)
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(export.statement_pdf(statement))

    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "60", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )

    png = (tmp_path / "page.png").read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert abs(height / width - 297 / 210) < 0.01  # A4 portrait
    info = subprocess.run(
        [_tool("pdfinfo"), str(pdf)], capture_output=True, check=True, text=True
    ).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)


def test_command_builds_finalises_and_exports(busy_may, tmp_path, capsys):
    call_command("statements", "build", "--period", "2026-05", "--finalise")
    statement = Statement.objects.get()
    call_command(
        "statements",
        "export",
        str(statement.pk),
        "--csv",
        str(tmp_path / "may.csv"),
        "--pdf",
        str(tmp_path / "may.pdf"),
    )

    out = capsys.readouterr().out
    assert "ST-00001" in out and "1 statement(s)" in out
    assert (tmp_path / "may.pdf").read_bytes().startswith(b"%PDF")
    rows = list(csv.DictReader((tmp_path / "may.csv").open(encoding="utf-8")))
    assert sum(Decimal(r["amount"]) for r in rows) == statement.total


def test_command_errors_are_one_clear_line(package_client):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("statements", "build", "--period", "May")
    with pytest.raises(CommandError, match="runs until"):
        call_command(
            "statements",
            "build",
            "--period",
            "2026-07",
            "--organisation",
            str(package_client.pk),
            "--finalise",
        )
    with pytest.raises(CommandError, match="no statement with id 42"):
        call_command("statements", "export", "42", "--csv", "x.csv")


def test_finalising_a_month_leaves_periods_still_running_as_drafts(busy_may, kijo_client, capsys):
    kijo_client.subscriptions.update(billing_day=20)  # its May period runs to 20 June

    call_command("statements", "build", "--period", "2026-06", "--finalise")

    assert (
        "left as a draft: 20 June – 19 July 2026 runs until 20 July 2026" in capsys.readouterr().out
    )
    assert dict(Statement.objects.values_list("organisation__name", "status")) == {
        "Beta Dental": "final",
        "Alpha Bakery": "draft",
    }
