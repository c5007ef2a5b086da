"""The seeds' billing rules as dated cases, from logged time to the statement.

"If a single ticket will take longer than 2 hours to action in a single
calendar month then this exceeds our fair usage policy and is excluded."
"Anything which is excluded ... is charged per hour." "Any unused hours expire
at the end of the billing cycle ... the hours of two months can be grouped
together." "We can offer you a 10 percent discount for a 1 year contract."
"""

from datetime import date
from decimal import Decimal

import pytest

from caredesk.billing import actions, ledger, statements
from caredesk.billing.models import LedgerEntry, LedgerKind

from .conftest import ANNUAL, subscribe


def _kinds(statement) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for line in statement.lines.exclude(time_entry=None):
        kinds[line.kind] = kinds.get(line.kind, 0) + line.minutes
    return kinds


def test_kijo_ticket_of_1h30_in_march_and_1h_in_april_is_inside_fair_usage_both_months(
    kijo_client, make_ticket, log
):
    ticket = make_ticket(kijo_client, "bug-fix")
    log(ticket, 90, date(2026, 3, 10))
    log(ticket, 60, date(2026, 4, 2))

    march = statements.build_one(kijo_client, 2026, 3)
    april = statements.build_one(kijo_client, 2026, 4)

    assert _kinds(march) == {"included": 90}
    assert _kinds(april) == {"included": 60}
    assert march.billable_amount == april.billable_amount == Decimal("0.00")


def test_kijo_ticket_of_2h30_in_march_is_past_fair_usage_and_billed_for_march(
    kijo_client, make_ticket, log
):
    ticket = make_ticket(kijo_client, "bug-fix")
    log(ticket, 60, date(2026, 3, 3))
    log(ticket, 90, date(2026, 3, 24))

    march = statements.build_one(kijo_client, 2026, 3)

    # The whole ticket's March is billable, the first hour included.
    assert _kinds(march) == {"fair_usage_excess": 150}
    assert march.fair_usage_minutes == 150
    assert march.billable_amount == Decimal("212.50")  # 2.5 h at £85
    reasons = set(march.lines.exclude(time_entry=None).values_list("reason", flat=True))
    assert reasons == {f"Ticket {ticket.reference} passed the 2 h fair-usage limit in March 2026"}


def test_exactly_two_hours_in_a_month_is_still_inside_fair_usage(kijo_client, make_ticket, log):
    ticket = make_ticket(kijo_client, "bug-fix")
    log(ticket, 120, date(2026, 3, 3))

    assert _kinds(statements.build_one(kijo_client, 2026, 3)) == {"included": 120}


def test_bug_fix_is_included_and_a_new_feature_is_billed_at_the_hourly_rate(
    kijo_client, make_ticket, log
):
    bug = make_ticket(kijo_client, "bug-fix", "Checkout button broken")
    feature = make_ticket(kijo_client, "new-feature", "Add a booking calendar")
    log(bug, 45, date(2026, 3, 5))
    log(feature, 90, date(2026, 3, 6))

    march = statements.build_one(kijo_client, 2026, 3)

    bug_line = march.lines.get(ticket_number=bug.number)
    feature_line = march.lines.get(ticket_number=feature.number)
    assert (bug_line.kind, bug_line.amount) == ("included", Decimal("0.00"))
    assert bug_line.reason == "Bug fix is included in KIJO Care"
    assert (feature_line.kind, feature_line.rate, feature_line.amount) == (
        "excluded",
        Decimal("85.00"),
        Decimal("127.50"),
    )
    assert feature_line.reason == "New feature is not included in KIJO Care"
    assert march.total == Decimal("95.00") + Decimal("127.50")


def test_package_client_who_uses_3_of_5_hours_in_may_starts_june_with_5_not_7(
    package_client, make_ticket, log
):
    ticket = make_ticket(package_client, "bug-fix")
    log(ticket, 180, date(2026, 5, 12))

    may = statements.build_one(package_client, 2026, 5, finalise=True)
    june = statements.build_one(package_client, 2026, 6)

    assert (may.allowance_minutes, may.included_minutes, may.allowance_left) == (300, 180, 120)
    assert (june.allowance_minutes, june.included_minutes, june.allowance_left) == (300, 0, 300)
    # The ledger says the same: May's two unused hours expired, June was credited 5 h.
    may_rows = LedgerEntry.objects.filter(
        organisation=package_client, window_start=date(2026, 5, 1)
    )
    assert sorted(may_rows.values_list("kind", "minutes")) == [
        (LedgerKind.CREDIT, 300),
        (LedgerKind.DEBIT, -180),
        (LedgerKind.EXPIRE, -120),
    ]
    assert ledger.balance(package_client.pk, date(2026, 5, 1)) == 0
    june_credit = LedgerEntry.objects.filter(
        organisation=package_client, window_start=date(2026, 6, 1), kind=LedgerKind.CREDIT
    )
    assert [row.minutes for row in june_credit] == [300]


def test_with_may_and_june_pooled_the_client_has_10_hours_across_both(
    package_client, make_ticket, log, account_manager
):
    actions.do_pool_periods(
        package_client, date(2026, 5, 1), acting_user=account_manager, note="Shop relaunch"
    )
    ticket = make_ticket(package_client, "new-feature")
    log(ticket, 180, date(2026, 5, 12))
    log(ticket, 420, date(2026, 6, 3))  # 7 h: the rest of the pool, no overage

    may = statements.build_one(package_client, 2026, 5)
    june = statements.build_one(package_client, 2026, 6)

    assert may.allowance_minutes == june.allowance_minutes == 600
    assert (may.included_minutes, may.allowance_left) == (180, 420)
    assert (june.allowance_used_before, june.included_minutes, june.allowance_left) == (180, 420, 0)
    assert may.overage_minutes == june.overage_minutes == 0
    assert ledger.balance(package_client.pk, date(2026, 5, 1)) == 0


def test_pooled_hours_past_ten_are_overage(package_client, make_ticket, log, account_manager):
    actions.do_pool_periods(package_client, date(2026, 5, 1), acting_user=account_manager)
    ticket = make_ticket(package_client, "bug-fix")
    log(ticket, 180, date(2026, 5, 12))
    log(ticket, 480, date(2026, 6, 3))

    june = statements.build_one(package_client, 2026, 6)

    assert (june.included_minutes, june.overage_minutes) == (420, 60)
    assert june.billable_amount == Decimal("60.00")  # 1 h at $60


def test_without_pooling_may_overage_is_not_covered_by_june(package_client, make_ticket, log):
    ticket = make_ticket(package_client, "bug-fix")
    log(ticket, 420, date(2026, 5, 12))

    may = statements.build_one(package_client, 2026, 5)

    assert (may.included_minutes, may.overage_minutes) == (300, 120)
    assert may.billable_amount == Decimal("120.00")


@pytest.mark.parametrize(
    ("term", "fee", "lines"),
    [
        ({}, Decimal("300.00"), [("plan_fee", Decimal("300.00"))]),
        (
            ANNUAL,
            Decimal("270.00"),
            [("plan_fee", Decimal("300.00")), ("discount", Decimal("-30.00"))],
        ),
    ],
    ids=["monthly", "one-year term"],
)
def test_one_year_term_takes_10_percent_off_the_fee(org_b, package_5h, term, fee, lines):
    subscribe(org_b, package_5h, **term)

    may = statements.build_one(org_b, 2026, 5)

    assert may.fee == may.total == fee
    assert list(may.lines.values_list("kind", "amount")) == lines
