"""Backup facts for other apps (the monthly report, a heartbeat monitor), read only.

Nothing here changes a record. Times are UTC; periods are half-open
``[start, end)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Q

from .models import Backup, BackupRestore, JobState


@dataclass(frozen=True, slots=True)
class RestoreFact:
    id: int
    backup_id: int
    target_site_id: int
    to_staging: bool
    requested_at: datetime
    finished_at: datetime | None
    ok: bool | None  # None while it runs
    ticket_number: int | None


@dataclass(frozen=True, slots=True)
class BackupFact:
    id: int
    site_id: int
    trigger: str
    parts: tuple[str, ...]
    requested_at: datetime
    taken_at: datetime | None  # when the site made it; None if it never got that far
    stored: bool  # in the repository (it may since have been removed by retention)
    size: int  # bytes, database and files together
    verified: bool | None  # read back and test-restored: True, False, or not yet known
    verified_at: datetime | None
    kept: bool  # still in the repository (retention has not removed it)
    failed: bool
    restores: tuple[RestoreFact, ...]


def _restore_fact(restore: BackupRestore, site_id: int) -> RestoreFact:
    done = restore.state in (JobState.SUCCEEDED, JobState.FAILED)
    return RestoreFact(
        id=restore.pk,
        backup_id=restore.backup_id,
        target_site_id=restore.target_id,
        to_staging=restore.target_id != site_id,
        requested_at=restore.created_at,
        finished_at=restore.finished_at,
        ok=(restore.state == JobState.SUCCEEDED) if done else None,
        ticket_number=restore.ticket_number,
    )


def backups_in(
    site_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[BackupFact]]:
    """Each site's backups requested in [start, end), oldest first, with their restores."""
    found: dict[int, list[BackupFact]] = defaultdict(list)
    rows = (
        Backup.objects.filter(site_id__in=list(site_ids), created_at__gte=start, created_at__lt=end)
        .prefetch_related("restores")
        .order_by("created_at", "id")
    )
    for backup in rows:
        found[backup.site_id].append(
            BackupFact(
                id=backup.pk,
                site_id=backup.site_id,
                trigger=backup.trigger,
                parts=tuple(backup.parts),
                requested_at=backup.created_at,
                taken_at=backup.taken_at,
                stored=bool(backup.snapshot_id),
                size=backup.size,
                verified=backup.verified,
                verified_at=backup.verified_at,
                kept=backup.restorable,
                failed=backup.state == JobState.FAILED,
                restores=tuple(
                    _restore_fact(r, backup.site_id)
                    for r in sorted(backup.restores.all(), key=lambda r: r.created_at)
                ),
            )
        )
    return dict(found)


def restores_in(
    site_ids: Iterable[int], start: datetime, end: datetime
) -> dict[int, list[RestoreFact]]:
    """Restores requested in [start, end) of the sites' backups or onto the sites, by site."""
    ids = list(site_ids)
    found: dict[int, list[RestoreFact]] = defaultdict(list)
    rows = (
        BackupRestore.objects.filter(created_at__gte=start, created_at__lt=end)
        .filter(Q(backup__site_id__in=ids) | Q(target_id__in=ids))
        .select_related("backup")
        .order_by("created_at", "id")
    )
    for restore in rows:
        fact = _restore_fact(restore, restore.backup.site_id)
        for site_id in {restore.backup.site_id, restore.target_id} & set(ids):
            found[site_id].append(fact)
    return dict(found)


def last_good_backups(site_ids: Iterable[int] | None = None) -> dict[int, datetime]:
    """When each site made its latest backup that was stored and verified (sites without
    one are absent): what a heartbeat monitor compares with the site's backup interval."""
    rows = Backup.objects.filter(state=JobState.SUCCEEDED, verified=True, taken_at__isnull=False)
    if site_ids is not None:
        rows = rows.filter(site_id__in=list(site_ids))
    latest = rows.values("site_id").annotate(at=Max("taken_at"))
    return {row["site_id"]: row["at"] for row in latest}
