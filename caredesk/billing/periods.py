"""Which billing period, allowance window and plan terms apply to a client.

A period runs from the subscription's billing day to the same day next month
([start, end)); a client without a plan is billed by calendar month. An
agreement pools two consecutive periods into one *window* sharing one
allowance; otherwise the window is the period itself. The subscription in
force during the period decides its terms; work dated before the
subscription starts (or after it ends) is on demand.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from caredesk.lib import clock
from caredesk.plans.models import Plan, PlanCategory, QueueTier, Subscription

from . import rules
from .models import Agreement


@dataclass(frozen=True)
class Period:
    organisation_id: int
    start: date
    end: date
    window_start: date
    window_end: date
    subscription: Subscription | None
    # The subscription of each period of a pooled window, in order.
    window_subscriptions: tuple[Subscription | None, ...] = ()

    @property
    def is_pooled(self) -> bool:
        return (self.window_start, self.window_end) != (self.start, self.end)

    @property
    def label(self) -> str:
        return rules.period_label(self.start, self.end)

    @property
    def window_label(self) -> str:
        return rules.period_label(self.window_start, self.window_end)


def local_date(instant: datetime) -> date:
    """The agency's calendar date of an instant: work is dated as the team sees the calendar."""
    return instant.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def local_today() -> date:
    return local_date(clock.now())


def next_month(day: date) -> date:
    """The same day of the next month (billing days stop at 28, so it always exists)."""
    year, month = (day.year, day.month + 1) if day.month < 12 else (day.year + 1, 1)
    return day.replace(year=year, month=month)


def previous_month(day: date) -> date:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return day.replace(year=year, month=month)


def month_bounds(start: date, end: date) -> tuple[date, date]:
    """The calendar months that [start, end) touches, as [first day, first day after)."""
    last = end - timedelta(days=1)
    return start.replace(day=1), next_month(last.replace(day=1))


def period_in_month(
    subscriptions: list[Subscription], year: int, month: int
) -> tuple[Subscription | None, date, date]:
    """The period that starts in a month, and the subscription in force for it.

    ``subscriptions`` are one client's, newest start first.
    """
    for sub in subscriptions:
        start = date(year, month, sub.billing_day)
        end = next_month(start)
        if sub.start_date < end and (sub.end_date is None or sub.end_date >= start):
            return sub, start, end
    start = date(year, month, 1)
    return None, start, next_month(start)


def period_for_day(
    subscriptions: list[Subscription], day: date
) -> tuple[Subscription | None, date, date]:
    """The period that holds ``day``."""
    found = period_in_month(subscriptions, day.year, day.month)
    if found[1] <= day:
        return found
    earlier = period_in_month(subscriptions, *_year_month(previous_month(day.replace(day=1))))
    if earlier[1] <= day < earlier[2]:
        return earlier
    start = day.replace(day=1)
    return None, start, next_month(start)


def _year_month(day: date) -> tuple[int, int]:
    return day.year, day.month


def _window(
    subscriptions: list[Subscription],
    agreements: list[Agreement],
    sub: Subscription | None,
    start: date,
    end: date,
    organisation_id: int,
) -> Period:
    for agreement in agreements:
        if agreement.covers(start):
            first = period_for_day(subscriptions, agreement.first_period_start)[0]
            second = period_for_day(subscriptions, agreement.second_period_start)[0]
            return Period(
                organisation_id,
                start,
                end,
                agreement.first_period_start,
                agreement.second_period_end,
                sub,
                (first, second),
            )
    return Period(organisation_id, start, end, start, end, sub, (sub,))


def _subscriptions_by_org(organisation_ids: list[int] | None) -> dict[int, list[Subscription]]:
    query = Subscription.objects.select_related("plan").order_by("-start_date", "-pk")
    if organisation_ids is not None:
        query = query.filter(organisation_id__in=organisation_ids)
    grouped: dict[int, list[Subscription]] = defaultdict(list)
    for sub in query:
        grouped[sub.organisation_id].append(sub)
    return grouped


def _agreements_by_org(organisation_ids: list[int] | None) -> dict[int, list[Agreement]]:
    query = Agreement.objects.all()
    if organisation_ids is not None:
        query = query.filter(organisation_id__in=organisation_ids)
    grouped: dict[int, list[Agreement]] = defaultdict(list)
    for agreement in query:
        grouped[agreement.organisation_id].append(agreement)
    return grouped


def periods_in_month(organisation_ids: list[int], year: int, month: int) -> list[Period]:
    """Each client's period that starts in the month."""
    subs = _subscriptions_by_org(organisation_ids)
    agreements = _agreements_by_org(organisation_ids)
    periods = []
    for org_id in organisation_ids:
        sub, start, end = period_in_month(subs.get(org_id, []), year, month)
        periods.append(
            _window(subs.get(org_id, []), agreements.get(org_id, []), sub, start, end, org_id)
        )
    return periods


def periods_containing(organisation_ids: list[int], day: date) -> list[Period]:
    """Each client's period that holds ``day``."""
    subs = _subscriptions_by_org(organisation_ids)
    agreements = _agreements_by_org(organisation_ids)
    periods = []
    for org_id in organisation_ids:
        sub, start, end = period_for_day(subs.get(org_id, []), day)
        periods.append(
            _window(subs.get(org_id, []), agreements.get(org_id, []), sub, start, end, org_id)
        )
    return periods


def period_containing(organisation_id: int, day: date) -> Period:
    return periods_containing([organisation_id], day)[0]


def on_demand_plan() -> Plan | None:
    """The plan whose rate bills clients without a plan.

    ``CAREDESK_BILLING_ON_DEMAND_PLAN`` names it by code; without it, the only
    active on-demand plan, if there is exactly one.
    """
    code = getattr(settings, "CAREDESK_BILLING_ON_DEMAND_PLAN", None)
    if code:
        return Plan.objects.filter(code=code).first()
    candidates = list(Plan.objects.filter(queue_tier=QueueTier.ON_DEMAND, is_active=True)[:2])
    return candidates[0] if len(candidates) == 1 else None


def included_codes(plan_ids: set[int]) -> dict[int, frozenset[str]]:
    """The category codes each plan includes (anything else is excluded)."""
    codes: dict[int, set[str]] = defaultdict(set)
    for plan_id, code in PlanCategory.objects.filter(
        plan_id__in=plan_ids, included=True
    ).values_list("plan_id", "category__code"):
        codes[plan_id].add(code)
    return {plan_id: frozenset(codes.get(plan_id, ())) for plan_id in plan_ids}


def rounding_minutes() -> int:
    step = int(getattr(settings, "CAREDESK_BILLING_ROUNDING_MINUTES", 1))
    return max(1, step)


def terms_for(period: Period, included: dict[int, frozenset[str]]) -> rules.Terms:
    """The rules that bill the period's window."""
    sub = period.subscription
    if sub is None:
        return rules.Terms(on_demand=True, rounding_minutes=rounding_minutes())
    plan = sub.plan
    return rules.Terms(
        plan_name=plan.name,
        on_demand=plan.queue_tier == QueueTier.ON_DEMAND,
        included_minutes=window_allowance(period),
        fair_usage_cap_minutes=plan.fair_usage_cap_minutes,
        fair_usage_mode=plan.fair_usage_mode,
        included_categories=included.get(plan.pk, frozenset()),
        rounding_minutes=rounding_minutes(),
        allowance_label=period.window_label,
    )


def window_allowance(period: Period) -> int | None:
    """Minutes included over the whole window; None when the plan does not count hours."""
    total = 0
    for sub in period.window_subscriptions:
        if sub is None or sub.plan.queue_tier == QueueTier.ON_DEMAND:
            continue
        if sub.plan.included_minutes is None:
            return None
        total += sub.plan.included_minutes
    return total


def fee(sub: Subscription | None) -> tuple[Decimal, Decimal]:
    """(plan fee, discount taken off it) for one period; the discount is negative or zero."""
    if sub is None:
        return Decimal("0.00"), Decimal("0.00")
    gross = sub.plan.monthly_fee.quantize(Decimal("0.01"))
    return gross, sub.monthly_fee - gross


def subscriptions_active(day: date) -> list[int]:
    """Clients with a subscription in force on ``day``."""
    return list(
        Subscription.objects.filter(start_date__lte=day)
        .filter(Q(end_date=None) | Q(end_date__gte=day))
        .values_list("organisation_id", flat=True)
        .distinct()
    )
