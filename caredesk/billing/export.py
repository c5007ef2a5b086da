"""A statement as CSV (one line per priced piece, for an accounting import) and as PDF.

Both are read from the stored lines, so the CSV's amounts add up to the PDF's
totals to the penny.
"""

import csv
import io
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string

from . import rules
from .models import LineKind, Statement
from .money import hours, money

CSV_COLUMNS = [
    "statement",
    "organisation",
    "period_start",
    "period_end",
    "date",
    "ticket",
    "entry",
    "staff",
    "category",
    "minutes",
    "classification",
    "rate",
    "amount",
    "currency",
    "reason",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    # A spreadsheet runs a cell starting with "=" as a formula; text cells
    # (names, reasons) are prefixed so that they stay text. Numbers are not.
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_rows(statement: Statement) -> list[list[str]]:
    rows = [CSV_COLUMNS]
    for line in statement.lines.all():
        is_fee = line.time_entry_id is None
        rows.append(
            [
                statement.reference,
                _text(statement.organisation.name),
                statement.period_start.isoformat(),
                (statement.period_end).isoformat(),
                (line.work_date or statement.period_start).isoformat(),
                "" if is_fee else f"#{line.ticket_number}",
                "" if is_fee else str(line.time_entry_id),
                _text(line.staff_name),
                _text(line.category_name),
                "" if is_fee else str(line.minutes),
                line.kind,
                "" if is_fee else f"{line.rate:.2f}",
                f"{line.amount:.2f}",
                statement.currency,
                _text(line.reason),
            ]
        )
    return rows


def statement_csv(statement: Statement) -> str:
    """The statement's lines as CSV text (UTF-8, comma-separated, one header row)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(csv_rows(statement))
    return out.getvalue()


def summary(statement: Statement) -> list[dict]:
    """The totals table: one row per kind of line, with minutes and amount."""
    lines = list(statement.lines.all())
    rows = []
    for kind, label in LineKind.choices:
        mine = [ln for ln in lines if ln.kind == kind]
        if not mine:
            continue
        minutes = sum(ln.minutes for ln in mine)
        amount = sum((ln.amount for ln in mine), Decimal("0.00"))
        timed = kind not in (LineKind.PLAN_FEE, LineKind.DISCOUNT)
        rows.append(
            {
                "kind": kind,
                "label": label,
                "time": hours(minutes) if timed else "",
                "amount": money(amount, statement.currency),
                "billable": kind in rules.BILLABLE,
            }
        )
    return rows


def _allowance(statement: Statement) -> dict | None:
    if statement.allowance_minutes is None:
        return None
    left = statement.allowance_left or 0
    return {
        "total": hours(statement.allowance_minutes),
        "window": statement.window_label,
        "pooled": statement.is_pooled,
        "used_before": hours(statement.allowance_used_before),
        "used": hours(statement.included_minutes),
        "left": hours(left),
        "expires": statement.window_end == statement.period_end,
    }


def context(statement: Statement) -> dict:
    lines = [
        {
            "line": ln,
            "time": hours(ln.minutes) if ln.time_entry_id else "",
            # The currency heads the column: the lines carry plain figures.
            "rate": f"{ln.rate:,.2f}" if ln.time_entry_id and ln.rate else "",
            "amount": f"{ln.amount:,.2f}",
        }
        for ln in statement.lines.all()
    ]
    return {
        "statement": statement,
        "last_day": statement.period_end - timedelta(days=1),
        "agency_name": settings.CAREDESK_AGENCY_NAME,
        "summary": summary(statement),
        "allowance": _allowance(statement),
        "lines": lines,
        "total": money(statement.total, statement.currency),
        "rate": money(statement.hourly_rate, statement.currency),
    }


def statement_html(statement: Statement) -> str:
    return render_to_string("billing/statement.html", context(statement))


def statement_pdf(statement: Statement) -> bytes:
    """The statement as an A4 PDF."""
    # Imported here: WeasyPrint takes a moment to load and only this needs it.
    from weasyprint import HTML

    return HTML(string=statement_html(statement), base_url=str(settings.BASE_DIR)).write_pdf()
