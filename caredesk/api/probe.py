"""The remote probes' endpoints: monitors out, results and heartbeats in.

Only a probe token opens them (``Authorization: Bearer cdp….``, made in the
admin under Uptime monitoring → Probe tokens); a person's API token gets 401
here, as a probe token does on every other endpoint. A token speaks for its
one region: results and heartbeats for another region are refused, so one
stolen token cannot make up a quorum by itself.
"""

from datetime import datetime, timedelta
from typing import Annotated, Literal

from django.http import HttpRequest, JsonResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer
from pydantic import AwareDatetime, Field, StringConstraints

from caredesk.lib import clock
from caredesk.monitoring import store
from caredesk.monitoring.engine import Outcome, ProbeStatus
from caredesk.monitoring.engine.wire import spec_to_json
from caredesk.monitoring.models import REGION_PATTERN, ProbeToken

from .schemas import ErrorOut

MAX_BATCH = 1000  # results per POST; the probe sends up to 500
LOOK_BACK = timedelta(seconds=60)  # a change committed late carries an earlier time
FUTURE = timedelta(minutes=5)  # how far ahead of this server a probe's clock may run
ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class ProbeTokenAuth(HttpBearer):
    """``Authorization: Bearer <probe token>``; ``request.auth`` is the ProbeToken."""

    def authenticate(self, request: HttpRequest, token: str):
        probe_token = ProbeToken.objects.authenticate(token)
        if probe_token is None:
            return None
        now = clock.now()
        # Write at most once a minute per token: polls every few seconds must stay reads.
        if probe_token.last_used_at is None or now - probe_token.last_used_at > LOOK_BACK:
            ProbeToken.objects.filter(pk=probe_token.pk).update(last_used_at=now)
        return probe_token


router = Router(tags=["probe"], auth=ProbeTokenAuth())

Region = Annotated[str, StringConstraints(pattern=REGION_PATTERN)]
Millis = Annotated[int, Field(ge=0, le=3_600_000)]


def _own_region(request, region: str) -> None:
    if region != request.auth.region:
        raise HttpError(403, f"This token is for region {request.auth.region!r}, not {region!r}")


# -- monitors ----------------------------------------------------------------------------------


class PolicyOut(Schema):
    failures: int
    recoveries: int


class HealthOut(Schema):
    state: str
    since: datetime | None
    fails: int
    oks: int
    failing_since: datetime | None
    recovering_since: datetime | None


class MonitorOut(Schema):
    id: int
    version: str = Field(description="Changes whenever the monitor's settings do")
    kind: str = Field(description="http, tls, tcp or dns")
    interval: float
    timeout: float
    url: str
    host: str
    port: int
    method: str = Field(description="GET, HEAD or POST")
    body: str = Field("", description="POST: the request body")
    headers: list[tuple[str, str]] = Field(
        [], description="Request headers, sent to the monitor's own origin only"
    )
    auth_user: str = Field("", description="HTTP basic auth, to the monitor's own origin only")
    auth_password: str = ""
    expected_status: list[tuple[int, int]] = Field(description="Ranges of good status codes")
    keyword: str
    keyword_absent: bool
    max_response_ms: int | None
    follow_redirects: bool
    max_redirects: int
    tls_min_days: int = Field(
        description="Always 0: the server raises certificate warnings from cert_days (probes "
        "before 0.2 failed a check below this)"
    )
    record_type: str = Field("A", description="dns: A, AAAA, CNAME, MX, TXT or NS")
    expected_values: list[str] = Field([], description="dns: each must be in the answer")
    nameserver: str = Field("", description="dns: address[:port] to ask; empty: the system's")
    allow_private: bool
    recheck_seconds: float
    policy: PolicyOut
    health: HealthOut = Field(description="Where the checks so far left it, all regions")


class RecheckOut(Schema):
    monitor_id: int
    at: datetime = Field(description="When it was asked for; serve each request once")


class MonitorsOut(Schema):
    region: str = Field(description="The token's region; the probe must run as it")
    cursor: datetime = Field(description="Send it back as `since` for the changes after it")
    complete: bool = Field(description="Every monitor to run is listed: drop any other")
    monitors: list[MonitorOut]
    removed: list[int] = Field(description="Stop checking these")
    rechecks: list[RecheckOut] = Field(description="Another region asks for a check now")


@router.get("probe/monitors", response={200: MonitorsOut, **ERRORS})
def probe_monitors(request, since: AwareDatetime | None = None, full: bool = False):
    """Every enabled monitor (``full=1`` or no ``since``), or those changed since ``since``."""
    changes = store.monitor_changes(
        None if full or since is None else since - LOOK_BACK,
        full=full or since is None,
        region=request.auth.region,
    )
    # Built here, not validated against MonitorsOut (which documents it): checking
    # tens of thousands of our own monitors field by field costs more than the query.
    return JsonResponse(
        {
            "region": request.auth.region,
            "cursor": changes.cursor.isoformat(),
            "complete": changes.complete,
            "monitors": [spec_to_json(spec) for spec in changes.monitors],
            "removed": changes.removed,
            "rechecks": [{"monitor_id": mid, "at": at.isoformat()} for mid, at in changes.rechecks],
        }
    )


# -- results -----------------------------------------------------------------------------------


class ResultIn(Schema):
    monitor_id: int = Field(ge=1)
    checked_at: AwareDatetime
    ok: bool
    status_code: int | None = Field(None, ge=100, le=599)
    error_kind: Annotated[str, StringConstraints(max_length=20)] = ""
    error: Annotated[str, StringConstraints(max_length=2000)] = ""
    dns_ms: Millis | None = None
    connect_ms: Millis | None = None
    tls_ms: Millis | None = None
    first_byte_ms: Millis | None = None
    total_ms: Millis | None = None
    cert_days: int | None = Field(None, ge=-100_000, le=100_000)
    lag_ms: Millis = 0
    next_check_at: AwareDatetime | None = None
    network_lost: bool = Field(
        False, description="The probe had lost its own network: stored, never counted"
    )


class ResultsIn(Schema):
    region: Region
    results: list[ResultIn] = Field(max_length=MAX_BATCH)


class ResultsOut(Schema):
    received: int
    saved: int = Field(
        description="New results; the others were stored before (a batch sent again) "
        "or are of monitors deleted meanwhile"
    )


@router.post("probe/results", response={200: ResultsOut, **ERRORS})
def probe_results(request, payload: ResultsIn):
    """A batch of results. Sending the same batch again stores nothing twice."""
    _own_region(request, payload.region)
    latest = clock.now() + FUTURE
    outcomes = []
    for item in payload.results:
        if item.checked_at > latest:
            raise HttpError(
                422,
                f"checked_at {item.checked_at.isoformat()} is in the future: "
                "is the probe's clock right?",
            )
        outcomes.append(Outcome(region=payload.region, **item.dict()))
    saved = store.save_results(outcomes, dedupe=True)
    return {"received": len(outcomes), "saved": saved}


# -- heartbeat ---------------------------------------------------------------------------------

Count = Annotated[int, Field(ge=0, le=2**31 - 1)]


class HeartbeatIn(Schema):
    name: Annotated[str, StringConstraints(min_length=3, max_length=200, pattern=r"^\S+$")] = Field(
        description="`region@host`: one row per probe process"
    )
    region: Region
    version: Annotated[str, StringConstraints(max_length=40)] = ""
    started_at: AwareDatetime
    at: AwareDatetime
    monitors: Count
    checks: Count
    failures: Count
    missed: Count
    lag_p50_ms: Count
    lag_p99_ms: Count
    in_flight: Count
    waiting_results: Count
    rechecks: Count = 0
    stopping: bool = False
    network: Literal["ok", "lost"] = Field(
        "ok", description="`lost`: (nearly) every check fails with network errors"
    )
    network_detail: Annotated[str, StringConstraints(max_length=300)] = ""


class HeartbeatOut(Schema):
    server_time: datetime = Field(description="This server's clock, to compare with the probe's")
    live_regions: list[str] = Field(description="Regions whose probes count toward a quorum")


@router.post("probe/heartbeat", response={200: HeartbeatOut, **ERRORS})
def probe_heartbeat(request, payload: HeartbeatIn):
    """The probe is alive (or, with ``stopping``, leaving): it counts toward quorums."""
    _own_region(request, payload.region)
    if not payload.name.startswith(f"{payload.region}@"):
        raise HttpError(422, f"name must start with {payload.region}@ (region@host)")
    fields = payload.dict()
    name, version = fields.pop("name"), fields.pop("version")
    now = clock.now()
    store.record_heartbeat(name, ProbeStatus(**fields), seen_at=now, version=version, remote=True)
    return {"server_time": now, "live_regions": sorted(store.live_regions(now))}
