"""Warnings to the account manager, each recorded once and emailed after commit.

- a ticket reaching 75 % of the plan's fair-usage cap in a calendar month;
- a client at 80 % and at 100 % of its allowance for the window;
- billable work (excluded or on demand) logged on a ticket whose estimate the
  client has not approved.

A warning's ``key`` names what it is about (the ticket and month, the client
and window), so logging more time never sends it twice. Sending happens in
:mod:`caredesk.billing.notify`, claimed row by row.
"""

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from caredesk.tickets.models import Ticket

from . import rules
from .models import BillingWarning, WarningKind
from .notify import send_billing_warnings
from .usage import Usage

logger = logging.getLogger(__name__)
FAIR_USAGE_SHARE = 75
ALLOWANCE_SHARES = (80, 100)
_SCOPE_BILLABLE = (rules.Kind.EXCLUDED, rules.Kind.ON_DEMAND)


def check(usage: Usage, ticket: Ticket, entry_ids: Iterable[int]) -> list[BillingWarning]:
    """Record the warnings the window now calls for, about ``ticket`` and the client."""
    made = []
    made += _fair_usage(usage, ticket)
    made += _allowance(usage)
    made += _unapproved(usage, ticket, entry_ids)
    if made:
        transaction.on_commit(lambda: send_billing_warnings.enqueue())
    return made


def _record(kind: str, key: str, organisation_id: int, ticket=None, **data) -> list[BillingWarning]:
    if BillingWarning.objects.filter(key=key).exists():
        return []
    try:
        # A savepoint: a concurrent writer of the same key must not spoil the
        # caller's transaction; theirs is the one warning.
        with transaction.atomic():
            warning = BillingWarning.objects.create(
                kind=kind, key=key, organisation_id=organisation_id, ticket=ticket, data=data
            )
    except IntegrityError:
        return []
    logger.info("billing warning %s", key)
    return [warning]


def _fair_usage(usage: Usage, ticket: Ticket) -> list[BillingWarning]:
    cap = usage.terms.fair_usage_cap_minutes
    if cap is None or usage.terms.on_demand:
        return []
    made = []
    for (ticket_id, month), minutes in usage.outcome.ticket_months.items():
        if ticket_id != ticket.pk or not rules.reached(minutes, cap, (FAIR_USAGE_SHARE,)):
            continue
        key = f"fair_usage:{ticket_id}:{month[0]}-{month[1]:02d}"
        made += _record(
            WarningKind.FAIR_USAGE,
            key,
            usage.period.organisation_id,
            ticket,
            minutes=minutes,
            cap=cap,
            month=rules.month_label(month),
            plan=usage.terms.plan_name,
            mode=usage.terms.fair_usage_mode,
        )
    return made


def _allowance(usage: Usage) -> list[BillingWarning]:
    allowance = usage.allowance
    if not allowance:
        return []
    used = usage.counted_minutes()
    made = []
    period = usage.period
    for share in rules.reached(used, allowance, ALLOWANCE_SHARES):
        kind = WarningKind.ALLOWANCE_100 if share == 100 else WarningKind.ALLOWANCE_80
        key = f"allowance_{share}:{period.organisation_id}:{period.window_start:%Y-%m-%d}"
        made += _record(
            kind,
            key,
            period.organisation_id,
            share=share,
            used=used,
            allowance=allowance,
            window=period.window_label,
            plan=usage.terms.plan_name,
        )
    return made


def _unapproved(usage: Usage, ticket: Ticket, entry_ids: Iterable[int]) -> list[BillingWarning]:
    if ticket.estimate_approved_at is not None:
        return []
    billable = [
        part
        for key in entry_ids
        for part in usage.parts_by_entry.get(key, ())
        if part.kind in _SCOPE_BILLABLE
    ]
    if not billable:
        return []
    return _record(
        WarningKind.UNAPPROVED,
        f"unapproved:{ticket.pk}",
        usage.period.organisation_id,
        ticket,
        minutes=sum(p.minutes for p in billable),
        reason=billable[0].reason,
        estimate_minutes=ticket.estimate_minutes,
    )
