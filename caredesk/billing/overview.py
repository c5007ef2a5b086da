"""What account managers look at: usage against allowance per client, with the trend,
the clients over their allowance, and the tickets past fair usage this month."""

from dataclasses import dataclass
from datetime import date, timedelta

from caredesk.clients.models import Organisation
from caredesk.tickets.models import Ticket

from . import periods, rules
from .money import hours
from .usage import Usage, compute


@dataclass(frozen=True)
class ClientUsage:
    organisation: Organisation
    plan: str
    period: str
    allowance: int | None
    used: int
    previous_used: int | None
    billable: int

    @property
    def share(self) -> int | None:
        if not self.allowance:
            return None
        return round(self.used * 100 / self.allowance)

    @property
    def over(self) -> int:
        if self.allowance is None:
            return 0
        return max(0, self.used - self.allowance)

    @property
    def trend(self) -> str:
        if self.previous_used is None:
            return "–"
        if self.used > self.previous_used:
            return "↑"
        return "↓" if self.used < self.previous_used else "="

    def text(self, minutes: int | None) -> str:
        return "not counted" if minutes is None else hours(minutes)


@dataclass(frozen=True)
class TicketPastFairUsage:
    ticket: Ticket
    organisation: Organisation
    month: str
    minutes: int
    cap: int
    mode: str


def _billable(usage: Usage) -> int:
    start, end = usage.period.start, usage.period.end
    return sum(
        part.minutes
        for row in usage.rows
        if start <= row.work_date < end
        for part in usage.parts_by_entry.get(row.id, ())
        if part.kind in rules.BILLABLE
    )


def _used(usage: Usage) -> int:
    return usage.counted_minutes()


def client_usage(day: date | None = None) -> list[ClientUsage]:
    """Every active client's usage in the period holding ``day``, and in the one before."""
    day = day or periods.local_today()
    organisations = {o.pk: o for o in Organisation.objects.filter(is_active=True)}
    ids = sorted(organisations)
    current = compute(periods.periods_containing(ids, day))
    earlier_days = [u.period.start - timedelta(days=1) for u in current]
    previous = {}
    for earlier in sorted(set(earlier_days)):
        group = [
            u.period.organisation_id
            for u, d in zip(current, earlier_days, strict=True)
            if d == earlier
        ]
        for usage in compute(periods.periods_containing(group, earlier)):
            previous[usage.period.organisation_id] = usage
    rows = []
    for usage in current:
        org_id = usage.period.organisation_id
        before = previous.get(org_id)
        if usage.period.subscription is None and not usage.rows:
            continue
        rows.append(
            ClientUsage(
                organisation=organisations[org_id],
                plan=usage.terms.plan_name or "No plan",
                period=usage.period.window_label,
                allowance=usage.allowance,
                used=_used(usage),
                previous_used=_used(before) if before is not None else None,
                billable=_billable(usage),
            )
        )
    return sorted(rows, key=lambda r: (-(r.share or 0), r.organisation.name))


def over_allowance(rows: list[ClientUsage]) -> list[ClientUsage]:
    return [row for row in rows if row.allowance is not None and row.used > row.allowance]


def tickets_past_fair_usage(day: date | None = None) -> list[TicketPastFairUsage]:
    """Tickets whose time this calendar month has passed their plan's fair-usage cap."""
    day = day or periods.local_today()
    month = (day.year, day.month)
    organisations = {o.pk: o for o in Organisation.objects.filter(is_active=True)}
    found = []
    for usage in compute(periods.periods_containing(sorted(organisations), day)):
        cap = usage.terms.fair_usage_cap_minutes
        if cap is None or usage.terms.on_demand:
            continue
        for (ticket_id, when), minutes in usage.outcome.ticket_months.items():
            if when == month and minutes > cap:
                found.append((ticket_id, usage, minutes, cap))
    tickets = Ticket.objects.in_bulk([t for t, *_ in found])
    return [
        TicketPastFairUsage(
            ticket=tickets[ticket_id],
            organisation=organisations[usage.period.organisation_id],
            month=rules.month_label(month),
            minutes=minutes,
            cap=cap,
            mode=usage.terms.fair_usage_mode,
        )
        for ticket_id, usage, minutes, cap in found
    ]
