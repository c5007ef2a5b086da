"""A month's facts, checked figure by figure against the records the october fixture made."""

from datetime import timedelta

import pytest

from caredesk.billing import periods
from caredesk.billing.statements import draft
from caredesk.billing.usage import compute
from caredesk.reports.collect import collect
from caredesk.tickets.sla_report import summary


@pytest.fixture
def facts(october, org_a):
    return collect([org_a.pk], 2026, 10)[org_a.pk]


def _site(facts, name):
    return next(site for site in facts["sites"] if site["name"] == name)


def test_support_counts_tickets_opened_and_solved_per_site_and_for_the_client(facts):
    shop, blog = _site(facts, "Alpha shop"), _site(facts, "Alpha blog")
    assert (shop["support"]["opened"], shop["support"]["solved"]) == (2, 1)
    assert (blog["support"]["opened"], blog["support"]["solved"]) == (1, 1)
    assert (facts["support"]["opened"], facts["support"]["solved"]) == (4, 2)
    assert facts["unsited_support"]["opened"] == 1  # the question tied to no site


def test_sla_targets_and_median_first_response_are_the_clocks_business_time(facts):
    shop, blog = _site(facts, "Alpha shop"), _site(facts, "Alpha blog")
    # Gallery answered after 1 business hour, checkout after 12 (9 h limit: missed);
    # checkout's resolution ran past 45 business hours unsolved: missed as well.
    assert (shop["support"]["sla_met"], shop["support"]["sla_missed"]) == (2, 2)
    assert shop["support"]["median_first_response"] == 6.5 * 3600
    assert (blog["support"]["sla_met"], blog["support"]["sla_missed"]) == (2, 0)
    assert blog["support"]["median_first_response"] == 30 * 60


def test_client_sla_figures_are_exactly_the_sla_report_summary(facts, org_a):
    expected = summary(org_a.pk, 2026, 10)
    support = facts["support"]
    assert (support["sla_met"], support["sla_missed"], support["sla_open"]) == (
        expected.met,
        expected.missed,
        expected.open,
    )
    assert timedelta(seconds=support["median_first_response"]) == expected.median_first_response


def test_hours_are_the_billing_rules_classification_with_the_plans_words(facts, october):
    checkout = october["tickets"]["checkout"].number
    hours = facts["hours"]
    assert hours["plan"] == "KIJO Care"
    assert hours["period_label"] == "October 2026"
    assert hours["allowance"] is None  # KIJO Care does not count hours
    assert (hours["included"], hours["excluded"], hours["fair_usage_excess"]) == (45, 45, 150)
    assert hours["overage"] == 0 and hours["billable"] == 195
    reasons = {item["reason"]: item["minutes"] for item in hours["reasons"]}
    assert reasons["New feature is not included in KIJO Care"] == 45
    assert reasons[f"Ticket #{checkout} passed the 2 h fair-usage limit in October 2026"] == 150


def test_hours_agree_with_the_statement_the_billing_app_would_draw(facts, org_a):
    usage = compute(periods.periods_containing([org_a.pk], periods.date(2026, 10, 1)))[0]
    fields = draft(usage).fields
    hours = facts["hours"]
    assert hours["included"] == fields["included_minutes"]
    assert hours["excluded"] == fields["excluded_minutes"]
    assert hours["fair_usage_excess"] == fields["fair_usage_minutes"]


def test_hours_are_split_per_site_by_the_ticket_they_were_logged_on(facts):
    shop, blog = _site(facts, "Alpha shop"), _site(facts, "Alpha blog")
    assert shop["hours"]["included"] == 30 and shop["hours"]["fair_usage_excess"] == 150
    assert blog["hours"]["excluded"] == 45
    assert facts["unsited_hours"]["included"] == 15


def test_uptime_is_the_monitoring_accounting_with_the_incident_and_its_cause(facts):
    uptime = _site(facts, "Alpha shop")["uptime"]
    # October in London: 745 hours (the clocks went back); 30 minutes down.
    assert uptime["watched_seconds"] == 745 * 3600
    assert uptime["down_seconds"] == 1800
    assert uptime["percent"] == pytest.approx(100 * (1 - 1800 / (745 * 3600)))
    [incident] = uptime["incidents"]
    assert incident["started_at"] == "2026-10-14T10:00:00+00:00"
    assert incident["seconds"] == 1800 and not incident["ongoing"]
    assert "HTTP 500" in incident["cause"]


def test_response_chart_has_a_point_per_day_from_the_rollups(facts):
    uptime = _site(facts, "Alpha shop")["uptime"]
    assert len(uptime["daily"]) == 31
    assert uptime["hours_with_data"] == 745
    day, p50, p95 = uptime["daily"][4]  # 5 October: 180 + 12 × 5 + 3 × minute
    assert day == "2026-10-05"
    assert p50 < p95 and 240 <= p50 <= 330


def test_tls_state_is_the_tls_monitors_last_result(facts):
    tls = _site(facts, "Alpha shop")["uptime"]["tls"]
    assert tls["days_left"] == 45 and tls["expires"] == "2026-12-15" and tls["ok"]
    assert _site(facts, "Alpha blog")["uptime"]["tls"] is None  # no check saw its certificate


def test_a_site_watched_from_mid_month_and_never_down_is_fully_up(facts):
    uptime = _site(facts, "Alpha blog")["uptime"]
    assert uptime["percent"] == 100.0 and uptime["incidents"] == []


def test_another_clients_records_never_enter_the_report(facts, october):
    numbers = [t["number"] for t in facts["support"]["tickets"]]
    assert october["tickets"]["b"].number not in numbers
    assert {site["name"] for site in facts["sites"]} == {"Alpha shop", "Alpha blog"}
    assert facts["hours"]["entries"] == 5  # B's 200 minutes are B's


def test_wordpress_core_and_plugins_are_the_logs_from_to_with_what_is_still_pending(facts):
    m = _site(facts, "Alpha shop")["maintenance"]
    assert [(c["name"], c["from"], c["to"]) for c in m["core"]] == [("WordPress", "6.6.1", "6.6.2")]
    assert [(p["name"], p["from"], p["to"]) for p in m["plugins"]] == [
        ("WooCommerce", "9.1.0", "9.1.2")
    ]
    assert m["themes"] == []
    assert m["core_version"] == "6.6.2"
    assert [(p["name"], p["version"], p["available"]) for p in m["pending"]] == [
        ("Contact Form 7", "5.9", "5.9.3")
    ]
    assert [w["name"] for w in m["work"]] == ["Cleared 1 200 spam comments"]


def test_the_scan_shows_the_last_scans_findings_and_what_was_fixed_since(facts):
    scan = _site(facts, "Alpha shop")["maintenance"]["scan"]
    assert scan["scans"] == 2
    assert scan["counts"]["high"] == 1 and scan["counts"]["medium"] == 0
    assert [(f["title"], f["fixed_in"], f["status"]) for f in scan["open"]] == [
        ("Contact Form 7 <= 5.9.2: stored cross-site scripting", "5.9.3", "open")
    ]
    assert [f["title"] for f in scan["fixed"]] == ["xmlrpc.php answers"]


def test_a_site_caredesk_keeps_no_maintenance_records_of_has_none(facts):
    assert _site(facts, "Alpha blog")["maintenance"] is None
