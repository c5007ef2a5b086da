"""Whether logged time is billable, and why: the plan's rules applied to a period's work.

Pure: no Django, no database. The caller loads the plan terms and the time
entries; :func:`classify` splits every entry's minutes into kinds, each with a
reason a client can read:

- **included**: covered by the plan (and, where the plan counts hours, within
  the allowance of the billing period or of two pooled periods);
- **overage**: in scope, but the allowance was already used up;
- **excluded**: the work's category is not included in the plan;
- **fair_usage_excess**: the ticket passed the plan's per-ticket cap in that
  *calendar month* (the whole ticket's month, or only the minutes past the
  cap, as the plan says);
- **on_demand**: no plan was in force, or the plan itself is billed per hour.

Allowance is consumed in date order, so the same entries always give the same
answer, and an entry can straddle the end of the allowance (part included,
part overage) or the cap (part counted, part excess).
"""

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from .money import hours


class Kind(StrEnum):
    INCLUDED = "included"
    OVERAGE = "overage"
    EXCLUDED = "excluded"
    FAIR_USAGE_EXCESS = "fair_usage_excess"
    ON_DEMAND = "on_demand"


BILLABLE = frozenset({Kind.OVERAGE, Kind.EXCLUDED, Kind.FAIR_USAGE_EXCESS, Kind.ON_DEMAND})
WHOLE_TICKET = "whole_ticket"
EXCESS = "excess"

Month = tuple[int, int]
TicketMonth = tuple[int, Month]


@dataclass(frozen=True)
class Terms:
    """What a plan promises, as far as billing is concerned.

    ``included_minutes`` is the allowance of the whole window (one billing
    period, or two pooled by agreement); ``None`` means included work is not
    counted against an allowance. An empty ``plan_name`` means no plan.
    """

    plan_name: str = ""
    on_demand: bool = False
    included_minutes: int | None = None
    fair_usage_cap_minutes: int | None = None
    fair_usage_mode: str = WHOLE_TICKET
    included_categories: frozenset[str] = frozenset()
    rounding_minutes: int = 1
    allowance_label: str = ""


NO_PLAN = Terms(on_demand=True)


@dataclass(frozen=True)
class Work:
    """One time entry: ``key`` names it, ``ticket`` groups it for fair usage."""

    key: int
    ticket: int
    ticket_label: str
    work_date: date
    minutes: int
    category: str | None = None
    category_name: str = ""
    covered: bool = True  # a plan was in force on work_date


@dataclass(frozen=True)
class Part:
    key: int
    kind: Kind
    minutes: int
    reason: str


@dataclass
class Outcome:
    parts: list[Part] = field(default_factory=list)
    # In-scope minutes per ticket per calendar month, context included: what
    # fair usage is measured on (staff views and warnings read it too).
    ticket_months: dict[TicketMonth, int] = field(default_factory=dict)
    allowance_used: int = 0

    def totals(self) -> dict[Kind, int]:
        """Minutes per kind over every part."""
        sums = dict.fromkeys(Kind, 0)
        for part in self.parts:
            sums[part.kind] += part.minutes
        return sums

    def parts_of(self, key: int) -> list[Part]:
        return [part for part in self.parts if part.key == key]


def rounded(minutes: int, step: int) -> int:
    """``minutes`` rounded up to a whole number of ``step``-minute units."""
    if step <= 1:
        return minutes
    return -(-minutes // step) * step


def month_label(month: Month) -> str:
    """``(2026, 3)`` as ``March 2026``."""
    return f"{calendar.month_name[month[1]]} {month[0]}"


def period_label(start: date, end: date) -> str:
    """A billing period [start, end) as people say it: ``May 2026``, ``May–June 2026``,
    or ``15 May – 14 June 2026`` when it does not follow calendar months."""
    last = end - timedelta(days=1)
    if start.day == 1 and end.day == 1:
        if (start.year, start.month) == (last.year, last.month):
            return month_label((start.year, start.month))
        if start.year == last.year:
            return f"{calendar.month_name[start.month]}–{month_label((last.year, last.month))}"
        return f"{month_label((start.year, start.month))} – {month_label((last.year, last.month))}"
    left = f"{start.day} {calendar.month_name[start.month]}"
    if start.year != last.year:
        left += f" {start.year}"
    return f"{left} – {last.day} {calendar.month_name[last.month]} {last.year}"


def classify(terms: Terms, work: Iterable[Work], context: Iterable[Work] = ()) -> Outcome:
    """Split each entry of ``work`` into parts by kind, in date order.

    ``context`` holds entries outside the window that share a calendar month
    with it: they count toward a ticket's fair usage but are not classified and
    never use this window's allowance. Each entry's parts add up to its
    minutes after rounding (``terms.rounding_minutes``).
    """
    timeline = sorted(
        [(w, True) for w in work] + [(w, False) for w in context],
        key=lambda item: (item[0].work_date, item[0].key),
    )
    outcome = Outcome()
    totals = _ticket_months(terms, [w for w, _ in timeline])
    outcome.ticket_months = dict(totals)
    tally: dict[TicketMonth, int] = defaultdict(int)
    left = terms.included_minutes
    for item, own in timeline:
        minutes = rounded(item.minutes, terms.rounding_minutes)
        out_of_scope = _out_of_scope(terms, item, minutes)
        if out_of_scope is not None:
            if own:
                outcome.parts.append(out_of_scope)
            continue
        counted, excess = _fair_usage(terms, item, minutes, tally, totals)
        if not own:
            continue
        if excess:
            outcome.parts.append(
                Part(item.key, Kind.FAIR_USAGE_EXCESS, excess, _fair_usage_reason(terms, item))
            )
        if counted:
            left = _use_allowance(terms, item, counted, left, outcome)
    return outcome


def _key(item: Work) -> TicketMonth:
    return item.ticket, (item.work_date.year, item.work_date.month)


def _in_scope(terms: Terms, item: Work) -> bool:
    if terms.on_demand or not item.covered:
        return False
    return item.category is None or item.category in terms.included_categories


def _ticket_months(terms: Terms, timeline: list[Work]) -> dict[TicketMonth, int]:
    totals: dict[TicketMonth, int] = defaultdict(int)
    for item in timeline:
        if _in_scope(terms, item):
            totals[_key(item)] += rounded(item.minutes, terms.rounding_minutes)
    return totals


def _out_of_scope(terms: Terms, item: Work, minutes: int) -> Part | None:
    if terms.on_demand or not terms.plan_name:
        name = terms.plan_name
        reason = (
            f"{name} is billed per hour" if name else "No plan: on-demand work, billed per hour"
        )
        return Part(item.key, Kind.ON_DEMAND, minutes, reason)
    if not item.covered:
        when = f"{item.work_date.day} {month_label((item.work_date.year, item.work_date.month))}"
        reason = f"No plan was in force on {when}: on-demand work, billed per hour"
        return Part(item.key, Kind.ON_DEMAND, minutes, reason)
    if item.category is not None and item.category not in terms.included_categories:
        reason = f"{item.category_name or item.category} is not included in {terms.plan_name}"
        return Part(item.key, Kind.EXCLUDED, minutes, reason)
    return None


def _fair_usage(
    terms: Terms,
    item: Work,
    minutes: int,
    tally: dict[TicketMonth, int],
    totals: dict[TicketMonth, int],
) -> tuple[int, int]:
    """(minutes still covered, minutes past the cap) for one in-scope entry."""
    cap = terms.fair_usage_cap_minutes
    key = _key(item)
    before = tally[key]
    tally[key] = before + minutes
    if cap is None:
        return minutes, 0
    if terms.fair_usage_mode == EXCESS:
        within = max(0, min(minutes, cap - before))
        return within, minutes - within
    # Whole ticket: once the month's total passes the cap, every minute of that
    # ticket's month is billable, including those logged before it passed.
    if totals[key] > cap:
        return 0, minutes
    return minutes, 0


def _fair_usage_reason(terms: Terms, item: Work) -> str:
    cap = hours(terms.fair_usage_cap_minutes or 0)
    month = month_label(_key(item)[1])
    reason = f"Ticket {item.ticket_label} passed the {cap} fair-usage limit in {month}"
    if terms.fair_usage_mode == EXCESS:
        reason += "; the time past the limit is billed"
    return reason


def _use_allowance(
    terms: Terms, item: Work, minutes: int, left: int | None, outcome: Outcome
) -> int | None:
    what = item.category_name or "Work"
    if left is None:
        reason = f"{what} is included in {terms.plan_name}"
        outcome.parts.append(Part(item.key, Kind.INCLUDED, minutes, reason))
        return None
    allowance = hours(terms.included_minutes or 0)
    label = f" for {terms.allowance_label}" if terms.allowance_label else ""
    take = min(left, minutes)
    if take:
        reason = f"{what} is included in {terms.plan_name}, within the {allowance} allowance{label}"
        outcome.parts.append(Part(item.key, Kind.INCLUDED, take, reason))
        outcome.allowance_used += take
    if minutes > take:
        if terms.included_minutes:
            reason = f"The {allowance} allowance of {terms.plan_name}{label} was used up"
        else:
            reason = f"{terms.plan_name} includes no hours; time is billed per hour"
        outcome.parts.append(Part(item.key, Kind.OVERAGE, minutes - take, reason))
    return left - take


def reached(used: int, limit: int | None, shares: Iterable[int]) -> list[int]:
    """The percentages in ``shares`` that ``used`` has reached of ``limit`` (none without one)."""
    if not limit:
        return []
    return [share for share in shares if used * 100 >= limit * share]
