"""Subscriptions: the fee after discount, valid terms, billing periods, which one is in force."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from caredesk.plans.models import Plan, Subscription, Term, active_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    return Plan.objects.create(
        code="package-5h", name="Support Package 5 h", monthly_fee=Decimal("300.00")
    )


def subscription(plan, org, **fields) -> Subscription:
    fields.setdefault("start_date", date(2026, 1, 1))
    return Subscription(organisation=org, plan=plan, **fields)


def test_annual_term_takes_the_discount_off_the_fee(plan, org_a):
    annual = subscription(plan, org_a, term=Term.ANNUAL, annual_discount_percent=Decimal("10"))
    assert annual.monthly_fee == Decimal("270.00")


def test_monthly_term_pays_the_full_fee(plan, org_a):
    assert subscription(plan, org_a, term=Term.MONTHLY).monthly_fee == Decimal("300.00")


def test_annual_term_without_discount_pays_the_full_fee(plan, org_a):
    assert subscription(plan, org_a, term=Term.ANNUAL).monthly_fee == Decimal("300.00")


def test_discounted_fee_is_rounded_to_the_penny(org_a):
    odd = Plan.objects.create(code="odd", name="Odd", monthly_fee=Decimal("99.99"))
    annual = subscription(odd, org_a, term=Term.ANNUAL, annual_discount_percent=Decimal("12.5"))
    assert annual.monthly_fee == Decimal("87.49")
    assert annual.monthly_fee.as_tuple().exponent == -2


def test_clean_rejects_a_discount_on_a_monthly_term(plan, org_a):
    monthly = subscription(plan, org_a, term=Term.MONTHLY, annual_discount_percent=Decimal("10"))
    with pytest.raises(ValidationError) as caught:
        monthly.full_clean()
    assert "annual_discount_percent" in caught.value.message_dict


def test_clean_rejects_an_end_before_the_start(plan, org_a):
    backwards = subscription(plan, org_a, end_date=date(2025, 12, 31))
    with pytest.raises(ValidationError) as caught:
        backwards.full_clean()
    assert "end_date" in caught.value.message_dict


def test_clean_accepts_an_annual_discount(plan, org_a):
    annual = subscription(plan, org_a, term=Term.ANNUAL, annual_discount_percent=Decimal("10"))
    annual.full_clean()
    annual.save()
    assert Subscription.objects.get().monthly_fee == Decimal("270.00")


@pytest.mark.parametrize("day", [0, 29, 31])
def test_billing_day_must_be_between_1_and_28(plan, org_a, day):
    with pytest.raises(ValidationError) as caught:
        subscription(plan, org_a, billing_day=day).full_clean()
    assert "billing_day" in caught.value.message_dict


@pytest.mark.parametrize(
    ("billing_day", "day", "period"),
    [
        (1, date(2026, 2, 10), (date(2026, 2, 1), date(2026, 3, 1))),
        (1, date(2026, 2, 1), (date(2026, 2, 1), date(2026, 3, 1))),
        (1, date(2026, 12, 31), (date(2026, 12, 1), date(2027, 1, 1))),
        (1, date(2028, 2, 29), (date(2028, 2, 1), date(2028, 3, 1))),
        (15, date(2026, 1, 15), (date(2026, 1, 15), date(2026, 2, 15))),
        (15, date(2026, 1, 14), (date(2025, 12, 15), date(2026, 1, 15))),
        (15, date(2026, 12, 20), (date(2026, 12, 15), date(2027, 1, 15))),
        (15, date(2026, 3, 1), (date(2026, 2, 15), date(2026, 3, 15))),
        (15, date(2026, 3, 14), (date(2026, 2, 15), date(2026, 3, 15))),
        (15, date(2028, 3, 1), (date(2028, 2, 15), date(2028, 3, 15))),
        (28, date(2026, 2, 28), (date(2026, 2, 28), date(2026, 3, 28))),
        (28, date(2026, 3, 27), (date(2026, 2, 28), date(2026, 3, 28))),
    ],
    ids=[
        "1st-mid-february",
        "1st-on-the-day",
        "1st-year-end",
        "1st-leap-day",
        "15th-on-the-day",
        "15th-day-before-crosses-year",
        "15th-into-next-year",
        "15th-february-short-month",
        "15th-last-day-of-february-period",
        "15th-leap-february",
        "28th-in-february",
        "28th-february-period",
    ],
)
def test_period_containing(plan, org_a, billing_day, day, period):
    assert subscription(plan, org_a, billing_day=billing_day).period_containing(day) == period


def test_periods_tile_the_year_without_gaps(plan, org_a):
    sub = subscription(plan, org_a, billing_day=15)
    start, end = sub.period_containing(date(2026, 1, 1))
    for _ in range(13):
        next_start, next_end = sub.period_containing(end)
        assert next_start == end
        start, end = next_start, next_end
    assert start.year == 2027


def test_is_active_on_includes_both_ends(plan, org_a):
    sub = subscription(plan, org_a, end_date=date(2026, 6, 30))
    assert sub.is_active_on(date(2026, 1, 1))
    assert sub.is_active_on(date(2026, 6, 30))
    assert not sub.is_active_on(date(2025, 12, 31))
    assert not sub.is_active_on(date(2026, 7, 1))


@pytest.fixture
def history(plan, org_a):
    """An ended subscription, the current one, and one that starts later."""
    care = Plan.objects.create(code="kijo-care", name="KIJO Care", monthly_fee=Decimal("95"))
    old = Subscription.objects.create(
        organisation=org_a, plan=care, start_date=date(2024, 1, 1), end_date=date(2025, 12, 31)
    )
    current = Subscription.objects.create(
        organisation=org_a, plan=plan, start_date=date(2026, 1, 1)
    )
    upgrade = Subscription.objects.create(
        organisation=org_a, plan=care, start_date=date(2026, 9, 1)
    )
    return {"old": old, "current": current, "upgrade": upgrade}


def test_active_subscription_picks_the_one_in_force(history, org_a):
    assert active_subscription(org_a.pk, date(2025, 6, 1)) == history["old"]
    assert active_subscription(org_a.pk, date(2025, 12, 31)) == history["old"]
    assert active_subscription(org_a.pk, date(2026, 1, 1)) == history["current"]
    assert active_subscription(org_a.pk, date(2026, 8, 31)) == history["current"]


def test_active_subscription_latest_start_wins_on_overlap(history, org_a):
    assert active_subscription(org_a.pk, date(2026, 9, 1)) == history["upgrade"]


def test_active_subscription_is_none_before_any_or_for_another_client(history, org_a, org_b):
    assert active_subscription(org_a.pk, date(2023, 12, 31)) is None
    assert active_subscription(org_b.pk, date(2026, 3, 1)) is None


def test_active_subscription_defaults_to_today(history, org_a):
    with time_machine.travel(date(2026, 3, 1), tick=False):
        assert active_subscription(org_a.pk) == history["current"]
