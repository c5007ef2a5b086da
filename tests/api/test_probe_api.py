"""The remote probes' API: monitors out, results and heartbeats in, by probe token only."""

from datetime import timedelta

import pytest
from django.test import Client

from caredesk.api.probe import MonitorsOut
from caredesk.lib import clock
from caredesk.monitoring.models import CheckResult, Monitor, Probe, ProbeToken
from caredesk.monitoring.state import State

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    return ProbeToken.issue("Frankfurt VM", "eu-central")


@pytest.fixture
def probe(token) -> Client:
    return Client(headers={"Authorization": f"Bearer {token[1]}"})


@pytest.fixture
def monitor(site_a) -> Monitor:
    return Monitor.objects.get(site=site_a)


def result(monitor, seconds_ago=5.0, ok=True, **fields):
    checked_at = clock.now() - timedelta(seconds=seconds_ago)
    return {"monitor_id": monitor.pk, "checked_at": checked_at.isoformat(), "ok": ok, **fields}


def post(client, path, body):
    return client.post(f"/api/v1/probe/{path}", body, content_type="application/json")


def heartbeat(region="eu-central", **fields):
    now = clock.now().isoformat()
    figures = dict.fromkeys(
        (
            "monitors",
            "checks",
            "failures",
            "missed",
            "lag_p50_ms",
            "lag_p99_ms",
            "in_flight",
            "waiting_results",
        ),
        0,
    )
    body = {"name": f"{region}@vm1", "region": region, "started_at": now, "at": now, **figures}
    return {**body, **fields}


def test_a_probe_lists_every_monitor_then_only_the_changes(probe, monitor, site_b):
    first = probe.get("/api/v1/probe/monitors").json()
    MonitorsOut.model_validate(first)  # what the OpenAPI document promises
    assert first["region"] == "eu-central" and first["complete"]
    by_id = {m["id"]: m for m in first["monitors"]}
    assert set(by_id) == set(Monitor.objects.values_list("pk", flat=True))
    spec = by_id[monitor.pk]
    assert spec["url"] == "https://alpha.example/" and spec["interval"] == 60.0
    assert spec["expected_status"] == [[200, 399]]
    assert spec["policy"] == {"failures": 2, "recoveries": 2}
    assert spec["health"]["state"] == "unknown"
    cursor = first["cursor"]
    # Nothing changed: the look-back lists the monitors again, unchanged (same version).
    again = probe.get("/api/v1/probe/monitors", {"since": cursor}).json()
    assert not again["complete"]
    assert {m["version"] for m in again["monitors"]} <= {m["version"] for m in first["monitors"]}
    monitor.enabled = False
    monitor.save()
    changed = probe.get("/api/v1/probe/monitors", {"since": cursor}).json()
    assert changed["removed"] == [monitor.pk]


def test_results_are_stored_once_even_when_a_batch_is_sent_again(probe, monitor):
    batch = {
        "region": "eu-central",
        "results": [
            result(monitor, 20, True, status_code=200, total_ms=120, dns_ms=3),
            result(monitor, 10, False, status_code=503, error_kind="status", error="HTTP 503"),
        ],
    }
    answer = post(probe, "results", batch)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"received": 2, "saved": 2}
    # The probe did not hear the answer (a timeout) and sends the same batch again.
    assert post(probe, "results", batch).json() == {"received": 2, "saved": 0}
    rows = list(CheckResult.objects.order_by("checked_at"))
    assert [(r.region, r.ok, r.status_code) for r in rows] == [
        ("eu-central", True, 200),
        ("eu-central", False, 503),
    ]
    monitor.refresh_from_db()
    assert monitor.state == State.UP and monitor.fail_streak == 1
    assert monitor.failing_regions == ["eu-central"]


def test_a_failure_asks_the_other_regions_for_a_recheck(probe, token, monitor):
    post(probe, "results", {"region": "eu-central", "results": [result(monitor, 1, False)]})
    monitor.refresh_from_db()
    assert monitor.recheck_region == "eu-central" and monitor.recheck_after is not None
    # Its own region is not asked: that probe re-checks by itself.
    assert probe.get("/api/v1/probe/monitors").json()["rechecks"] == []
    _, other = ProbeToken.issue("Virginia VM", "us-east")
    other_probe = Client(headers={"Authorization": f"Bearer {other}"})
    [asked] = other_probe.get("/api/v1/probe/monitors").json()["rechecks"]
    assert asked["monitor_id"] == monitor.pk


def test_a_heartbeat_registers_the_probe_and_counts_its_region(probe):
    answer = post(probe, "heartbeat", heartbeat(version="0.1.0", checks=7))
    assert answer.status_code == 200, answer.content
    assert answer.json()["live_regions"] == ["eu-central"]
    row = Probe.objects.get()
    assert (row.name, row.region, row.remote, row.version) == (
        "eu-central@vm1",
        "eu-central",
        True,
        "0.1.0",
    )
    assert row.status["checks"] == 7 and row.stopped_at is None
    post(probe, "heartbeat", heartbeat(stopping=True))
    assert Probe.objects.get().stopped_at is not None
    assert not Probe.objects.alive().exists()


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("results", {"region": "us-east", "results": []}, 403),  # another region's
        ("heartbeat", heartbeat(region="us-east", name="us-east@vm1"), 403),
        ("heartbeat", heartbeat(name="local@server"), 422),  # posing as another probe
        ("results", {"region": "eu-central"}, 422),
        ("results", {"region": "eu central", "results": []}, 422),
        ("results", {"region": "eu-central", "results": [{"monitor_id": 1}]}, 422),
        ("heartbeat", heartbeat(checks=-1), 422),
    ],
)
def test_bad_requests_are_refused_with_json_and_change_nothing(probe, path, body, status):
    answer = post(probe, path, body)
    assert answer.status_code == status, answer.content
    assert "detail" in answer.json()
    assert not CheckResult.objects.exists() and not Probe.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"ok": "perhaps"},
        {"checked_at": "yesterday"},
        {"checked_at": "2026-06-10T09:00:00"},  # no offset: whose clock?
        {"status_code": 42},
        {"total_ms": -5},
        {"error_kind": "x" * 21},
        {"monitor_id": 0},
    ],
)
def test_every_field_of_a_result_is_checked(probe, monitor, fields):
    body = {"region": "eu-central", "results": [{**result(monitor), **fields}]}
    assert post(probe, "results", body).status_code == 422
    assert not CheckResult.objects.exists()


def test_results_from_a_clock_far_ahead_are_refused(probe, monitor):
    body = {"region": "eu-central", "results": [result(monitor, seconds_ago=-3600)]}
    answer = post(probe, "results", body)
    assert answer.status_code == 422
    assert "clock" in answer.json()["detail"]


def test_a_batch_may_not_be_huge(probe, monitor):
    body = {"region": "eu-central", "results": [result(monitor, n / 10) for n in range(1001)]}
    assert post(probe, "results", body).status_code == 422


def test_results_of_deleted_monitors_are_dropped(probe, monitor):
    body = {
        "region": "eu-central",
        "results": [result(monitor), {**result(monitor), "monitor_id": 999_999}],
    }
    assert post(probe, "results", body).json() == {"received": 2, "saved": 1}


def test_people_and_strangers_cannot_act_as_a_probe(api_client_for, staff, token, monitor):
    for client in (api_client_for(staff), Client(), Client(headers={"Authorization": "Bearer x"})):
        assert client.get("/api/v1/probe/monitors").status_code == 401
        assert post(client, "heartbeat", heartbeat()).status_code == 401
    # A probe token opens nothing else.
    probe = Client(headers={"Authorization": f"Bearer {token[1]}"})
    assert probe.get("/api/v1/sites").status_code == 401


def test_a_revoked_token_stops_working(probe, token):
    token[0].revoked_at = clock.now()
    token[0].save()
    assert probe.get("/api/v1/probe/monitors").status_code == 401


def test_the_token_is_stored_as_a_hash_and_its_use_is_noted(probe, token):
    row, secret = token
    assert secret.startswith(row.prefix + ".") and secret not in row.key_hash
    probe.get("/api/v1/probe/monitors")
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_the_probe_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/probe/monitors", "/api/v1/probe/results", "/api/v1/probe/heartbeat"} <= set(
        paths
    )


def test_a_remote_probe_cut_off_says_so_and_its_results_do_not_count(probe, monitor):
    answer = post(probe, "heartbeat", heartbeat(network="lost", network_detail="30 of 30 failed"))
    assert answer.status_code == 200 and answer.json()["live_regions"] == []
    assert Probe.objects.get().network_lost_at is not None
    failed = result(monitor, ok=False, error_kind="connect", error="refused", network_lost=True)
    assert (
        post(probe, "results", {"region": "eu-central", "results": [failed]}).json()["saved"] == 1
    )
    monitor.refresh_from_db()
    assert monitor.fail_streak == 0
    assert CheckResult.objects.get().error_kind == "probe_network"
    assert post(probe, "heartbeat", heartbeat(network="unsure")).status_code == 422
