"""From check results to monitor health, incidents and outages (inside the store's transaction).

The confirmation rules live in :mod:`caredesk.monitoring.state`; this module
applies the events they produce to the database:

- SUSPECT (first failure) remembers the cause; nothing is opened yet;
- DOWN opens an incident dated from the first failed check, or reopens the
  last one if it resolved within the quiet period, and starts an outage;
- RECOVERING and RELAPSE go on the incident's timeline;
- UP resolves the incident and ends the outage at the first good check.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal

from caredesk.lib import clock

from .engine.spec import Outcome
from .models import Incident, Monitor, Outage
from .signals import incident_confirmed, incident_resolved
from .state import Change, Event, State, advance

logger = logging.getLogger(__name__)
TIMELINE_LIMIT = 200  # entries kept per incident; a days-long flap must not grow it forever


def quiet_period() -> timedelta:
    return timedelta(seconds=getattr(settings, "CAREDESK_MONITOR_QUIET_SECONDS", 600))


def describe(outcome: Outcome) -> str:
    """A result's failure as one line for people (``timeout: no complete answer…``)."""
    return f"{outcome.error_kind}: {outcome.error}"[:600] if outcome.error_kind else ""


def _snapshot(monitor: Monitor) -> tuple:
    return tuple(getattr(monitor, name) for name in Monitor.STATE_FIELDS)


def record_checks(
    monitors: dict[int, Monitor], outcomes: Iterable[Outcome], *, live_regions: int = 1
) -> set[int]:
    """Advance each monitor's health through ``outcomes`` (oldest first) and act on the events.

    ``live_regions`` is how many regions have a probe running: the quorum of
    regions a monitor needs is never more than that. The monitors are changed
    in memory; the caller saves them. Returns the ids of those whose
    STATE_FIELDS changed (most batches: none, only the check times move).
    """
    quiet = quiet_period()
    before = {pk: _snapshot(monitor) for pk, monitor in monitors.items()}
    policies = {pk: monitor.quorum_policy(live_regions) for pk, monitor in monitors.items()}
    for outcome in outcomes:
        monitor = monitors[outcome.monitor_id]
        if outcome.network_lost:
            _note_check_time(monitor, outcome)
            continue  # history only: the probe had lost its own network
        if _late(monitor, outcome):
            continue  # history only: the monitor's health has moved on since
        health, change = advance(
            monitor.health,
            outcome.ok,
            outcome.checked_at,
            policies[monitor.pk],
            outcome.region,
        )
        monitor.health = health
        _note_check_time(monitor, outcome)
        _ask_other_regions(monitor, outcome)
        if change is not None:
            _on_change(monitor, change, outcome, quiet)
        elif health.state is State.DOWN and not outcome.ok:
            _note_new_error(monitor, outcome)
    return {pk for pk, monitor in monitors.items() if _snapshot(monitor) != before[pk]}


def _note_check_time(monitor: Monitor, outcome: Outcome) -> None:
    if monitor.last_checked_at is None or outcome.checked_at > monitor.last_checked_at:
        monitor.last_checked_at = outcome.checked_at
        monitor.next_check_at = outcome.next_check_at or monitor.next_check_at


def _late(monitor: Monitor, outcome: Outcome) -> bool:
    """A result older than the monitor's latest by more than an interval.

    Results come in from every region in batches, a second or two apart, so
    a little disorder is normal and counts. A probe that was cut off from the
    server sends what it buffered: minutes-old checks that must not reopen
    what newer checks from other regions settled since.
    """
    latest = monitor.last_checked_at
    if latest is None:
        return False
    return outcome.checked_at < latest - timedelta(seconds=monitor.interval_seconds)


def _ask_other_regions(monitor: Monitor, outcome: Outcome) -> None:
    # While a change waits for confirmation, the other regions' probes check at
    # their next poll instead of their next slot; once settled, nobody needs to.
    if monitor.health.pending:
        monitor.recheck_after = clock.now()
        monitor.recheck_region = outcome.region[:32]
    elif monitor.recheck_after is not None:
        monitor.recheck_after = None
        monitor.recheck_region = ""


def _on_change(monitor: Monitor, change: Change, outcome: Outcome, quiet: timedelta) -> None:
    event = change.event
    if event is Event.SUSPECT:
        monitor.failure_cause = describe(outcome)
    elif event in (Event.CLEARED, Event.FIRST_UP):
        monitor.failure_cause = ""
    elif event is Event.DOWN:
        monitor.failure_cause = monitor.failure_cause or describe(outcome)
        _confirm(monitor, change, outcome, quiet)
    elif event is Event.RECOVERING:
        _note(monitor, change.at, "recovering", outcome, "first good check")
    elif event is Event.RELAPSE:
        _note(monitor, change.at, "relapse", outcome, describe(outcome))
    elif event is Event.UP:
        _resolve(monitor, change, outcome)


def _entry(at: datetime, event: str, outcome: Outcome, detail: str) -> dict:
    return {"at": at.isoformat(), "event": event, "region": outcome.region, "detail": detail}


def _append(incident: Incident, *entries: dict) -> None:
    incident.timeline = [*incident.timeline, *entries][-TIMELINE_LIMIT:]


def _confirm(monitor: Monitor, change: Change, outcome: Outcome, quiet: timedelta) -> None:
    incident = _open_incident(monitor)
    reopened = False
    if incident is None:
        incident = (
            Incident.objects.filter(monitor=monitor, resolved_at__gte=change.at - quiet)
            .order_by("-resolved_at")
            .first()
        )
        reopened = incident is not None
    confirmed = _entry(change.at, "confirmed", outcome, describe(outcome))
    confirmed["regions"] = list(monitor.failing_regions)  # the regions that agreed
    if incident is None:
        incident = Incident(
            monitor=monitor,
            started_at=change.since,
            confirmed_at=change.at,
            cause=monitor.failure_cause,
        )
        _append(incident, _entry(change.since, "first_failure", outcome, monitor.failure_cause))
    elif reopened:
        # Flapping: the same incident (and whatever alerts and tickets hang on it) again.
        incident.resolved_at = None
        incident.recovered_at = None
        incident.reopened += 1
        _append(incident, _entry(change.since, "reopened", outcome, monitor.failure_cause))
    _append(incident, confirmed)
    incident.save()
    Outage.objects.create(incident=incident, monitor=monitor, started_at=change.since)
    _send_on_commit(incident_confirmed, incident.pk, reopened=reopened)


def _resolve(monitor: Monitor, change: Change, outcome: Outcome) -> None:
    incident = _open_incident(monitor)
    if incident is None:
        return  # down was confirmed before this monitor's incidents were kept
    incident.recovered_at = change.since
    incident.resolved_at = change.at
    _append(incident, _entry(change.at, "resolved", outcome, f"up since {change.since:%H:%M:%S}"))
    incident.save(update_fields=["recovered_at", "resolved_at", "timeline"])
    Outage.objects.filter(incident=incident, ended_at=None).update(ended_at=change.since)
    _send_on_commit(incident_resolved, incident.pk)


def _note(monitor: Monitor, at: datetime, event: str, outcome: Outcome, detail: str) -> None:
    incident = _open_incident(monitor)
    if incident is not None:
        _append(incident, _entry(at, event, outcome, detail))
        incident.save(update_fields=["timeline"])


def _note_new_error(monitor: Monitor, outcome: Outcome) -> None:
    # While down, only a change of error is news (timeout -> HTTP 502); the checks
    # themselves are in the results table.
    cause = describe(outcome)
    if outcome.error_kind and not monitor.failure_cause.startswith(f"{outcome.error_kind}:"):
        monitor.failure_cause = cause
        _note(monitor, outcome.checked_at, "error_changed", outcome, cause)


def _open_incident(monitor: Monitor) -> Incident | None:
    return Incident.objects.filter(monitor=monitor, resolved_at=None).first()


def _send_on_commit(signal: Signal, incident_id: int, **kwargs) -> None:
    transaction.on_commit(partial(_send, signal, incident_id, kwargs))


def _send(signal: Signal, incident_id: int, kwargs: dict) -> None:
    incident = Incident.objects.select_related("monitor__site").filter(pk=incident_id).first()
    if incident is None:
        return
    for receiver, response in signal.send_robust(Incident, incident=incident, **kwargs):
        if isinstance(response, Exception):
            logger.error(
                "incident %s: receiver %r failed",
                incident_id,
                receiver,
                exc_info=(type(response), response, response.__traceback__),
            )
