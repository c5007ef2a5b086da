"""When a probe loses its own network: one alert to the agency, not one per site.

The probe's store turns a heartbeat that says "network lost" into the
``probe_network_lost`` signal once per loss; the receiver calls
:func:`do_record_probe_network`, which writes a :class:`ProbeAlert` per
agency channel. The delivery job (:func:`run`, beside the incident alerts')
sends each through the channel's own sender, with the same retries and the
same channel health as incident alerts.

A loss that ends within NETWORK_ALERT_DELAY (a router restarting) tells
nobody: its waiting alerts are dropped, and no "back" follows.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from caredesk.lib import clock
from caredesk.monitoring.models import Probe

from .channels import Notice, PermanentError, TemporaryError, channel_for
from .delivery import BACKOFF, STALE_CLAIM
from .models import AlertChannel, Audience, DeliveryState, ProbeAlert, ProbeEvent

logger = logging.getLogger(__name__)
NETWORK_ALERT_DELAY = timedelta(seconds=30)


def agency_channels():
    """Every enabled agency channel: a probe's network concerns every client."""
    return AlertChannel.objects.filter(enabled=True, audience=Audience.AGENCY).order_by("pk")


@transaction.atomic
def do_record_probe_network(
    probe_id: int, *, lost: bool, detail: str = "", lost_at: datetime | None = None
) -> list[int]:
    """Queue the alert that a probe lost its network (or has it back); returns delivery ids."""
    probe = Probe.objects.get(pk=probe_id)
    now = clock.now()
    if lost:
        channels = list(agency_channels())
        event, due = ProbeEvent.NETWORK_LOST, now + NETWORK_ALERT_DELAY
    else:
        # Back within the delay: nobody was told, so nobody needs telling.
        waiting = ProbeAlert.objects.filter(
            probe=probe, event=ProbeEvent.NETWORK_LOST, state=DeliveryState.PENDING
        )
        if lost_at is not None:
            waiting = waiting.filter(at__gte=lost_at)
        waiting.update(state=DeliveryState.SUPPRESSED, last_error="back before it was sent")
        told = ProbeAlert.objects.filter(probe=probe, event=ProbeEvent.NETWORK_LOST).exclude(
            state=DeliveryState.SUPPRESSED
        )
        if lost_at is not None:
            told = told.filter(at__gte=lost_at)
        channels = list(
            AlertChannel.objects.filter(
                pk__in=told.values("channel_id"), enabled=True, send_recoveries=True
            ).order_by("pk")
        )
        event, due = ProbeEvent.NETWORK_BACK, now
    rows = ProbeAlert.objects.bulk_create(
        [
            ProbeAlert(channel=c, probe=probe, event=event, at=now, detail=detail[:400], due_at=due)
            for c in channels
        ]
    )
    if rows:
        from .tasks import deliver_alerts

        deliver_alerts.using(run_after=due).enqueue()
        logger.warning("probe %s: %s alert queued for %d channel(s)", probe, event, len(rows))
    return [row.pk for row in rows]


# -- sending ----------------------------------------------------------------------------------


def step(now: datetime | None = None) -> bool:
    """Send one due probe alert; False when none is due."""
    now = now or clock.now()
    ProbeAlert.objects.filter(state=DeliveryState.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        state=DeliveryState.PENDING, claim=""
    )
    due = (
        ProbeAlert.objects.filter(state=DeliveryState.PENDING, due_at__lte=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if due is None:
        return False
    token = uuid.uuid4().hex
    claimed = ProbeAlert.objects.filter(pk=due, state=DeliveryState.PENDING).update(
        state=DeliveryState.SENDING, claim=token, claimed_at=now
    )
    if claimed:
        send(ProbeAlert.objects.select_related("channel", "probe").get(pk=due), now)
    return True


def run(limit: int = 100) -> int:
    """Steps until nothing is due (at most ``limit``); returns how many were taken."""
    done = 0
    while done < limit and step():
        done += 1
    return done


def build(alert: ProbeAlert) -> Notice:
    """The message, from the probe_alert_* email templates."""
    zone = timezone.get_default_timezone()
    lost = alert.event == ProbeEvent.NETWORK_LOST
    context = {
        "agency_name": settings.CAREDESK_AGENCY_NAME,
        "probe": alert.probe,
        "lost": lost,
        "at": timezone.localtime(alert.at, zone).strftime("%a %d %b, %H:%M:%S"),
        "detail": alert.detail,
        "zone": str(zone),
    }
    subject = " ".join(render_to_string("emails/probe_alert_subject.txt", context).split())
    return Notice(
        subject=subject[:200],
        text=render_to_string("emails/probe_alert.txt", context),
        html=render_to_string("emails/probe_alert.html", context),
        down=1 if lost else 0,
        up=0 if lost else 1,
    )


def send(alert: ProbeAlert, now: datetime) -> None:
    channel = alert.channel
    if not channel.enabled:
        _finish(alert, DeliveryState.FAILED, "the channel was switched off before this was sent")
        return
    try:
        channel_for(channel.kind, channel.target).send(build(alert))  # agency channels only
    except PermanentError as error:
        _failed(alert, str(error), now, permanent=True)
    except TemporaryError as error:
        _failed(alert, str(error), now, permanent=False)
    except Exception as error:
        logger.exception("alert channel %s raised", channel.pk)
        _failed(alert, f"{type(error).__name__}: {error}", now, permanent=False)
    else:
        sent_at = clock.now()
        _finish(alert, DeliveryState.SENT, "", sent_at=sent_at)
        AlertChannel.objects.filter(pk=channel.pk).update(last_sent_at=sent_at)


def _failed(alert: ProbeAlert, error: str, now: datetime, *, permanent: bool) -> None:
    attempts = alert.attempts + 1
    AlertChannel.objects.filter(pk=alert.channel_id).update(
        last_error=error[:1000], last_error_at=now
    )
    if permanent or attempts > len(BACKOFF):
        _finish(alert, DeliveryState.FAILED, error, attempts=attempts)
        logger.error("probe alert %s to %s failed for good: %s", alert.pk, alert.channel, error)
        return
    ProbeAlert.objects.filter(pk=alert.pk).update(
        state=DeliveryState.PENDING,
        attempts=attempts,
        last_error=error[:1000],
        due_at=now + BACKOFF[attempts - 1],
        claim="",
    )
    logger.warning("probe alert to %s failed (will retry): %s", alert.channel, error)


def _finish(alert: ProbeAlert, state: str, error: str, **fields) -> None:
    fields.setdefault("attempts", alert.attempts + 1)
    ProbeAlert.objects.filter(pk=alert.pk).update(
        state=state, last_error=error[:1000], claim="", **fields
    )
