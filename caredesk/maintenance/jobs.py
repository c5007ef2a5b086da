"""Scheduled inventories, scans and backups: a due column, claimed by a conditional update."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.db.models import Q

from caredesk.clients.models import Connection, Platform, Site
from caredesk.lib import clock

from . import actions, connectors
from .models import SiteMaintenance
from .sites import settings_for

CLAIM_HOLD = timedelta(minutes=15)  # a claimed site is not due again while its inventory runs


def due_sites():
    now = clock.now()
    return (
        Site.objects.filter(is_active=True, platform=Platform.WORDPRESS)
        .exclude(connection=Connection.NONE)
        .filter(
            Q(maintenance__isnull=True)
            | Q(maintenance__inventory_hours__gt=0, maintenance__next_inventory_at__isnull=True)
            | Q(maintenance__inventory_hours__gt=0, maintenance__next_inventory_at__lte=now)
        )
        .order_by("id")
    )


def inventory_step() -> bool:
    """Take the inventory of one due site; False when none is due."""
    for site in due_sites()[:20]:
        settings = settings_for(site)
        if settings.inventory_hours == 0:
            continue
        now = clock.now()
        claimed = SiteMaintenance.objects.filter(
            pk=settings.pk, next_inventory_at=settings.next_inventory_at
        ).update(next_inventory_at=now + CLAIM_HOLD, inventory_claimed_at=now)
        if claimed != 1:
            continue  # another worker took it
        # A failure is recorded on the site; the next site is not held up.
        with contextlib.suppress(connectors.ConnectorError):
            actions.take_inventory(site)
        return True
    return False


def take_due_inventories(limit: int = 200) -> int:
    done = 0
    while done < limit and inventory_step():
        done += 1
    return done


def due_scans():
    now = clock.now()
    return (
        Site.objects.filter(is_active=True, platform=Platform.WORDPRESS)
        .filter(
            Q(maintenance__isnull=True)
            | Q(maintenance__scan_days__gt=0, maintenance__next_scan_at__isnull=True)
            | Q(maintenance__scan_days__gt=0, maintenance__next_scan_at__lte=now)
        )
        .order_by("id")
    )


def scan_step(report=None) -> bool:
    """Scan one site whose scan is due; False when none is."""
    from .scan.run import scan_site  # the scan imports actions, which import this module's peers

    for site in due_scans()[:20]:
        settings = settings_for(site)
        if settings.scan_days == 0:
            continue
        now = clock.now()
        claimed = SiteMaintenance.objects.filter(
            pk=settings.pk, next_scan_at=settings.next_scan_at
        ).update(next_scan_at=now + CLAIM_HOLD)
        if claimed != 1:
            continue
        if report is not None:
            report(f"{site} ({site.url}):")
        scan_site(site, report=report)
        return True
    return False


def run_due_scans(limit: int = 50, report=None) -> int:
    done = 0
    while done < limit and scan_step(report):
        done += 1
    return done


BACKUP_HOLD = timedelta(hours=6)  # a claimed site is not due again while its backup runs
BACKUP_ATTEMPTS = 3  # a failed scheduled backup is resumed this many times, then made anew


def due_backups():
    now = clock.now()
    return (
        Site.objects.filter(
            is_active=True, platform=Platform.WORDPRESS, connection=Connection.COMPANION
        )
        .filter(
            Q(maintenance__isnull=True)
            | Q(maintenance__backup_days__gt=0, maintenance__next_backup_at__isnull=True)
            | Q(maintenance__backup_days__gt=0, maintenance__next_backup_at__lte=now)
        )
        .order_by("maintenance__next_backup_at", "id")
    )


def backup_step() -> bool:
    """Back up one site whose backup is due; False when none is."""
    from . import backups, runs  # backups import actions, which import this module's peers

    for site in due_backups()[:20]:
        settings = settings_for(site)
        if settings.backup_days == 0:
            continue
        now = clock.now()
        claimed = SiteMaintenance.objects.filter(
            pk=settings.pk, next_backup_at=settings.next_backup_at
        ).update(next_backup_at=now + BACKUP_HOLD)
        if claimed != 1:
            continue
        backup = _scheduled_backup(site, now)
        if backup is not None:
            # Its outcome is on the backup; a worker that took it first finishes it.
            with contextlib.suppress(runs.StepFailed):
                backups.run_here(backup)
        return True
    return False


def _scheduled_backup(site: Site, now):
    """The site's failed scheduled backup of this period to resume, else a new one."""
    from django.core.exceptions import ValidationError

    from . import runs
    from .models import ACTIVE_STATES, Backup, BackupTrigger, JobState

    active = Backup.objects.filter(site=site, state__in=ACTIVE_STATES).first()
    if active is not None:
        # One is queued or running (by hand, before updates): it will do, unless its
        # worker died, in which case this one takes it over.
        return active if runs.is_stale(active) else None
    settings = settings_for(site)
    failed = (
        Backup.objects.filter(
            site=site,
            trigger=BackupTrigger.SCHEDULE,
            state=JobState.FAILED,
            attempt__lt=BACKUP_ATTEMPTS,
            created_at__gte=now - timedelta(days=settings.backup_days),
        )
        .order_by("-created_at")
        .first()
    )
    if (
        failed is not None
        and not Backup.objects.filter(site=site, created_at__gt=failed.created_at).exists()
    ):
        return failed
    try:
        return actions.do_request_backup(site, trigger=BackupTrigger.SCHEDULE, queue=False)
    except ValidationError:
        return None  # one is running already (by hand, or before updates): it will do


def take_due_backups(limit: int = 5) -> int:
    done = 0
    while done < limit and backup_step():
        done += 1
    return done
