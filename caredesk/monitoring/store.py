"""The database store: the embedded probe's door to monitors and results.

The engine is asyncio; the ORM is synchronous. Every call runs on one
dedicated thread, so the probe holds a single database connection and its
writes never race each other (SQLite allows one writer at a time anyway).

Changes are found by polling ``Monitor.updated_at``. Each poll looks back an
extra minute (a transaction that committed late carries an earlier
timestamp); rows seen again are ignored by the engine because their version
has not changed. Once a minute the whole list of enabled monitors is sent,
which also catches deletions and sites switched off. Each poll also lists
the re-checks other regions ask for (``Monitor.recheck_after``).

The module-level functions (:func:`monitor_changes`, :func:`save_results`,
:func:`record_heartbeat`) are what the remote probes' API calls too: a
result is handled the same whichever way it arrived.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from django.conf import settings
from django.db import connection, transaction

from caredesk.lib import clock

from . import incidents, monitor_warnings
from .engine import records
from .engine.errors import PROBE_NETWORK
from .engine.spec import (
    DEFAULT_STATUS,
    Kind,
    MonitorSpec,
    Outcome,
    parse_headers,
    parse_status_ranges,
)
from .engine.store import MonitorChanges, ProbeStatus, caredesk_version
from .models import PROBE_KINDS, CheckResult, Monitor, Probe
from .signals import probe_network_back, probe_network_lost
from .state import Health, Policy, State

logger = logging.getLogger(__name__)
T = TypeVar("T")
SMALL_MAX = 32767  # timings are stored as small integers (ms); timeouts stay below this

SPEC_FIELDS = (
    "id",
    "kind",
    "url",
    "host",
    "port",
    "method",
    "body",
    "request_headers",
    "auth_user",
    "auth_password",
    "expected_status",
    "keyword",
    "keyword_absent",
    "max_response_ms",
    "follow_redirects",
    "record_type",
    "expected_values",
    "nameserver",
    "interval_seconds",
    "timeout_seconds",
    "failures_to_down",
    "recoveries_to_up",
    "allow_private",
    "enabled",
    "site__is_active",
    "updated_at",
    *Monitor.HEALTH_FIELDS,
)


LOADED_FIELDS = (
    "site_id",
    "kind",
    "url",
    "host",
    "tls_min_days",
    "interval_seconds",
    "failures_to_down",
    "recoveries_to_up",
    "quorum",
    *Monitor.HEALTH_FIELDS,
)
# A re-check request is listed on every poll for this long; each probe serves it once.
RECHECK_WINDOW = timedelta(minutes=2)


def recheck_seconds() -> float:
    return float(getattr(settings, "CAREDESK_MONITOR_RECHECK_SECONDS", 10))


def spec_from_row(row: dict) -> MonitorSpec:
    """A monitor's settings as the engine wants them (``row`` has SPEC_FIELDS)."""
    try:
        expected = parse_status_ranges(row["expected_status"])
    except ValueError:
        expected = DEFAULT_STATUS  # refused by the form; an old row must not stop the probe
    try:
        headers = parse_headers(row["request_headers"])
    except ValueError:
        headers = ()  # likewise
    values = []
    for value in records.split_values(row["expected_values"]):
        try:
            values.append(records.normalise(row["record_type"], value))
        except ValueError:
            # Refused by the form too; kept as typed, so the check fails and says so.
            values.append(value)
    return MonitorSpec(
        id=row["id"],
        kind=Kind(row["kind"]),
        interval=float(row["interval_seconds"]),
        timeout=float(row["timeout_seconds"]),
        url=row["url"],
        host=row["host"],
        port=row["port"] or (443 if row["kind"] == Kind.TLS else 0),
        method=row["method"],
        body=row["body"],
        headers=headers,
        auth_user=row["auth_user"],
        auth_password=row["auth_password"],
        expected_status=expected,
        keyword=row["keyword"],
        keyword_absent=row["keyword_absent"],
        max_response_ms=row["max_response_ms"],
        follow_redirects=row["follow_redirects"],
        record_type=row["record_type"],
        expected_values=tuple(values),
        nameserver=row["nameserver"],
        allow_private=row["allow_private"],
        recheck_seconds=recheck_seconds(),
        policy=Policy(row["failures_to_down"], row["recoveries_to_up"]),
        health=Health(
            State(row["state"]),
            row["state_since"],
            row["fail_streak"],
            row["ok_streak"],
            row["failing_since"],
            row["recovering_since"],
            tuple(row["failing_regions"] or ()),
        ),
        version=row["updated_at"].isoformat(),
    )


def _small(value: int | None) -> int | None:
    return None if value is None else min(value, SMALL_MAX)


def result_row(outcome: Outcome) -> CheckResult:
    kind, error = outcome.error_kind, outcome.error
    if outcome.network_lost and not outcome.ok:
        # Kept as what happened, under a kind of its own: never read as the site failing.
        error = f"not counted, the probe had lost its network ({kind}: {error})"
        kind = PROBE_NETWORK
    return CheckResult(
        monitor_id=outcome.monitor_id,
        checked_at=outcome.checked_at,
        region=outcome.region[:32],
        ok=outcome.ok,
        status_code=outcome.status_code,
        error_kind=kind[:20].replace("\x00", ""),
        # A site's garbled answer may hold a NUL, which PostgreSQL cannot store.
        error=error[:500].replace("\x00", ""),
        dns_ms=_small(outcome.dns_ms),
        connect_ms=_small(outcome.connect_ms),
        tls_ms=_small(outcome.tls_ms),
        first_byte_ms=_small(outcome.first_byte_ms),
        total_ms=_small(outcome.total_ms),
        cert_days=None
        if outcome.cert_days is None
        else max(-SMALL_MAX, min(SMALL_MAX, outcome.cert_days)),
    )


@dataclass(frozen=True)
class Cursor:
    since: datetime  # this server's clock at the previous poll
    full_at: float  # monotonic time of the last full listing


class DbStore:
    def __init__(
        self,
        region: str,
        *,
        full_every: float = 60.0,
        look_back: timedelta = timedelta(seconds=60),
        name: str | None = None,
        adjust: Callable[[MonitorSpec], MonitorSpec] | None = None,
    ) -> None:
        self.region = region
        # Tests and benchmarks shorten intervals below what the model allows.
        self.adjust = adjust or (lambda spec: spec)
        self.name = name or f"{region}@{socket.gethostname()}"
        self.full_every = full_every
        self.look_back = look_back
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="probe-db")

    async def _run(self, function: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, partial(self._guarded, function, *args))

    @staticmethod
    def _guarded(function: Callable[..., T], *args: object) -> T:
        try:
            return function(*args)
        except Exception:
            # A broken connection must not stay broken: reconnect on the next call.
            connection.close()
            raise

    def close(self) -> None:
        self._thread.submit(lambda: connection.close()).result()  # that thread's connection
        self._thread.shutdown()

    # -- the Store protocol -----------------------------------------------------------------

    async def load_monitors(self, cursor: object) -> MonitorChanges:
        return await self._run(self.load_sync, cursor)

    async def save_results(self, outcomes: Sequence[Outcome]) -> None:
        await self._run(self.save_sync, list(outcomes))

    async def heartbeat(self, status: ProbeStatus) -> None:
        await self._run(self.heartbeat_sync, status)

    # -- the same, synchronous (tests call these directly) -----------------------------------

    def load_sync(self, cursor: object) -> MonitorChanges:
        previous = cursor if isinstance(cursor, Cursor) else None
        full = previous is None or time.monotonic() - previous.full_at >= self.full_every
        changes = monitor_changes(
            None if previous is None else previous.since - self.look_back,
            full=full,
            region=self.region,
            adjust=self.adjust,
        )
        full_at = time.monotonic() if previous is None or full else previous.full_at
        changes.cursor = Cursor(changes.cursor, full_at)
        return changes

    def save_sync(self, outcomes: list[Outcome]) -> None:
        save_results(outcomes)

    def heartbeat_sync(self, status: ProbeStatus) -> None:
        record_heartbeat(self.name, status, seen_at=status.at, version=caredesk_version())


def monitor_changes(
    since: datetime | None,
    *,
    full: bool,
    region: str,
    adjust: Callable[[MonitorSpec], MonitorSpec] = lambda spec: spec,
) -> MonitorChanges:
    """Monitors for a probe of ``region``: all of them, or those changed since ``since``.

    The cursor returned is this server's clock: hand it back (less a look-back
    for late commits) as the next ``since``.
    """
    now = clock.now()
    runnable = Monitor.objects.filter(kind__in=PROBE_KINDS)
    rechecks = pending_rechecks(region, now)
    if full or since is None:
        rows = runnable.filter(enabled=True, site__is_active=True).values(*SPEC_FIELDS)
        specs = [adjust(spec_from_row(row)) for row in rows]
        return MonitorChanges(specs, complete=True, cursor=now, rechecks=rechecks)
    rows = runnable.filter(updated_at__gte=since).values(*SPEC_FIELDS)
    specs, removed = [], []
    for row in rows:
        if row["enabled"] and row["site__is_active"]:
            specs.append(adjust(spec_from_row(row)))
        else:
            removed.append(row["id"])
    return MonitorChanges(specs, removed, cursor=now, rechecks=rechecks)


def pending_rechecks(region: str, now: datetime) -> list[tuple[int, datetime]]:
    """Re-checks other regions asked for lately: (monitor id, requested at)."""
    rows = (
        Monitor.objects.filter(recheck_after__gte=now - RECHECK_WINDOW, enabled=True)
        .exclude(recheck_region=region)
        .values_list("id", "recheck_after")
    )
    return list(rows)


def live_regions(now: datetime | None = None) -> set[str]:
    """Regions with a probe heard from lately: how many can take part in a quorum."""
    return set(Probe.objects.alive(now).values_list("region", flat=True).distinct())


@transaction.atomic
def save_results(outcomes: Sequence[Outcome], *, dedupe: bool = False) -> int:
    """Store a batch of results and act on what they say; returns how many were new.

    ``dedupe`` skips results already stored (same monitor, region and check
    time): a remote probe sends a batch again when it did not hear the answer.
    """
    ids = {outcome.monitor_id for outcome in outcomes}
    # Locked in id order: two probes saving at once queue instead of deadlocking.
    rows = Monitor.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    monitors = {m.pk: m for m in rows.only(*LOADED_FIELDS)}
    kept = sorted(
        (o for o in outcomes if o.monitor_id in monitors), key=lambda o: o.checked_at
    )  # results of monitors deleted meanwhile are dropped
    if dedupe:
        kept = _not_stored(kept)
    for outcome in kept:
        _read_old_certificate_failure(outcome)
    _insert_results(kept)
    # The regions of this batch count even before their first heartbeat arrives; a
    # probe that has lost its network does not count (its checks confirm nothing).
    regions = live_regions() | {o.region for o in kept if not o.network_lost}
    changed = incidents.record_checks(monitors, kept, live_regions=len(regions))
    monitor_warnings.note_certificates(monitors, kept)
    _save_check_times(list(monitors.values()))
    if changed:
        _save_states([monitors[pk] for pk in changed])
    return len(kept)


def _read_old_certificate_failure(outcome: Outcome) -> None:
    # Remote probes older than warnings failed a check whose certificate was close to
    # expiry ("cert_expiry"). That is a warning now, raised from cert_days: not an outage.
    if not outcome.ok and outcome.error_kind == "cert_expiry":
        outcome.ok, outcome.error_kind, outcome.error = True, "", ""


def _not_stored(outcomes: list[Outcome]) -> list[Outcome]:
    if not outcomes:
        return outcomes
    # Runs after the monitors are locked: a batch sent twice at once waits for the
    # first copy to commit, then finds its rows here.
    stored = set(
        CheckResult.objects.filter(
            monitor_id__in={o.monitor_id for o in outcomes},
            region__in={o.region[:32] for o in outcomes},
            checked_at__gte=outcomes[0].checked_at,
            checked_at__lte=outcomes[-1].checked_at,
        ).values_list("monitor_id", "region", "checked_at")
    )
    fresh = []
    for outcome in outcomes:
        key = (outcome.monitor_id, outcome.region[:32], outcome.checked_at)
        if key not in stored:
            stored.add(key)
            fresh.append(outcome)
    return fresh


@transaction.atomic
def record_heartbeat(
    name: str, status: ProbeStatus, *, seen_at: datetime, version: str = "", remote: bool = False
) -> Probe:
    """Keep one row per probe; ``seen_at`` is this server's clock (liveness is judged by it).

    A probe that says it lost its network (or has it back) changes
    ``network_lost_at`` by a conditional update, so the signal — and the one
    alert hanging on it — goes once however many heartbeats repeat it.
    """
    figures = {k: v for k, v in asdict(status).items() if not isinstance(v, datetime)}
    probe, _ = Probe.objects.update_or_create(
        name=name,
        defaults={
            "region": status.region,
            "version": version,
            "remote": remote,
            "started_at": status.started_at,
            "last_seen_at": seen_at,
            "stopped_at": seen_at if status.stopping else None,
            "status": figures,
        },
    )
    lost = status.network == "lost"
    if lost and probe.network_lost_at is None:
        if Probe.objects.filter(pk=probe.pk, network_lost_at=None).update(network_lost_at=seen_at):
            probe.network_lost_at = seen_at
            _signal_on_commit(probe_network_lost, probe.pk, detail=status.network_detail)
    elif not lost and probe.network_lost_at is not None:
        lost_at = probe.network_lost_at
        if Probe.objects.filter(pk=probe.pk, network_lost_at=lost_at).update(network_lost_at=None):
            probe.network_lost_at = None
            _signal_on_commit(probe_network_back, probe.pk, lost_at=lost_at)
    return probe


def _signal_on_commit(signal, probe_id: int, **kwargs) -> None:
    def send() -> None:
        probe = Probe.objects.filter(pk=probe_id).first()
        if probe is None:
            return
        for receiver, response in signal.send_robust(Probe, probe=probe, **kwargs):
            if isinstance(response, Exception):
                logger.error(
                    "probe %s: receiver %r failed",
                    probe.name,
                    receiver,
                    exc_info=(type(response), response, response.__traceback__),
                )

    transaction.on_commit(send)


RESULT_COLUMNS = (
    "monitor_id",
    "checked_at",
    "region",
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
)


def _insert_results(outcomes: Sequence[Outcome]) -> None:
    # The busiest write there is (every check): one prepared INSERT run for each row
    # costs a third of what bulk_create spends building its SQL, row by row and field
    # by field. Rows are made by result_row(), so they are what the model would store.
    if not outcomes:
        return
    ops = connection.ops
    table = ops.quote_name(CheckResult._meta.db_table)
    columns = ", ".join(ops.quote_name(name) for name in RESULT_COLUMNS)
    marks = ", ".join(["%s"] * len(RESULT_COLUMNS))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - model names
    rows = []
    for outcome in outcomes:
        row = result_row(outcome)
        values = [getattr(row, name) for name in RESULT_COLUMNS]
        values[1] = ops.adapt_datetimefield_value(values[1])
        rows.append(values)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _save_states(monitors: list[Monitor]) -> None:
    # Written like the check times below, for the monitors whose health changed. Most
    # batches change none, but after a start or an import every monitor's first check
    # does, and bulk_update's CASE expressions then cost ten times the rest of the batch.
    fields = [Monitor._meta.get_field(name) for name in Monitor.STATE_FIELDS]
    ops = connection.ops
    table = ops.quote_name(Monitor._meta.db_table)
    columns = ", ".join(f"{ops.quote_name(field.column)} = %s" for field in fields)
    sql = f"UPDATE {table} SET {columns} WHERE id = %s"  # noqa: S608 - model names
    rows = [
        [field.get_db_prep_save(getattr(m, field.attname), connection) for field in fields] + [m.pk]
        for m in monitors
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _save_check_times(monitors: list[Monitor]) -> None:
    # Every monitor of every batch, so it must be cheap: bulk_update builds a CASE
    # expression per row and field, which costs more than writing the rows;
    # executemany runs one prepared statement per row.
    ops = connection.ops
    table = ops.quote_name(Monitor._meta.db_table)
    last, following = (ops.quote_name(name) for name in Monitor.CHECK_FIELDS)
    rows = [
        (
            ops.adapt_datetimefield_value(m.last_checked_at),
            ops.adapt_datetimefield_value(m.next_check_at),
            m.pk,
        )
        for m in monitors
    ]
    sql = f"UPDATE {table} SET {last} = %s, {following} = %s WHERE id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)  # table and column names come from the model


def stale_monitors(grace: timedelta = timedelta(minutes=2)):
    """Enabled monitors whose next check is overdue by ``grace``: no probe is running them."""
    return Monitor.objects.filter(
        enabled=True,
        site__is_active=True,
        kind__in=PROBE_KINDS,
        next_check_at__lt=clock.now() - grace,
    )
