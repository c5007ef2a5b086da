"""Monitors and results as JSON, for the remote probe's API. Plain data both ways.

The server writes monitors with :func:`spec_to_json` and reads results with its
own schemas; the remote probe reads monitors with :func:`spec_from_json` and
writes results with :func:`outcome_to_json`. Times are ISO 8601 with their
offset; the server's own clock stamps the cursor, so a probe's clock never
decides which changes it gets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from caredesk.monitoring.state import Health, Policy, State

from .spec import Kind, MonitorSpec, Outcome

JSON = dict[str, Any]


class WireError(ValueError):
    """A message from the other side that does not make sense."""


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: object, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise WireError(f"{name}: expected a time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise WireError(f"{name}: {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise WireError(f"{name}: {value!r} has no UTC offset")
    return parsed


def spec_to_json(spec: MonitorSpec) -> JSON:
    health = spec.health
    return {
        "id": spec.id,
        "version": spec.version,
        "kind": spec.kind.value,
        "interval": spec.interval,
        "timeout": spec.timeout,
        "url": spec.url,
        "host": spec.host,
        "port": spec.port,
        "method": spec.method,
        "body": spec.body,
        "headers": [list(pair) for pair in spec.headers],
        "auth_user": spec.auth_user,
        "auth_password": spec.auth_password,
        "expected_status": [list(pair) for pair in spec.expected_status],
        "keyword": spec.keyword,
        "keyword_absent": spec.keyword_absent,
        "max_response_ms": spec.max_response_ms,
        "follow_redirects": spec.follow_redirects,
        "max_redirects": spec.max_redirects,
        # Probes before warnings failed a check below this many days: 0 keeps them from
        # turning a certificate warning into an outage. The server warns from cert_days.
        "tls_min_days": 0,
        "record_type": spec.record_type,
        "expected_values": list(spec.expected_values),
        "nameserver": spec.nameserver,
        "allow_private": spec.allow_private,
        "recheck_seconds": spec.recheck_seconds,
        "policy": {"failures": spec.policy.failures, "recoveries": spec.policy.recoveries},
        "health": {
            "state": health.state.value,
            "since": _time(health.since),
            "fails": health.fails,
            "oks": health.oks,
            "failing_since": _time(health.failing_since),
            "recovering_since": _time(health.recovering_since),
        },
    }


def spec_from_json(data: JSON) -> MonitorSpec:
    """A monitor from the server; raises WireError (with the field) when it cannot be one."""
    try:
        policy, health = data["policy"], data["health"]
        return MonitorSpec(
            id=int(data["id"]),
            version=str(data["version"]),
            kind=Kind(data["kind"]),
            interval=float(data["interval"]),
            timeout=float(data["timeout"]),
            url=str(data["url"]),
            host=str(data["host"]),
            port=int(data["port"]),
            method=str(data["method"]),
            body=str(data.get("body", "")),
            headers=tuple((str(name), str(value)) for name, value in data.get("headers", [])),
            auth_user=str(data.get("auth_user", "")),
            auth_password=str(data.get("auth_password", "")),
            expected_status=tuple((int(low), int(high)) for low, high in data["expected_status"]),
            keyword=str(data["keyword"]),
            keyword_absent=bool(data["keyword_absent"]),
            max_response_ms=None
            if data["max_response_ms"] is None
            else int(data["max_response_ms"]),
            follow_redirects=bool(data["follow_redirects"]),
            max_redirects=int(data["max_redirects"]),
            record_type=str(data.get("record_type", "A")),
            expected_values=tuple(str(value) for value in data.get("expected_values", [])),
            nameserver=str(data.get("nameserver", "")),
            allow_private=bool(data["allow_private"]),
            recheck_seconds=float(data["recheck_seconds"]),
            policy=Policy(int(policy["failures"]), int(policy["recoveries"])),
            health=Health(
                State(health["state"]),
                _parse_time(health["since"], "health.since"),
                int(health["fails"]),
                int(health["oks"]),
                _parse_time(health["failing_since"], "health.failing_since"),
                _parse_time(health["recovering_since"], "health.recovering_since"),
            ),
        )
    except WireError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"monitor {data.get('id')!r}: {error!r}") from None


OUTCOME_FIELDS = (
    "monitor_id",
    "ok",
    "status_code",
    "error_kind",
    "error",
    "dns_ms",
    "connect_ms",
    "tls_ms",
    "first_byte_ms",
    "total_ms",
    "cert_days",
    "lag_ms",
    "network_lost",
)


def outcome_to_json(outcome: Outcome) -> JSON:
    """A result for the server; the region is the token's, so it is not sent."""
    data: JSON = {name: getattr(outcome, name) for name in OUTCOME_FIELDS}
    data["checked_at"] = outcome.checked_at.isoformat()
    data["next_check_at"] = _time(outcome.next_check_at)
    return data


def rechecks_from_json(items: object) -> list[tuple[int, datetime]]:
    if not isinstance(items, list):
        raise WireError(f"rechecks: expected a list, got {items!r}")
    requests = []
    for item in items:
        try:
            requested = _parse_time(item["at"], "rechecks.at")
            monitor_id = int(item["monitor_id"])
        except (KeyError, TypeError, ValueError) as error:
            raise WireError(f"rechecks: {item!r}: {error!r}") from None
        if requested is not None:
            requests.append((monitor_id, requested))
    return requests
