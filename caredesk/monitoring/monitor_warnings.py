"""Warnings: trouble coming, not an outage. Opened, kept up to date and cleared here.

Two kinds so far:

- **certificate expiry** — every check that meets a certificate (TLS monitors,
  and HTTP monitors of an https:// address, the site's default one included)
  reports its days left; fewer than the monitor's *TLS warning days* opens a
  warning, enough days (a renewed certificate) or a check that met no
  certificate at all clears it. An expired certificate is an outage: the
  check itself fails.
- **heartbeat late** — a heartbeat whose ping is overdue but still within its
  grace period (:mod:`caredesk.monitoring.heartbeats`); the next ping clears
  it. Past the grace period the heartbeat is down: an incident.

A warning is alerted once, when it opens (``signals.warning_raised`` after
the commit). One that clears and comes back within the quiet period
(CAREDESK_MONITOR_QUIET_SECONDS) is the same warning reopened, without
another alert: probes in two regions that meet two certificates (a CDN part
way through a renewal) must not alert on every check.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from functools import partial

from django.db import transaction
from django.dispatch import Signal

from .engine.spec import Outcome
from .incidents import quiet_period
from .models import Kind, Monitor, MonitorWarning, WarningKind
from .signals import warning_cleared, warning_raised

logger = logging.getLogger(__name__)
CERT_KINDS = (Kind.HTTP, Kind.TLS)


def open_warning(monitor: Monitor, kind: str, detail: str, at: datetime) -> MonitorWarning:
    """The monitor's open warning of ``kind``, opened (or reopened) now if it had none.

    Call it with the monitor row locked (the store's batch, or a heartbeat's
    evaluation), so two writers never open two.
    """
    detail = detail[:600]
    warning = MonitorWarning.objects.filter(monitor=monitor, kind=kind, cleared_at=None).first()
    if warning is not None:
        if warning.detail != detail:
            warning.detail = detail
            warning.save(update_fields=["detail"])
        return warning
    recent = (
        MonitorWarning.objects.filter(
            monitor=monitor, kind=kind, cleared_at__gte=at - quiet_period()
        )
        .order_by("-cleared_at")
        .first()
    )
    if recent is not None:
        recent.cleared_at = None
        recent.reopened += 1
        recent.detail = detail
        recent.save(update_fields=["cleared_at", "reopened", "detail"])
        return recent
    warning = MonitorWarning.objects.create(monitor=monitor, kind=kind, opened_at=at, detail=detail)
    _send_on_commit(warning_raised, warning.pk)
    return warning


def clear_warning(monitor: Monitor, kind: str, at: datetime) -> MonitorWarning | None:
    """Clear the monitor's open warning of ``kind``, if it has one."""
    warning = MonitorWarning.objects.filter(monitor=monitor, kind=kind, cleared_at=None).first()
    if warning is None:
        return None
    warning.cleared_at = max(at, warning.opened_at)
    warning.save(update_fields=["cleared_at"])
    _send_on_commit(warning_cleared, warning.pk)
    return warning


def cert_detail(monitor: Monitor, days: int) -> str:
    host = monitor.host if monitor.kind == Kind.TLS else _url_host(monitor.url)
    if days < 0:
        return f"the TLS certificate of {host} expired {-days} day{'s' if days != -1 else ''} ago"
    when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
    return (
        f"the TLS certificate of {host} expires {when} (warning below {monitor.tls_min_days} days)"
    )


def _url_host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0] or url


def note_certificates(monitors: dict[int, Monitor], outcomes: Iterable[Outcome]) -> None:
    """Open, update or clear certificate warnings from a batch of results (oldest first).

    ``monitors`` are locked by the caller. Costs one query per batch when
    nothing changes.
    """
    verdicts: dict[int, tuple[datetime, int | None]] = {}  # days left if too few, else None
    for outcome in outcomes:
        monitor = monitors.get(outcome.monitor_id)
        if monitor is None or monitor.kind not in CERT_KINDS:
            continue
        days = outcome.cert_days
        if days is not None:
            short = days < monitor.tls_min_days
            verdicts[monitor.pk] = (outcome.checked_at, days if short else None)
        elif outcome.ok:
            verdicts[monitor.pk] = (outcome.checked_at, None)  # no certificate: nothing expires
        # A failed check that met no certificate says nothing about it.
    if not verdicts:
        return
    opened = {
        warning.monitor_id: warning
        for warning in MonitorWarning.objects.filter(
            monitor_id__in=verdicts, kind=WarningKind.CERT_EXPIRY, cleared_at=None
        )
    }
    for monitor_id, (at, days) in verdicts.items():
        monitor, warning = monitors[monitor_id], opened.get(monitor_id)
        if days is None:
            if warning is not None:
                clear_warning(monitor, WarningKind.CERT_EXPIRY, at)
        elif warning is None:
            open_warning(monitor, WarningKind.CERT_EXPIRY, cert_detail(monitor, days), at)
        elif warning.detail != cert_detail(monitor, days):
            warning.detail = cert_detail(monitor, days)  # a day closer
            warning.save(update_fields=["detail"])


def _send_on_commit(signal: Signal, warning_id: int) -> None:
    transaction.on_commit(partial(_send, signal, warning_id))


def _send(signal: Signal, warning_id: int) -> None:
    warning = MonitorWarning.objects.select_related("monitor__site").filter(pk=warning_id).first()
    if warning is None:
        return
    for receiver, response in signal.send_robust(MonitorWarning, warning=warning):
        if isinstance(response, Exception):
            logger.error(
                "warning %s: receiver %r failed",
                warning_id,
                receiver,
                exc_info=(type(response), response, response.__traceback__),
            )
