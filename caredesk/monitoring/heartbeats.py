"""Heartbeats: pushed, not pulled. A client's cron job or backup calls a secret address;
the server notices when the calls stop.

A heartbeat monitor expects a ping every ``interval_seconds``. Counting from
the last ping:

- at *interval* with no new ping, it is **late**: a warning (alerted once, no
  ticket, see :mod:`caredesk.monitoring.monitor_warnings`);
- at *interval + grace* it is **down**: a failed result (kind ``late``) turns
  it down at once (the grace period was its confirmation), which opens an
  incident like any other outage — alert, downtime ticket, uptime;
- the next ping brings it back up and clears the warning.

A new heartbeat waits for its first ping before anything can be late (the
job it watches may not be set up yet).

Nothing probes a heartbeat: :func:`step` (the ``check_heartbeats`` task, run
every minute by the scheduler) finds the heartbeats whose ``next_check_at``
has passed and judges each under its row lock, so two workers never judge
one twice. Pings arrive through the public view (``/heartbeat/<token>/``,
:mod:`caredesk.api.heartbeat`) or from caredesk itself (:func:`ping`, e.g. a
verified backup through :func:`ping_site`). Each ping is a good result and
each verdict of down a failed one, stored and acted on by the store like a
probe's (``store.save_results``), in region ``heartbeat``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from caredesk.clients.models import Site
from caredesk.lib import clock

from . import store
from .engine.spec import Outcome
from .models import HeartbeatPing, Kind, Monitor, WarningKind, span
from .monitor_warnings import clear_warning, open_warning
from .state import State

REGION = "heartbeat"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
BACKUP = "backup"


class NotAHeartbeat(ValueError):
    """Asked to ping, or to find by a key, a monitor that is not a heartbeat."""


def find(token: str) -> Monitor | None:
    """The heartbeat with this secret token, on a site still looked after; else None."""
    if not TOKEN_PATTERN.match(token):
        return None
    return (
        Monitor.objects.filter(ping_token=token, kind=Kind.HEARTBEAT, site__is_active=True)
        .only("pk", "interval_seconds", "grace_seconds", "kind", "enabled")
        .first()
    )


@transaction.atomic
def ping(
    monitor: Monitor,
    *,
    at: datetime | None = None,
    address: str | None = None,
    method: str = "",
    agent: str = "",
) -> HeartbeatPing:
    """Record one ping of ``monitor`` (a heartbeat): it is up, and not late, from ``at``.

    ``at`` defaults to now and cannot be later; give it when the event being
    reported happened earlier (a backup that finished before it was
    recorded). ``address``, ``method`` and ``agent`` say where it came from.
    """
    now = clock.now()
    at = min(at or now, now)
    locked = Monitor.objects.select_for_update().get(pk=monitor.pk)
    if locked.kind != Kind.HEARTBEAT:
        raise NotAHeartbeat(f"{locked} is not a heartbeat")
    row = HeartbeatPing.objects.create(
        monitor=locked, at=at, address=address, method=method[:8], agent=agent[:200]
    )
    latest = locked.last_ping_at is None or at >= locked.last_ping_at
    if latest:
        locked.last_ping_at = at
        Monitor.objects.filter(pk=locked.pk).update(
            last_ping_at=at, last_ping_source=row.source[:300]
        )
    expected = locked.last_ping_at + timedelta(seconds=locked.interval_seconds)
    store.save_results([Outcome(locked.pk, at, REGION, True, next_check_at=expected)])
    if latest:
        clear_warning(locked, WarningKind.HEARTBEAT_LATE, at)
        # The due column: when to look again (save_results moves it only for newer checks).
        Monitor.objects.filter(pk=locked.pk).update(next_check_at=expected)
    _trim(locked.pk)
    return row


def _trim(monitor_id: int) -> None:
    keep = HeartbeatPing.PINGS_KEPT
    old = list(
        HeartbeatPing.objects.filter(monitor_id=monitor_id)
        .order_by("-at", "-id")
        .values_list("pk", flat=True)[keep : keep + 100]
    )
    if old:
        HeartbeatPing.objects.filter(pk__in=old).delete()


def ensure_heartbeat(
    site: Site,
    key: str = BACKUP,
    *,
    name: str = "Backup",
    every: timedelta = timedelta(days=30),
    grace: timedelta = timedelta(days=2),
) -> Monitor:
    """The site's heartbeat called ``key``, created with these settings if it has none.

    An existing one is returned as it is (staff may have changed its period
    or grace since). Raises NotAHeartbeat if ``key`` names another kind of monitor.
    """
    monitor = Monitor.objects.filter(site=site, key=key).first()
    if monitor is None:
        candidate = Monitor(
            site=site,
            key=key,
            kind=Kind.HEARTBEAT,
            name=name,
            interval_seconds=int(every.total_seconds()),
            grace_seconds=int(grace.total_seconds()),
        )
        candidate.full_clean()
        try:
            with transaction.atomic():
                candidate.save()
            return candidate
        except IntegrityError:
            monitor = Monitor.objects.get(site=site, key=key)  # made meanwhile by another worker
    if monitor.kind != Kind.HEARTBEAT:
        raise NotAHeartbeat(f"{site}'s monitor {key!r} is a {monitor.get_kind_display()} monitor")
    return monitor


def ping_site(
    site: Site,
    key: str = BACKUP,
    *,
    at: datetime | None = None,
    agent: str = "caredesk",
    every: timedelta = timedelta(days=30),
    grace: timedelta = timedelta(days=2),
) -> HeartbeatPing:
    """Ping the site's heartbeat ``key`` (made on first use with ``every`` and ``grace``).

    What the maintenance app's verified backups call, through a layer above it::

        heartbeats.ping_site(site, "backup", at=backup.taken_at, agent="caredesk backup 42",
                             every=timedelta(days=settings.backup_days))
    """
    monitor = ensure_heartbeat(site, key, every=every, grace=grace)
    return ping(monitor, at=at, agent=agent)


# -- judging lateness: the loop ----------------------------------------------------------


def _due(now: datetime):
    return Monitor.objects.filter(
        kind=Kind.HEARTBEAT, enabled=True, site__is_active=True, next_check_at__lte=now
    ).order_by("next_check_at")


def step(now: datetime | None = None) -> bool:
    """Judge one heartbeat that is due; False when none is."""
    now = now or clock.now()
    monitor_id = _due(now).values_list("pk", flat=True).first()
    if monitor_id is None:
        return False
    judge(monitor_id, now)
    return True


def run(limit: int = 10_000) -> int:
    """Steps until no heartbeat is due (at most ``limit``); returns how many were judged."""
    done = 0
    while done < limit and step():
        done += 1
    return done


@transaction.atomic
def judge(monitor_id: int, now: datetime) -> str:
    """Decide whether a heartbeat is on time, late or down at ``now``; returns which.

    Runs under the monitor's row lock and re-reads it first, so a worker that
    picked the same heartbeat a moment later finds it judged already.
    """
    monitor = Monitor.objects.select_for_update().filter(pk=monitor_id).first()
    if monitor is None or monitor.kind != Kind.HEARTBEAT or not monitor.enabled:
        return "skipped"
    if monitor.next_check_at is None or monitor.next_check_at > now:
        return "not due"  # judged meanwhile
    if monitor.last_ping_at is None:
        _plan(monitor, None)
        return "waiting"
    expected = monitor.last_ping_at + timedelta(seconds=monitor.interval_seconds)
    deadline = expected + timedelta(seconds=monitor.grace_seconds)
    last = f"no ping since {monitor.last_ping_at:%Y-%m-%d %H:%M} UTC"
    if now >= deadline:
        if monitor.state != State.DOWN:
            detail = (
                f"{last}; expected every {span(monitor.interval_seconds)} "
                f"with {span(monitor.grace_seconds)} of grace"
            )
            late = Outcome(monitor.pk, now, REGION, False, error_kind="late", error=detail)
            store.save_results([late])
        _plan(monitor, None)  # nothing more to judge until it pings
        return "down"
    if now >= expected:
        detail = f"heartbeat late: {last}; down at {deadline:%Y-%m-%d %H:%M} UTC without one"
        open_warning(monitor, WarningKind.HEARTBEAT_LATE, detail, now)
        _plan(monitor, deadline)
        return "late"
    clear_warning(monitor, WarningKind.HEARTBEAT_LATE, now)  # its period was made longer
    _plan(monitor, expected)
    return "on time"


def _plan(monitor: Monitor, when: datetime | None) -> None:
    Monitor.objects.filter(pk=monitor.pk).update(next_check_at=when)


def settings_changed(monitor: Monitor) -> None:
    """A heartbeat's period or grace may have changed: judge it again at once."""
    if monitor.kind == Kind.HEARTBEAT:
        # The saved copy may be a form's, loaded before the last ping: ask the row.
        Monitor.objects.filter(pk=monitor.pk, last_ping_at__isnull=False).update(
            next_check_at=clock.now()
        )
