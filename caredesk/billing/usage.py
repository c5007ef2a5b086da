"""Usage of each client's allowance window: time entries loaded in bulk, then classified.

One query per kind of record whatever the number of clients, so a month's
statements for a thousand clients cost a handful of queries plus the pure
classification in :mod:`caredesk.billing.rules`.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings

from caredesk.plans.models import Plan

from . import periods, rules
from .models import TimeEntry
from .periods import Period


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    organisation_id: int
    ticket_id: int
    ticket_number: int | None
    work_date: date
    minutes: int
    category_code: str | None
    category_name: str
    staff_name: str
    statement_id: int | None

    def work(self, covered: bool) -> rules.Work:
        return rules.Work(
            key=self.id,
            ticket=self.ticket_id,
            ticket_label=f"#{self.ticket_number}" if self.ticket_number else f"id {self.ticket_id}",
            work_date=self.work_date,
            minutes=self.minutes,
            category=self.category_code,
            category_name=self.category_name,
            covered=covered,
        )


@dataclass
class Usage:
    """One client's period, the rules that bill it, and every entry of its window classified."""

    period: Period
    terms: rules.Terms
    rate: Decimal
    currency: str
    rows: list[Row]  # the window's entries, in date order
    outcome: rules.Outcome
    parts_by_entry: dict[int, list[rules.Part]] = field(default_factory=dict)

    @property
    def period_rows(self) -> list[Row]:
        start, end = self.period.start, self.period.end
        return [row for row in self.rows if start <= row.work_date < end]

    @property
    def allowance(self) -> int | None:
        return None if self.terms.on_demand else self.terms.included_minutes

    def counted_minutes(self) -> int:
        """Minutes counted against the allowance over the window (included + overage)."""
        return sum(
            part.minutes
            for parts in self.parts_by_entry.values()
            for part in parts
            if part.kind in (rules.Kind.INCLUDED, rules.Kind.OVERAGE)
        )

    def included_before(self, day: date) -> int:
        return sum(
            part.minutes
            for row in self.rows
            if row.work_date < day
            for part in self.parts_by_entry.get(row.id, ())
            if part.kind == rules.Kind.INCLUDED
        )


def _staff_name(full_name: str, email: str) -> str:
    return full_name or email


def load_rows(organisation_ids: list[int] | None, start: date, end: date) -> list[Row]:
    """Every time entry of these clients dated in [start, end)."""
    query = TimeEntry.objects.filter(work_date__gte=start, work_date__lt=end)
    if organisation_ids is not None:
        query = query.filter(ticket__organisation_id__in=organisation_ids)
    values = query.values_list(
        "id",
        "ticket__organisation_id",
        "ticket_id",
        "ticket__number",
        "work_date",
        "minutes",
        "category__code",
        "category__name",
        "staff__full_name",
        "staff__email",
        "statement_id",
        "statement__organisation_id",
    )
    rows = []
    for (
        pk,
        org_id,
        ticket_id,
        number,
        work_date,
        minutes,
        code,
        name,
        full_name,
        email,
        statement_id,
        statement_org,
    ) in values.iterator(chunk_size=5000):
        if statement_org is not None and statement_org != org_id:
            continue  # billed to another client before its ticket moved: not this client's
        rows.append(
            Row(
                pk,
                org_id,
                ticket_id,
                number,
                work_date,
                minutes,
                code,
                name or "",
                _staff_name(full_name, email),
                statement_id,
            )
        )
    return rows


def compute(period_list: list[Period], *, all_clients: bool = False) -> list[Usage]:
    """Classify every period's window; ``all_clients`` skips the client filter (bulk runs)."""
    if not period_list:
        return []
    plan_ids = {
        sub.plan_id for p in period_list for sub in p.window_subscriptions if sub is not None
    }
    included = periods.included_codes(plan_ids)
    bounds = [periods.month_bounds(p.window_start, p.window_end) for p in period_list]
    lo, hi = min(b[0] for b in bounds), max(b[1] for b in bounds)
    ids = None if all_clients else sorted({p.organisation_id for p in period_list})
    by_org: dict[int, list[Row]] = {}
    for row in load_rows(ids, lo, hi):
        by_org.setdefault(row.organisation_id, []).append(row)
    fallback = _on_demand_terms()
    return [
        _usage(p, included, by_org.get(p.organisation_id, []), fallback, bound)
        for p, bound in zip(period_list, bounds, strict=True)
    ]


def _on_demand_terms() -> tuple[Decimal, str]:
    plan: Plan | None = periods.on_demand_plan()
    if plan is not None:
        return plan.hourly_rate, plan.currency
    return Decimal("0.00"), getattr(settings, "CAREDESK_BILLING_CURRENCY", "GBP")


def _usage(
    period: Period,
    included: dict[int, frozenset[str]],
    rows: list[Row],
    fallback: tuple[Decimal, str],
    bound: tuple[date, date],
) -> Usage:
    terms = periods.terms_for(period, included)
    subs = [s for s in period.window_subscriptions if s is not None]
    own, context = [], []
    for row in rows:
        if not bound[0] <= row.work_date < bound[1]:
            continue
        covered = any(s.is_active_on(row.work_date) for s in subs)
        if period.window_start <= row.work_date < period.window_end:
            own.append(row.work(covered))
        else:
            context.append(row.work(covered))
    outcome = rules.classify(terms, own, context)
    parts: dict[int, list[rules.Part]] = {}
    for part in outcome.parts:
        parts.setdefault(part.key, []).append(part)
    window_rows = sorted(
        (r for r in rows if period.window_start <= r.work_date < period.window_end),
        key=lambda r: (r.work_date, r.id),
    )
    if period.subscription is not None:
        rate, currency = period.subscription.plan.hourly_rate, period.subscription.plan.currency
    else:
        rate, currency = fallback
    return Usage(period, terms, rate, currency, window_rows, outcome, parts)


def usage_on(organisation_id: int, day: date) -> Usage:
    """The usage of the window holding ``day`` for one client."""
    return compute([periods.period_containing(organisation_id, day)])[0]
