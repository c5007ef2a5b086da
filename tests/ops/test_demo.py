"""The demo: idempotent, and the catalogues say what the three agencies promise."""

from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from caredesk.clients.models import Organisation
from caredesk.ops.demo import load_demo
from caredesk.plans.models import Plan, QueueTier, Subscription, Term

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    return load_demo()


@pytest.fixture
def catalogue(db):
    """The agencies' plans, clients, contacts and sites, without last month's activity."""
    return load_demo(activity=False)


def counts() -> dict[str, int]:
    """Rows per model, for every model with a table (the demo cannot write elsewhere)."""
    tables = set(connection.introspection.table_names())
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.db_table in tables
    }


def included(plan: Plan) -> set[str]:
    return set(plan.plancategory_set.filter(included=True).values_list("category__code", flat=True))


def excluded(plan: Plan) -> set[str]:
    return set(
        plan.plancategory_set.filter(included=False).values_list("category__code", flat=True)
    )


def test_loading_twice_changes_nothing_the_second_time(demo):
    assert demo > 0
    before = counts()
    assert load_demo() == 0
    assert counts() == before


def test_reloading_repairs_an_edited_record(demo):
    Plan.objects.filter(code="kijo-care").update(fair_usage_cap_minutes=999)
    assert load_demo() == 1
    assert Plan.objects.get(code="kijo-care").fair_usage_cap_minutes == 120


def test_kijo_care_caps_a_ticket_at_two_hours_a_month(catalogue):
    assert Plan.objects.get(code="kijo-care").fair_usage_cap_minutes == 120


def test_kijo_care_excludes_new_features_and_analytics_and_includes_bug_fixes(catalogue):
    plan = Plan.objects.get(code="kijo-care")
    assert {"new-feature", "analytics-integration"} <= excluded(plan)
    assert {"bug-fix", "backup-restoration", "maintenance"} <= included(plan)
    assert not included(plan) & excluded(plan)


def test_support_packages_include_hours(catalogue):
    assert Plan.objects.get(code="package-5h").included_minutes == 5 * 60
    assert Plan.objects.get(code="package-10h").included_minutes == 10 * 60


def test_annual_package_subscription_takes_ten_percent_off(catalogue):
    subscription = Subscription.objects.get(organisation__name="Northwind Outdoor Store")
    assert subscription.term == Term.ANNUAL
    assert subscription.annual_discount_percent == Decimal("10")
    assert subscription.plan.monthly_fee == Decimal("560.00")
    assert subscription.monthly_fee == Decimal("504.00")


def test_on_demand_plans_are_served_after_plan_clients(catalogue):
    on_demand = Plan.objects.filter(code__in=["on-demand", "kijo-optimise"])
    assert on_demand.count() == 2
    for plan in on_demand:
        assert plan.queue_tier == QueueTier.ON_DEMAND
        assert plan.queue_tier > QueueTier.PLAN
        assert plan.monthly_fee == Decimal("0.00")


def test_every_demo_client_has_an_account_manager_who_is_staff(catalogue):
    organisations = Organisation.objects.select_related("account_manager")
    assert organisations.exists()
    for organisation in organisations:
        assert organisation.account_manager.is_agency_staff


def test_demo_addresses_use_the_reserved_example_domain(demo):
    for organisation in Organisation.objects.prefetch_related("contacts", "sites"):
        for contact in organisation.contacts.all():
            assert contact.email.endswith(".example")
        for site in organisation.sites.all():
            assert ".example/" in site.url


def test_demo_command_says_whether_it_changed_anything(db):
    out = StringIO()
    call_command("demo", stdout=out)
    assert "Demo data loaded" in out.getvalue()
    out = StringIO()
    call_command("demo", stdout=out)
    assert out.getvalue().strip() == "Demo data already loaded; nothing changed."
