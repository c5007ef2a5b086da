"""Every change to maintenance records: inventories, the log, update runs, backups, restores.

Talking to a site happens outside any transaction (it can take minutes);
what it answered is then written in one transaction here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from caredesk.clients.models import Site
from caredesk.lib import clock

from . import connectors, signals
from .inventory import differences, seen_in
from .models import (
    ACTIVE_STATES,
    Backup,
    BackupRestore,
    BackupTrigger,
    Change,
    Finding,
    ItemKind,
    JobState,
    LogEntry,
    RunState,
    ScanRun,
    SiteMaintenance,
    Snapshot,
    SnapshotItem,
    Source,
    TicketLink,
    UpdateRun,
    all_parts,
)
from .sites import connector_for, settings_for

ERROR_RETRY = timedelta(hours=1)  # a site that failed is tried again sooner than its interval


def take_inventory(
    site: Site, *, acting_user=None, update_run: UpdateRun | None = None, refresh: bool = True
) -> Snapshot:
    """Ask the site what is installed, store it, log what changed since the last time.

    Raises :class:`connectors.ConnectorError` after recording it on the site.
    """
    try:
        found = connector_for(site).inventory(refresh=refresh)
    except connectors.ConnectorError as error:
        do_record_connection_error(site, error)
        raise
    return do_record_inventory(site, found, acting_user=acting_user, update_run=update_run)


@transaction.atomic
def do_record_inventory(
    site: Site,
    found: connectors.Inventory,
    *,
    acting_user=None,
    update_run: UpdateRun | None = None,
) -> Snapshot:
    """Store one inventory and append the differences from the previous one to the log."""
    previous = Snapshot.objects.filter(site=site).prefetch_related("items").first()
    snapshot = Snapshot.objects.create(
        site=site,
        connection=site.connection,
        core_version=found.core_version,
        php_version=found.php_version,
        connector_version=found.connector_version,
        taken_by=acting_user,
        update_run=update_run,
        health=[test.as_json() for test in found.health],
    )
    unique = {(item.kind, item.slug): item for item in found.items}
    SnapshotItem.objects.bulk_create(
        SnapshotItem(
            snapshot=snapshot,
            kind=item.kind,
            slug=item.slug,
            name=item.name or item.slug,
            version=item.version,
            active=item.active,
            update_version=item.update,
        )
        for item in unique.values()
    )
    if previous is not None:
        source = Source.UPDATE if update_run is not None else Source.INVENTORY
        LogEntry.objects.bulk_create(
            LogEntry(
                site=site,
                kind=change.kind,
                slug=change.slug,
                name=change.name,
                change=change.change,
                from_version=change.from_version,
                to_version=change.to_version,
                # Between two inventories is all we know; the later one is when it was seen.
                at=snapshot.taken_at,
                source=source,
                snapshot=snapshot,
                update_run=update_run,
                user=acting_user,
            )
            for change in differences(seen_in(previous), seen_in(snapshot))
        )
    settings = settings_for(site)
    now = snapshot.taken_at
    SiteMaintenance.objects.filter(pk=settings.pk).update(
        last_inventory_at=now,
        last_error="",
        last_error_kind="",
        last_error_at=None,
        next_inventory_at=_next_inventory(settings, now),
    )
    return snapshot


def _next_inventory(settings: SiteMaintenance, now: datetime) -> datetime | None:
    if settings.inventory_hours == 0:
        return None
    return now + timedelta(hours=settings.inventory_hours)


@transaction.atomic
def do_record_connection_error(site: Site, error: connectors.ConnectorError) -> None:
    """Keep the latest connection error on the site, where staff see it."""
    settings = settings_for(site)
    now = clock.now()
    retry = _next_inventory(settings, now)
    if retry is not None:
        retry = min(retry, now + ERROR_RETRY)
    SiteMaintenance.objects.filter(pk=settings.pk).update(
        last_error=str(error)[:1000],
        last_error_kind=error.kind,
        last_error_at=now,
        next_inventory_at=retry,
    )


@transaction.atomic
def do_log_work(
    site: Site,
    *,
    acting_user,
    name: str,
    kind: str = ItemKind.OTHER,
    slug: str = "",
    from_version: str = "",
    to_version: str = "",
    at: datetime | None = None,
    note: str = "",
) -> LogEntry:
    """Log work done elsewhere (by hand, by the host) in the site's maintenance log."""
    if kind not in ItemKind.values:
        raise ValidationError({"kind": f"unknown kind {kind!r}"})
    if not name.strip():
        raise ValidationError({"name": "Say what was worked on."})
    when = at or clock.now()
    if when > clock.now() + timedelta(minutes=5):
        raise ValidationError({"at": "Work cannot be logged in the future."})
    change = Change.UPDATED if from_version and to_version else Change.DONE
    entry = LogEntry(
        site=site,
        kind=kind,
        slug=slug.strip(),
        name=name.strip(),
        change=change,
        from_version=from_version.strip(),
        to_version=to_version.strip(),
        at=when,
        source=Source.MANUAL,
        user=acting_user,
        note=note.strip(),
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def do_request_update_run(
    site: Site,
    *,
    acting_user=None,
    items: list[connectors.ItemRef] | None = None,
    reason: str = "",
) -> UpdateRun:
    """Queue updates of ``items`` on ``site`` (None: everything with an update available)."""
    from . import tasks  # tasks import the runner, which imports these actions

    if site.connection == "none":
        raise ValidationError("The site is not connected: choose a connection first.")
    for ref in items or []:
        if ref.kind not in ("core", "plugin", "theme") or not ref.slug:
            raise ValidationError(f"Cannot update {ref.kind} {ref.slug!r}.")
        if ref.kind == "core" and site.connection != "companion":
            raise ValidationError(
                "WordPress itself is updated only on sites connected with the companion plugin: "
                "its roll back restores a full backup, which only the plugin makes."
            )
    run = UpdateRun.objects.create(
        site=site,
        all_items=items is None,
        items=[ref.as_json() for ref in items or []],
        requested_by=acting_user,
        reason=reason[:200],
    )
    transaction.on_commit(lambda: tasks.run_update.enqueue(run.pk))
    return run


@transaction.atomic
def do_retry_update_run(run: UpdateRun, *, acting_user=None) -> UpdateRun:
    """Queue a finished, unsuccessful run again; its finished steps are not redone."""
    from . import tasks, updates

    locked = UpdateRun.objects.select_for_update().get(pk=run.pk)
    if updates.is_stale(locked):
        updates.requeue_stale(locked)
        transaction.on_commit(lambda: tasks.run_update.enqueue(locked.pk))
        return locked
    if locked.state not in (RunState.FAILED, RunState.ROLLED_BACK):
        raise ValidationError("Only a failed run can be retried (or one whose worker stopped).")
    locked.state = RunState.QUEUED
    locked.claimed_at = None
    locked.finished_at = None
    locked.error = ""
    locked.save(update_fields=["state", "claimed_at", "finished_at", "error"])
    transaction.on_commit(lambda: tasks.run_update.enqueue(locked.pk))
    return locked


def do_request_scan(site: Site, *, acting_user=None) -> None:
    """Queue a security scan of ``site``: a worker runs it (the checks take a while)."""
    from . import tasks

    user_id = acting_user.pk if acting_user is not None else None
    transaction.on_commit(lambda: tasks.scan_site.enqueue(site.pk, user_id))


@transaction.atomic
def do_record_scan(
    site: Site,
    found: list,
    *,
    started_at: datetime,
    snapshot: Snapshot | None,
    checks_done: list[str],
    notes: list[str],
    acting_user=None,
) -> ScanRun:
    """Store a scan's findings; tell of high and critical ones the previous scan did not have."""
    previous = ScanRun.objects.filter(site=site).first()
    known = set(previous.findings.values_list("key", flat=True)) if previous else set()
    scan = ScanRun.objects.create(
        site=site,
        started_at=started_at,
        finished_at=clock.now(),
        snapshot=snapshot,
        requested_by=acting_user,
        checks_done=checks_done,
        notes="\n".join(notes),
    )
    unique = {f.key: f for f in found}
    findings = Finding.objects.bulk_create(
        Finding(
            scan=scan,
            site=site,
            key=f.key[:300],
            category=f.category,
            severity=f.severity,
            title=f.title[:500],
            detail=f.detail,
            advice=f.advice,
            item_kind=f.item_kind,
            item_slug=f.item_slug,
            installed_version=f.installed_version,
            fixed_in=f.fixed_in,
            cvss_score=f.cvss_score,
            vulnerability_id=f.vulnerability_id,
        )
        for f in unique.values()
    )
    settings = settings_for(site)
    if settings.scan_days:
        SiteMaintenance.objects.filter(pk=settings.pk).update(
            next_scan_at=scan.finished_at + timedelta(days=settings.scan_days)
        )
    for finding in findings:
        if finding.severity in ("high", "critical") and finding.key not in known:
            transaction.on_commit(
                lambda finding=finding: signals.finding_raised.send_robust(
                    sender=Finding, finding=finding, site=site, scan=scan
                )
            )
    return scan


# ---- tickets opened about maintenance matters (by the apps above) ---------------------


@transaction.atomic
def do_link_ticket(site: Site, topic: str, ticket_number: int) -> TicketLink:
    """Record that ticket ``ticket_number`` answers ``topic`` of ``site`` (see TicketLink)."""
    if ticket_number <= 0 or not topic:
        raise ValidationError("A ticket link needs a topic and a ticket number.")
    return TicketLink.objects.create(site=site, topic=topic[:320], ticket_number=ticket_number)


def linked_ticket_numbers(site: Site, topic: str) -> list[int]:
    """The tickets opened about ``topic`` of ``site``, newest first."""
    return list(
        TicketLink.objects.filter(site=site, topic=topic[:320]).values_list(
            "ticket_number", flat=True
        )
    )


# ---- full backups and restores --------------------------------------------------------


def _clean_parts(parts: list[str] | None, allowed: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(parts or allowed))
    unknown = [p for p in chosen if p not in allowed]
    if unknown or not chosen:
        raise ValidationError(f"Choose the parts among: {', '.join(allowed)}.")
    return [p for p in all_parts() if p in chosen]


@transaction.atomic
def do_request_backup(
    site: Site,
    *,
    acting_user=None,
    trigger: str = BackupTrigger.MANUAL,
    parts: list[str] | None = None,
    update_run: UpdateRun | None = None,
    queue: bool = True,
) -> Backup:
    """Queue a full backup of ``site`` (``queue=False``: the caller runs it itself)."""
    from . import tasks

    if site.connection != "companion":
        raise ValidationError(
            "Full backups go through the companion plugin: connect the site with it first."
        )
    if Backup.objects.filter(site=site, state__in=ACTIVE_STATES).exists():
        raise ValidationError(f"A backup of {site} is already queued or running.")
    try:
        with transaction.atomic():
            backup = Backup.objects.create(
                site=site,
                trigger=trigger,
                parts=_clean_parts(parts, all_parts()),
                requested_by=acting_user,
                update_run=update_run,
            )
    except IntegrityError:
        raise ValidationError(f"A backup of {site} is already queued or running.") from None
    if queue:
        transaction.on_commit(lambda: tasks.run_backup.enqueue(backup.pk))
    return backup


def _requeue(run, what: str):
    from . import runs

    try:
        return runs.requeue(run)
    except ValueError:
        raise ValidationError(
            f"Only a failed {what} (or one whose worker stopped) can be retried."
        ) from None


@transaction.atomic
def do_retry_backup(backup: Backup, *, acting_user=None, queue: bool = True) -> Backup:
    """Queue a failed backup again; its finished steps are not redone."""
    from . import tasks

    again = _requeue(backup, "backup")
    if queue:
        transaction.on_commit(lambda: tasks.run_backup.enqueue(again.pk))
    return again


@transaction.atomic
def do_request_verification(backup: Backup, *, acting_user=None, queue: bool = True) -> Backup:
    """Check a stored backup again: read it back, test-restore its database."""
    from . import tasks

    locked = Backup.objects.select_for_update().get(pk=backup.pk)
    if locked.state != JobState.SUCCEEDED or not locked.restorable:
        raise ValidationError("Only a finished backup still in the repository can be verified.")
    locked.verify_round += 1
    locked.state = JobState.QUEUED
    locked.claimed_at = None
    locked.finished_at = None
    locked.save(update_fields=["verify_round", "state", "claimed_at", "finished_at"])
    if queue:
        transaction.on_commit(lambda: tasks.run_backup.enqueue(locked.pk))
    return locked


def check_restore(
    backup: Backup, target: Site, parts: list[str] | None, ticket_number: int | None
) -> None:
    """Raise :class:`ValidationError` if ``backup`` cannot go to ``target`` as asked."""
    if not backup.restorable:
        raise ValidationError(
            f"Backup #{backup.pk} is not in the repository "
            + ("any more (retention removed it)." if backup.removed_at else "(it was not stored).")
        )
    if target.organisation_id != backup.site.organisation_id:
        raise ValidationError("A backup can only go to a site of the same client.")
    if target.connection != "companion":
        raise ValidationError(f"{target} is not connected with the companion plugin.")
    if ticket_number is not None and ticket_number <= 0:
        raise ValidationError("A ticket number is a positive number.")
    _clean_parts(parts, list(backup.parts))
    if BackupRestore.objects.filter(target=target, state__in=ACTIVE_STATES).exists():
        raise ValidationError(f"A restore to {target} is already queued or running.")


@transaction.atomic
def do_request_restore(
    backup: Backup,
    *,
    acting_user,
    target: Site | None = None,
    parts: list[str] | None = None,
    ticket_number: int | None = None,
    safety_backup: bool = True,
    queue: bool = True,
) -> BackupRestore:
    """Queue putting ``backup`` back on its site, or on ``target`` (a staging copy)."""
    from . import tasks

    target = target or backup.site
    check_restore(backup, target, parts, ticket_number)
    try:
        with transaction.atomic():
            restore = BackupRestore.objects.create(
                backup=backup,
                target=target,
                parts=_clean_parts(parts, list(backup.parts)),
                requested_by=acting_user,
                ticket_number=ticket_number,
                safety_backup=safety_backup,
            )
    except IntegrityError:
        raise ValidationError(f"A restore to {target} is already queued or running.") from None
    if queue:
        transaction.on_commit(lambda: tasks.run_restore.enqueue(restore.pk))
    return restore


@transaction.atomic
def do_retry_restore(
    restore: BackupRestore, *, acting_user=None, queue: bool = True
) -> BackupRestore:
    """Queue a failed restore again; what was uploaded is not uploaded again."""
    from . import tasks

    again = _requeue(restore, "restore")
    if queue:
        transaction.on_commit(lambda: tasks.run_restore.enqueue(again.pk))
    return again
