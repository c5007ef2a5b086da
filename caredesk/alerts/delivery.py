"""Sending what the receivers recorded: grouped per channel, retried with backoff.

A channel is due when one of its waiting deliveries is (each waits the
grouping window, CAREDESK_ALERT_GROUP_SECONDS, from when it was recorded).
Then *every* delivery waiting for that channel goes out in one message: fifty
sites that went down together are one email, one Slack post.

Deliveries are claimed with a conditional update under a fresh token, so two
workers never send the same alert; a claim left by a worker that died is
released after STALE_CLAIM. A temporary failure is retried after BACKOFF
(then given up); a permanent one fails at once. Either way the error is kept
on the delivery and on the channel, where the admin shows it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction

from caredesk.clients.models import Contact
from caredesk.lib import clock
from caredesk.monitoring.models import MonitorWarning

from . import messages, timeline
from .channels import ChannelError, PermanentError, TemporaryError, channel_for
from .models import (
    AlertChannel,
    AlertDelivery,
    AlertEvent,
    Audience,
    ChannelKind,
    DeliveryState,
)

logger = logging.getLogger(__name__)
BACKOFF = [timedelta(seconds=s) for s in (30, 60, 120, 300, 600, 1800, 3600, 7200)]
STALE_CLAIM = timedelta(minutes=5)
# While a monitor this one depends on has failed but is not yet confirmed down,
# its child's alert waits (the parent's confirmation is seconds away) — this long at most.
DEPENDENCY_WAIT = timedelta(seconds=60)
DEPENDENCY_RECHECK = timedelta(seconds=5)


def step(now: datetime | None = None) -> bool:
    """Send the waiting alerts of one due channel; False when no channel is due."""
    now = now or clock.now()
    AlertDelivery.objects.filter(
        state=DeliveryState.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(state=DeliveryState.PENDING, claim="")
    channel_id = (
        AlertDelivery.objects.filter(state=DeliveryState.PENDING, due_at__lte=now)
        .order_by("due_at")
        .values_list("channel_id", flat=True)
        .first()
    )
    if channel_id is None:
        return False
    deliver_channel(channel_id, now)
    return True


def run(limit: int = 1000) -> int:
    """Steps until nothing is due (at most ``limit``); returns how many were taken."""
    done = 0
    while done < limit and step():
        done += 1
    return done


def _claim(channel_id: int, now: datetime) -> list[AlertDelivery]:
    token = uuid.uuid4().hex
    AlertDelivery.objects.filter(channel_id=channel_id, state=DeliveryState.PENDING).update(
        state=DeliveryState.SENDING, claim=token, claimed_at=now
    )
    return list(
        AlertDelivery.objects.filter(claim=token, state=DeliveryState.SENDING).select_related(
            "channel",
            "incident__monitor__site__organisation",
            "incident__monitor__depends_on",
            "warning__monitor__site__organisation",
        )
    )


def deliver_channel(channel_id: int, now: datetime) -> int:
    """Send everything waiting for one channel as one message; returns the alerts sent."""
    rows = _claim(channel_id, now)
    if not rows:
        return 0  # another worker took them
    channel = rows[0].channel
    if not channel.enabled:
        _fail(channel, rows, "the channel was switched off before this was sent", now)
        return 0
    rows = _without_suppressed(rows, now)
    if not rows:
        return 0
    try:
        channel_for(channel.kind, _target(channel)).send(messages.build(channel, rows))
    except PermanentError as error:
        _fail(channel, rows, str(error), now)
        return 0
    except TemporaryError as error:
        _retry(channel, rows, str(error), now)
        return 0
    except Exception as error:
        # A bug in a channel (or in Apprise) must not lose the alert: retry it.
        logger.exception("alert channel %s raised", channel.pk)
        _retry(channel, rows, f"{type(error).__name__}: {error}", now)
        return 0
    _sent(channel, rows, now)
    return len(rows)


def _target(channel: AlertChannel) -> str:
    if channel.target or channel.audience != Audience.CLIENT or channel.kind != ChannelKind.EMAIL:
        return channel.target
    # A client's email channel without addresses writes to the client's managers.
    managers = Contact.objects.filter(
        organisation_id=channel.organisation_id, is_manager=True, is_active=True
    ).values_list("email", flat=True)
    return ", ".join(sorted(managers))


def _without_suppressed(rows: list[AlertDelivery], now: datetime) -> list[AlertDelivery]:
    """Drop child alerts whose parent went down meanwhile; hold those whose parent is failing.

    Warnings that cleared while they waited are dropped too.

    The receiver already suppressed children of a parent that was down; this
    catches a child confirmed a few seconds before its parent.
    """
    keep, suppressed, held = [], [], []
    over = [row for row in rows if row.warning_id is not None and row.warning.cleared_at]
    if over:
        # A heartbeat that pinged a few seconds late, within the grouping window: no news.
        AlertDelivery.objects.filter(pk__in=[r.pk for r in over]).update(
            state=DeliveryState.SUPPRESSED, claim="", last_error="cleared before it was sent"
        )
        rows = [row for row in rows if row not in over]
    for row in rows:
        if row.event != AlertEvent.DOWN or row.incident.monitor.depends_on_id is None:
            keep.append(row)
            continue
        monitor = row.incident.monitor
        monitor.depends_on.refresh_from_db(fields=["state", "fail_streak", "depends_on"])
        parent = monitor.down_ancestor()
        if parent is not None:
            suppressed.append((row, parent))
        elif monitor.ancestor_failing() and now - row.created_at < DEPENDENCY_WAIT:
            held.append(row)
        else:
            keep.append(row)
    if held:
        AlertDelivery.objects.filter(pk__in=[r.pk for r in held]).update(
            state=DeliveryState.PENDING, claim="", due_at=now + DEPENDENCY_RECHECK
        )
    if suppressed:
        AlertDelivery.objects.filter(pk__in=[r.pk for r, _ in suppressed]).update(
            state=DeliveryState.SUPPRESSED, claim=""
        )
        timeline.record(
            (row.incident_id, timeline.entry("suppressed", f"depends on {parent}, which is down"))
            for row, parent in suppressed
        )
    return keep


def _label(channel: AlertChannel, rows: Iterable[AlertDelivery]) -> dict[int, str]:
    return {row.incident_id: f"{row.event}: {channel.name} ({channel.kind})" for row in rows}


def _about_incidents(rows: Iterable[AlertDelivery]) -> list[AlertDelivery]:
    # Warnings have no timeline: their deliveries (and the admin) say what was sent.
    return [row for row in rows if row.incident_id is not None]


@transaction.atomic
def _sent(channel: AlertChannel, rows: list[AlertDelivery], now: datetime) -> None:
    batch = rows[0].claim
    sent_at = clock.now()
    for row in rows:
        row.state, row.sent_at, row.attempts, row.batch = (
            DeliveryState.SENT,
            sent_at,
            row.attempts + 1,
            batch,
        )
        row.last_error = ""
    AlertDelivery.objects.bulk_update(
        rows, ["state", "sent_at", "attempts", "batch", "last_error"], batch_size=500
    )
    AlertChannel.objects.filter(pk=channel.pk).update(last_sent_at=sent_at)
    warnings = [row.warning_id for row in rows if row.warning_id is not None]
    if warnings:
        MonitorWarning.objects.filter(pk__in=warnings, alerted_at=None).update(alerted_at=sent_at)
    timeline.record(
        (row.incident_id, timeline.entry("alert_sent", f"{row.event}: {channel.name}", sent_at))
        for row in _about_incidents(rows)
    )


@transaction.atomic
def _retry(channel: AlertChannel, rows: list[AlertDelivery], error: str, now: datetime) -> None:
    failed = []
    for row in rows:
        row.attempts += 1
        row.last_error = error[:1000]
        if row.attempts > len(BACKOFF):
            row.state = DeliveryState.FAILED
            failed.append(row)
        else:
            row.state = DeliveryState.PENDING
            row.due_at = now + BACKOFF[row.attempts - 1]
    AlertDelivery.objects.bulk_update(
        rows, ["attempts", "last_error", "state", "due_at"], batch_size=500
    )
    _channel_error(channel, error, now)
    if failed:
        _record_failures(channel, failed, error)
    logger.warning("alert channel %s failed (will retry): %s", channel.name, error)


@transaction.atomic
def _fail(channel: AlertChannel, rows: list[AlertDelivery], error: str, now: datetime) -> None:
    for row in rows:
        row.attempts += 1
        row.state = DeliveryState.FAILED
        row.last_error = error[:1000]
    AlertDelivery.objects.bulk_update(rows, ["attempts", "state", "last_error"], batch_size=500)
    _channel_error(channel, error, now)
    _record_failures(channel, rows, error)
    logger.error("alert channel %s failed for good: %s", channel.name, error)


def _channel_error(channel: AlertChannel, error: str, now: datetime) -> None:
    AlertChannel.objects.filter(pk=channel.pk).update(last_error=error[:1000], last_error_at=now)


def _record_failures(channel: AlertChannel, rows: list[AlertDelivery], error: str) -> None:
    timeline.record(
        (row.incident_id, timeline.entry("alert_failed", f"{row.event}: {channel.name}: {error}"))
        for row in _about_incidents(rows)
    )


__all__ = ["BACKOFF", "ChannelError", "deliver_channel", "run", "step"]
