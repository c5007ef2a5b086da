"""Statements: what each client owes for a billing period, line by line.

A statement is a draft, rebuilt from the time entries as often as wanted,
until it is finalised: then it gets the next number, its lines are kept as
they are, and its time entries are linked to it and frozen. Every line of
time points at its entry; the total is the sum of the lines, so a CSV of the
lines always adds up to the statement.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from caredesk.clients.models import Organisation
from caredesk.lib import clock

from . import ledger, periods, rules
from .models import (
    LineKind,
    NumberSequence,
    Statement,
    StatementLine,
    StatementStatus,
    TimeEntry,
)
from .money import price
from .usage import Usage, compute

SEQUENCE = "statement"
ZERO = Decimal("0.00")
# Which statement total each kind of time adds to.
_TOTAL_FIELD = {
    rules.Kind.INCLUDED: "included_minutes",
    rules.Kind.OVERAGE: "overage_minutes",
    rules.Kind.EXCLUDED: "excluded_minutes",
    rules.Kind.FAIR_USAGE_EXCESS: "fair_usage_minutes",
    rules.Kind.ON_DEMAND: "on_demand_minutes",
}


@dataclass
class Draft:
    """A statement's fields and lines, computed but not stored."""

    usage: Usage
    fields: dict = field(default_factory=dict)
    lines: list[StatementLine] = field(default_factory=list)
    entry_ids: list[int] = field(default_factory=list)


def parse_period(text: str) -> tuple[int, int]:
    """``2026-10`` as (2026, 10), with a clear error otherwise."""
    try:
        year, month = (int(part) for part in text.split("-"))
        date(year, month, 1)
    except ValueError:
        raise ValidationError(f"{text!r} is not a period: write the month as YYYY-MM.") from None
    return year, month


def draft(usage: Usage) -> Draft:
    """Price one client's period: the fee, then each entry's parts in date order."""
    period = usage.period
    result = Draft(usage)
    gross, discount = periods.fee(period.subscription)
    if gross:
        result.lines.append(_fee_line(LineKind.PLAN_FEE, gross, f"{usage.terms.plan_name} fee"))
    if discount:
        percent = period.subscription.annual_discount_percent.normalize()
        reason = f"Annual term: {percent:f} % off the fee"
        result.lines.append(_fee_line(LineKind.DISCOUNT, discount, reason))
    totals = dict.fromkeys(_TOTAL_FIELD.values(), 0)
    for row in usage.period_rows:
        result.entry_ids.append(row.id)
        for part in usage.parts_by_entry.get(row.id, ()):
            rate = ZERO if part.kind == rules.Kind.INCLUDED else usage.rate
            totals[_TOTAL_FIELD[part.kind]] += part.minutes
            result.lines.append(
                StatementLine(
                    kind=part.kind.value,
                    time_entry_id=row.id,
                    work_date=row.work_date,
                    ticket_number=row.ticket_number,
                    staff_name=row.staff_name[:200],
                    category_name=row.category_name[:100],
                    logged_minutes=row.minutes,
                    minutes=part.minutes,
                    rate=rate,
                    amount=price(part.minutes, rate),
                    reason=part.reason[:300],
                )
            )
    for position, line in enumerate(result.lines, start=1):
        line.position = position
    result.fields = _fields(usage, result.lines, totals)
    return result


def _fee_line(kind: str, amount: Decimal, reason: str) -> StatementLine:
    return StatementLine(kind=kind, amount=amount, reason=reason)


def _fields(usage: Usage, lines: list[StatementLine], totals: dict[str, int]) -> dict:
    period = usage.period
    fee = sum((ln.amount for ln in lines if ln.time_entry_id is None), ZERO)
    billable = sum((ln.amount for ln in lines if ln.time_entry_id is not None), ZERO)
    notice = ""
    if usage.rate == ZERO and any(totals[_TOTAL_FIELD[k]] for k in rules.BILLABLE):
        notice = "Billable time has no hourly rate: set one on the plan or an on-demand plan."
    return {
        "period_end": period.end,
        "window_start": period.window_start,
        "window_end": period.window_end,
        "plan_name": usage.terms.plan_name,
        "currency": usage.currency,
        "hourly_rate": usage.rate,
        "allowance_minutes": usage.allowance,
        "allowance_used_before": usage.included_before(period.start),
        **totals,
        "fee": fee,
        "billable_amount": billable,
        "total": fee + billable,
        "notice": notice,
        "computed_at": clock.now(),
    }


def _worth_a_statement(usage: Usage) -> bool:
    return usage.period.subscription is not None or bool(usage.period_rows)


def organisation_ids(selected: list[int] | None) -> list[int]:
    query = Organisation.objects.filter(is_active=True)
    if selected is not None:
        query = Organisation.objects.filter(pk__in=selected)
        missing = set(selected) - set(query.values_list("pk", flat=True))
        if missing:
            raise ValidationError(f"No client with id {', '.join(map(str, sorted(missing)))}.")
    return list(query.order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def build(
    year: int,
    month: int,
    *,
    organisations: list[int] | None = None,
    finalise: bool = False,
    acting_user=None,
    progress: Callable[[str], None] | None = None,
) -> list[Statement]:
    """Build (or rebuild) the drafts of the periods starting in a month; finalise them if asked.

    Finalised statements are never rebuilt: they are returned as they are.
    """
    say = progress or (lambda text: None)
    ids = organisation_ids(organisations)
    period_list = periods.periods_in_month(ids, year, month)
    usages = compute(period_list, all_clients=organisations is None)
    usages = [u for u in usages if _worth_a_statement(u)]
    say(f"{len(usages)} client(s) with a plan or time in the period")
    existing = {
        (s.organisation_id, s.period_start): s
        for s in Statement.objects.filter(
            organisation_id__in=[u.period.organisation_id for u in usages],
            period_start__in={u.period.start for u in usages},
        )
    }
    finals = [
        existing[_key(u)] for u in usages if _key(u) in existing and existing[_key(u)].is_final
    ]
    open_usages = [u for u in usages if not (_key(u) in existing and existing[_key(u)].is_final)]
    waiting: dict[tuple[int, date], str] = {}
    if finalise:
        waiting = _not_finalisable(open_usages)
        if waiting and organisations is not None:
            raise ValidationError(next(iter(waiting.values())))
        for reason in waiting.values():
            say(f"left as a draft: {reason}")
    drafts = [draft(u) for u in open_usages]
    say(f"priced {sum(len(d.lines) for d in drafts)} line(s)")
    stored = _store(drafts, existing)
    ledger.reconcile([d.usage for d in drafts])
    if finalise:
        ready = [
            (s, d) for s, d in zip(stored, drafts, strict=True) if _key(d.usage) not in waiting
        ]
        _finalise([s for s, _ in ready], [d for _, d in ready], acting_user)
        say(f"finalised {len(ready)} statement(s)")
    return sorted(stored + finals, key=lambda s: s.organisation_id)


def _key(usage: Usage) -> tuple[int, date]:
    return usage.period.organisation_id, usage.period.start


def _not_finalisable(usages: list[Usage]) -> dict[tuple[int, date], str]:
    """Why some periods cannot be finalised yet (not ended, or a pool's first period open)."""
    today = periods.local_today()
    reasons = {}
    for usage in usages:
        period = usage.period
        if today < period.end:
            reasons[_key(usage)] = (
                f"{period.label} runs until {period.end:%d %B %Y}: "
                "a period is finalised once it has ended."
            )
        elif period.start > period.window_start and not _first_final(period):
            reasons[_key(usage)] = (
                f"{period.window_label} is pooled: finalise its first period first."
            )
    return reasons


def _first_final(period: periods.Period) -> bool:
    return Statement.objects.filter(
        organisation_id=period.organisation_id,
        period_start=period.window_start,
        status=StatementStatus.FINAL,
    ).exists()


def _store(drafts: list[Draft], existing: dict[tuple[int, date], Statement]) -> list[Statement]:
    new, changed = [], []
    for item in drafts:
        org_id = item.usage.period.organisation_id
        statement = existing.get(_key(item.usage))
        if statement is None:
            statement = Statement(organisation_id=org_id, period_start=item.usage.period.start)
            new.append(statement)
        else:
            changed.append(statement)
        for name, value in item.fields.items():
            setattr(statement, name, value)
    Statement.objects.bulk_create(new, batch_size=1000)
    if changed:
        StatementLine.objects.filter(statement__in=changed).delete()
        Statement.objects.bulk_update(changed, list(drafts[0].fields), batch_size=500)
    by_org = {s.organisation_id: s for s in new + changed}
    lines = []
    for item in drafts:
        statement = by_org[item.usage.period.organisation_id]
        for line in item.lines:
            line.statement = statement
            lines.append(line)
    StatementLine.objects.bulk_create(lines, batch_size=2000)
    return [by_org[d.usage.period.organisation_id] for d in drafts]


def _next_numbers(count: int) -> list[int]:
    """``count`` new statement numbers; the sequence row is locked so none is handed out twice."""
    NumberSequence.objects.get_or_create(name=SEQUENCE)
    row = NumberSequence.objects.select_for_update().get(name=SEQUENCE)
    NumberSequence.objects.filter(name=SEQUENCE).update(last=F("last") + count)
    return list(range(row.last + 1, row.last + count + 1))


def _finalise(statements: list[Statement], drafts: list[Draft], acting_user) -> None:
    now = clock.now()
    numbers = _next_numbers(len(statements))
    for statement, item, number in zip(statements, drafts, numbers, strict=True):
        TimeEntry.objects.filter(pk__in=item.entry_ids, statement=None).update(statement=statement)
        statement.number = number
        statement.status = StatementStatus.FINAL
        statement.finalised_at = now
        statement.finalised_by = acting_user
        statement.save(update_fields=["number", "status", "finalised_at", "finalised_by"])


def build_one(
    organisation: Organisation, year: int, month: int, *, finalise: bool = False, acting_user=None
) -> Statement:
    """The statement of one client's period starting in a month."""
    built = build(
        year, month, organisations=[organisation.pk], finalise=finalise, acting_user=acting_user
    )
    if not built:
        raise ValidationError(f"{organisation} has no plan and no time in that period.")
    return built[0]


@transaction.atomic
def finalise(statement: Statement, *, acting_user=None) -> Statement:
    """Rebuild a draft from its entries and finalise it."""
    if statement.is_final:
        return statement
    return build_one(
        statement.organisation,
        statement.period_start.year,
        statement.period_start.month,
        finalise=True,
        acting_user=acting_user,
    )
