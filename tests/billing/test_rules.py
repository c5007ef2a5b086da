"""The pure billing rules: kinds, reasons, rounding, and properties that hold for any work."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from caredesk.billing import rules
from caredesk.billing.money import hours, money, price
from caredesk.billing.rules import EXCESS, WHOLE_TICKET, Kind, Terms, Work

KIJO = Terms(
    plan_name="KIJO Care",
    fair_usage_cap_minutes=120,
    fair_usage_mode=WHOLE_TICKET,
    included_categories=frozenset({"bug-fix", "maintenance"}),
)
PACKAGE = Terms(
    plan_name="Support Package 5 h",
    included_minutes=300,
    included_categories=frozenset({"bug-fix", "new-feature"}),
    allowance_label="May 2026",
)


def work(key, minutes, day, ticket=1, category="bug-fix", covered=True) -> Work:
    return Work(
        key=key,
        ticket=ticket,
        ticket_label=f"#{1000 + ticket}",
        work_date=day,
        minutes=minutes,
        category=category,
        category_name=(category or "").replace("-", " ").capitalize(),
        covered=covered,
    )


def kinds(outcome) -> dict[str, int]:
    return {k.value: v for k, v in outcome.totals().items() if v}


def test_hours_are_written_as_the_seeds_write_them():
    assert [hours(m) for m in (45, 60, 90, 120, 150, 0)] == [
        "45 min",
        "1 h",
        "1 h 30",
        "2 h",
        "2 h 30",
        "0 min",
    ]


def test_money_is_rounded_half_up_to_the_penny():
    assert price(1, Decimal("85.00")) == Decimal("1.42")  # 1.41666…
    assert price(6, Decimal("0.25")) == Decimal("0.03")  # 0.025 exactly: half rounds up
    assert price(90, Decimal("85.00")) == Decimal("127.50")
    assert money(Decimal("1234.5"), "GBP") == "GBP 1,234.50"


def test_period_labels():
    assert rules.period_label(date(2026, 5, 1), date(2026, 6, 1)) == "May 2026"
    assert rules.period_label(date(2026, 5, 1), date(2026, 7, 1)) == "May–June 2026"
    assert rules.period_label(date(2026, 12, 1), date(2027, 2, 1)) == "December 2026 – January 2027"
    assert rules.period_label(date(2026, 5, 15), date(2026, 6, 15)) == "15 May – 14 June 2026"


def test_whole_ticket_mode_bills_all_of_the_month_once_past_the_cap():
    outcome = rules.classify(KIJO, [work(1, 100, date(2026, 3, 2)), work(2, 30, date(2026, 3, 30))])
    assert kinds(outcome) == {"fair_usage_excess": 130}


def test_excess_mode_bills_only_the_minutes_past_the_cap():
    terms = Terms(**{**KIJO.__dict__, "fair_usage_mode": EXCESS})
    outcome = rules.classify(
        terms, [work(1, 100, date(2026, 3, 2)), work(2, 30, date(2026, 3, 30))]
    )
    assert [(p.key, p.kind, p.minutes) for p in outcome.parts] == [
        (1, Kind.INCLUDED, 100),
        (2, Kind.FAIR_USAGE_EXCESS, 10),
        (2, Kind.INCLUDED, 20),
    ]
    assert outcome.parts[1].reason.endswith("; the time past the limit is billed")


def test_fair_usage_is_counted_per_calendar_month_not_per_period():
    outcome = rules.classify(KIJO, [work(1, 90, date(2026, 3, 31)), work(2, 90, date(2026, 4, 1))])
    assert kinds(outcome) == {"included": 180}


def test_fair_usage_is_counted_per_ticket():
    outcome = rules.classify(
        KIJO, [work(1, 100, date(2026, 3, 2), ticket=1), work(2, 100, date(2026, 3, 3), ticket=2)]
    )
    assert kinds(outcome) == {"included": 200}


def test_context_outside_the_window_counts_toward_fair_usage_but_is_not_classified():
    outcome = rules.classify(
        KIJO, [work(2, 60, date(2026, 3, 20))], context=[work(1, 90, date(2026, 3, 10))]
    )
    assert [(p.key, p.kind, p.minutes) for p in outcome.parts] == [(2, Kind.FAIR_USAGE_EXCESS, 60)]
    assert outcome.ticket_months[(1, (2026, 3))] == 150


def test_excluded_work_does_not_count_toward_fair_usage():
    outcome = rules.classify(
        KIJO,
        [work(1, 100, date(2026, 3, 2)), work(2, 100, date(2026, 3, 3), category="new-feature")],
    )
    assert kinds(outcome) == {"included": 100, "excluded": 100}


def test_allowance_is_used_in_date_order_and_an_entry_can_straddle_its_end():
    outcome = rules.classify(
        PACKAGE, [work(2, 120, date(2026, 5, 20)), work(1, 240, date(2026, 5, 4))]
    )
    assert [(p.key, p.kind, p.minutes) for p in outcome.parts] == [
        (1, Kind.INCLUDED, 240),
        (2, Kind.INCLUDED, 60),
        (2, Kind.OVERAGE, 60),
    ]
    assert outcome.parts[2].reason == (
        "The 5 h allowance of Support Package 5 h for May 2026 was used up"
    )
    assert outcome.allowance_used == 300


def test_category_the_plan_says_nothing_about_is_excluded_and_no_category_is_included():
    outcome = rules.classify(
        PACKAGE,
        [
            work(1, 30, date(2026, 5, 4), category="training"),
            work(2, 30, date(2026, 5, 5), category=None),
        ],
    )
    assert kinds(outcome) == {"excluded": 30, "included": 30}


def test_no_plan_and_days_outside_the_subscription_are_on_demand():
    outcome = rules.classify(rules.NO_PLAN, [work(1, 30, date(2026, 5, 4))])
    assert [(p.kind, p.reason) for p in outcome.parts] == [
        (Kind.ON_DEMAND, "No plan: on-demand work, billed per hour")
    ]
    before_start = rules.classify(PACKAGE, [work(1, 30, date(2026, 4, 28), covered=False)])
    assert before_start.parts[0].reason == (
        "No plan was in force on 28 April 2026: on-demand work, billed per hour"
    )
    plan = Terms(plan_name="On demand", on_demand=True)
    assert rules.classify(plan, [work(1, 30, date(2026, 5, 4))]).parts[0].reason == (
        "On demand is billed per hour"
    )


def test_rounding_applies_to_each_entry_before_the_rules():
    terms = Terms(**{**PACKAGE.__dict__, "rounding_minutes": 15})
    outcome = rules.classify(terms, [work(1, 1, date(2026, 5, 4)), work(2, 16, date(2026, 5, 5))])
    assert kinds(outcome) == {"included": 45}


def test_reached_shares():
    assert rules.reached(240, 300, (80, 100)) == [80]
    assert rules.reached(300, 300, (80, 100)) == [80, 100]
    assert rules.reached(239, 300, (80, 100)) == []
    assert rules.reached(500, None, (80,)) == []


# Properties over any plan and any work.

CATEGORY = st.sampled_from(["bug-fix", "new-feature", "training", None])
DAY = st.dates(min_value=date(2026, 3, 1), max_value=date(2026, 5, 31))
TERMS = st.builds(
    Terms,
    plan_name=st.sampled_from(["Plan", ""]),
    on_demand=st.booleans(),
    included_minutes=st.one_of(st.none(), st.integers(0, 600)),
    fair_usage_cap_minutes=st.one_of(st.none(), st.integers(1, 240)),
    fair_usage_mode=st.sampled_from([WHOLE_TICKET, EXCESS]),
    included_categories=st.sampled_from(
        [frozenset({"bug-fix"}), frozenset({"bug-fix", "new-feature"})]
    ),
    rounding_minutes=st.sampled_from([1, 5, 15]),
)
ITEM = st.tuples(st.integers(1, 400), DAY, st.integers(1, 3), CATEGORY, st.booleans())


def works(items) -> list[Work]:
    # Keys leave a gap between entries so a split piece can sit right after its entry.
    return [
        work(key=i * 2, minutes=m, day=d, ticket=t, category=c, covered=cov)
        for i, (m, d, t, c, cov) in enumerate(items)
    ]


@settings(max_examples=200, deadline=None)
@given(TERMS, st.lists(ITEM, max_size=25))
def test_every_entry_is_classified_into_parts_that_add_up_to_its_rounded_minutes(terms, items):
    entries = works(items)
    outcome = rules.classify(terms, entries)
    for entry in entries:
        parts = outcome.parts_of(entry.key)
        assert sum(p.minutes for p in parts) == rules.rounded(entry.minutes, terms.rounding_minutes)
        assert all(p.minutes > 0 and p.reason for p in parts)
    if terms.included_minutes is not None:
        assert outcome.totals()[Kind.INCLUDED] <= terms.included_minutes or not terms.plan_name


@settings(max_examples=200, deadline=None)
@given(TERMS, st.lists(ITEM, min_size=1, max_size=20), st.data())
def test_splitting_an_entry_in_two_changes_no_total(terms, items, data):
    terms = Terms(**{**terms.__dict__, "rounding_minutes": 1})
    entries = works(items)
    index = data.draw(st.integers(0, len(entries) - 1))
    whole = entries[index]
    if whole.minutes < 2:
        return
    cut = data.draw(st.integers(1, whole.minutes - 1))
    first = Work(**{**whole.__dict__, "minutes": cut})
    second = Work(**{**whole.__dict__, "key": whole.key + 1, "minutes": whole.minutes - cut})
    split = [*entries[:index], first, second, *entries[index + 1 :]]
    assert rules.classify(terms, split).totals() == rules.classify(terms, entries).totals()


@settings(max_examples=100, deadline=None)
@given(st.lists(ITEM, max_size=20), st.randoms())
def test_the_order_entries_arrive_in_does_not_matter(items, random):
    entries = works(items)
    shuffled = entries[:]
    random.shuffle(shuffled)
    assert rules.classify(PACKAGE, shuffled).parts == rules.classify(PACKAGE, entries).parts
