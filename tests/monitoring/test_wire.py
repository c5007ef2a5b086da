"""Monitors and results as JSON for remote probes: what goes out comes back the same."""

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from caredesk.monitoring.engine import Kind, MonitorSpec, Outcome
from caredesk.monitoring.engine.wire import (
    WireError,
    outcome_to_json,
    rechecks_from_json,
    spec_from_json,
    spec_to_json,
)
from caredesk.monitoring.state import Health, Policy, State

T = datetime(2026, 6, 10, 9, 0, 0, 123456, tzinfo=UTC)


def through_json(data):
    return json.loads(json.dumps(data))


def test_a_monitor_survives_the_trip_whole():
    spec = MonitorSpec(
        id=7,
        kind=Kind.TLS,
        interval=30.0,
        timeout=5.0,
        host="shop.example",
        port=8443,
        expected_status=((200, 299), (301, 301)),
        keyword="Basket",
        keyword_absent=True,
        max_response_ms=900,
        follow_redirects=False,
        allow_private=True,
        recheck_seconds=10.0,
        policy=Policy(3, 2),
        health=Health(State.DOWN, T, 3, 1, T, T, ("eu", "us")),
        version="2026-06-10T09:00:00+00:00",
    )
    back = spec_from_json(through_json(spec_to_json(spec)))
    # The regions behind the health stay on the server: a probe judges its own checks.
    assert back == replace(spec, health=Health(State.DOWN, T, 3, 1, T, T))


def test_http_options_and_dns_settings_survive_the_trip():
    http = MonitorSpec(
        id=8,
        url="https://shop.example/api",
        method="POST",
        body='{"ping": true}',
        headers=(("Content-Type", "application/json"), ("X-Token", "abc")),
        auth_user="monitor",
        auth_password="s3cret:with colon",
    )
    assert spec_from_json(through_json(spec_to_json(http))) == http
    record = MonitorSpec(
        id=9,
        kind=Kind.DNS,
        host="shop.example",
        record_type="MX",
        expected_values=("10 mx1.shop.example", "mx2.shop.example"),
        nameserver="192.0.2.53:5353",
    )
    assert spec_from_json(through_json(spec_to_json(record))) == record


def test_older_probes_are_told_never_to_fail_an_expiring_certificate():
    # Probes from before warnings failed below tls_min_days; the server now warns instead.
    assert spec_to_json(MonitorSpec(id=1, kind=Kind.TLS, host="a.example"))["tls_min_days"] == 0


def test_a_monitor_from_an_older_server_reads_with_the_defaults():
    data = spec_to_json(MonitorSpec(id=3, url="https://a.example/"))
    for name in ("body", "headers", "auth_user", "auth_password", "record_type"):
        del data[name]
    del data["expected_values"], data["nameserver"]
    assert spec_from_json(through_json(data)) == MonitorSpec(id=3, url="https://a.example/")


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "smtp"},
        {"interval": "soon"},
        {"expected_status": [[200]]},
        {"health": {"state": "up"}},
        {"policy": None},
    ],
)
def test_a_monitor_that_makes_no_sense_is_refused_with_its_id(change):
    data = {**spec_to_json(MonitorSpec(id=3, url="https://a.example/")), **change}
    with pytest.raises(WireError, match="3"):
        spec_from_json(data)


def test_a_time_without_an_offset_is_refused():
    data = spec_to_json(MonitorSpec(id=3, health=Health(State.UP, T)))
    data["health"]["since"] = "2026-06-10T09:00:00"
    with pytest.raises(WireError, match="offset"):
        spec_from_json(data)


def test_a_result_goes_out_with_every_figure_and_no_region():
    outcome = Outcome(5, T, "eu", False, 503, "status", "HTTP 503", 1, 2, 3, 4, 5, 60, 7, T)
    data = through_json(outcome_to_json(outcome))
    assert "region" not in data
    assert data["checked_at"] == T.isoformat() and data["next_check_at"] == T.isoformat()
    assert (data["status_code"], data["error_kind"], data["cert_days"]) == (503, "status", 60)


def test_recheck_requests_are_read_and_bad_ones_refused():
    assert rechecks_from_json([{"monitor_id": 4, "at": T.isoformat()}]) == [(4, T)]
    with pytest.raises(WireError):
        rechecks_from_json([{"monitor_id": "four", "at": T.isoformat()}])
    with pytest.raises(WireError):
        rechecks_from_json({"monitor_id": 4})
