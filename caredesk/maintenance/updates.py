"""Update runs: backups first → update each item → health check → on failure, roll back.

The first backup is of the items' folders, kept on the site for a quick roll
back; then, where the site's settings ask for it, a full backup (database and
files, stored and verified: :mod:`.backups`) unless one was made in the last
24 hours.

WordPress core is not backed up item by item: its files are the whole
WordPress folder. A run that updates core always takes a full backup of its
own first (a recent one is not enough: rolling back to it would lose what
changed since), and its roll back restores that backup — files and database,
since a core update may upgrade the database too — which also puts back every
other item the run changed.

A run is a list of steps, each recorded with its outcome. :func:`advance`
does one step and says whether there is more, so a worker drives a run and a
test can stop it anywhere. A retried run keeps what stands — the backup, the
updates not rolled back — and appends only the steps still to do, so nothing
is done twice.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Q

from caredesk.lib import clock

from . import actions, connectors, health, signals
from .connectors import ItemRef
from .models import (
    Backup,
    BackupTrigger,
    JobState,
    RunState,
    Snapshot,
    StepAction,
    StepState,
    UpdateRun,
    UpdateStep,
)
from .sites import connector_for, settings_for

logger = logging.getLogger(__name__)

# A running run whose worker has shown no sign of life this long (minutes:
# CAREDESK_UPDATE_RUN_STALE_MINUTES) is taken as dead and queued again. Each step
# beats at its start and end, a full backup or a restore as it goes; the longest
# silent step is one update, bounded by CAREDESK_MAINTENANCE_UPDATE_TIMEOUT.
STALE_AFTER = timedelta(minutes=30)


def stale_after() -> timedelta:
    minutes = getattr(django_settings, "CAREDESK_UPDATE_RUN_STALE_MINUTES", None)
    return timedelta(minutes=minutes) if minutes else STALE_AFTER


BEAT_EVERY = 30.0  # seconds between heartbeats written while a full backup runs
CORE = ItemRef("core", "wordpress")
CORE_BACKUP_FRESH = timedelta(hours=1)  # a retried core run backs up again after this


def claim(run_id: int) -> UpdateRun | None:
    """Take a queued run for this process; None if another has it or it is not queued."""
    now = clock.now()
    taken = UpdateRun.objects.filter(pk=run_id, state=RunState.QUEUED, claimed_at=None).update(
        state=RunState.RUNNING, claimed_at=now, heartbeat_at=now, attempt=F("attempt") + 1
    )
    if taken != 1:
        return None
    run = UpdateRun.objects.select_related("site").get(pk=run_id)
    if run.started_at is None:
        run.started_at = now
        run.save(update_fields=["started_at"])
    return run


def execute(run_id: int) -> UpdateRun | None:
    """Claim a run and drive it to its end (what a worker's task does)."""
    run = claim(run_id)
    if run is None:
        return None
    plan(run)
    while advance(run):
        pass
    return run


def refs_of(run: UpdateRun) -> list[ItemRef]:
    return [ItemRef(item["kind"], item["slug"]) for item in run.items]


def can_update_core(site) -> bool:
    """Core's roll back restores a full backup, which only the companion plugin makes."""
    return site.connection == "companion"


def updates_core(run: UpdateRun) -> bool:
    return any(ref.kind == "core" for ref in refs_of(run))


def beat(run: UpdateRun) -> None:
    """A sign of life of the run's worker (see :func:`reclaim_stale`)."""
    UpdateRun.objects.filter(pk=run.pk).update(heartbeat_at=clock.now())


def is_stale(run: UpdateRun) -> bool:
    """Whether ``run`` says it is running but its worker has not been heard from."""
    beat_at = run.heartbeat_at or run.claimed_at or run.started_at
    return run.state == RunState.RUNNING and (
        beat_at is None or beat_at < clock.now() - stale_after()
    )


def stale_runs():
    cutoff = clock.now() - stale_after()
    return UpdateRun.objects.filter(state=RunState.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at=None, claimed_at__lt=cutoff)
    )


@transaction.atomic
def requeue_stale(run: UpdateRun) -> bool:
    """Queue a run whose worker died again: its interrupted step failed, the rest skipped.

    What stands (backups, updates done) is kept, so the next attempt does only what
    is left. False when the run is not (or no longer) stale.
    """
    locked = UpdateRun.objects.select_for_update().get(pk=run.pk)
    if not is_stale(locked):
        return False
    now = clock.now()
    locked.steps.filter(state=StepState.RUNNING).update(
        state=StepState.FAILED, detail="interrupted: its worker stopped", finished_at=now
    )
    locked.steps.filter(state=StepState.PENDING).update(
        state=StepState.SKIPPED, detail="not started: the run's worker stopped", finished_at=now
    )
    UpdateRun.objects.filter(pk=locked.pk).update(
        state=RunState.QUEUED, claimed_at=None, heartbeat_at=None
    )
    return True


def reclaim_stale(*, queue: bool = True) -> list[int]:
    """Queue again every run whose worker died; the ids of those taken back."""
    from . import tasks  # tasks import this module

    taken = []
    for run in stale_runs():
        if requeue_stale(run):
            logger.warning("update run %s: its worker stopped; queued again", run.pk)
            taken.append(run.pk)
            if queue:
                transaction.on_commit(lambda pk=run.pk: tasks.run_update.enqueue(pk))
    return taken


@transaction.atomic
def plan(run: UpdateRun) -> list[UpdateStep]:
    """Append this attempt's steps: what does not already stand from an earlier attempt."""
    latest = Snapshot.objects.filter(site=run.site).prefetch_related("items").first()
    names = {(i.kind, i.slug): i.name for i in latest.items.all()} if latest else {}
    if run.all_items and not run.items and latest is not None:
        run.items = [
            {"kind": i.kind, "slug": i.slug}
            for i in latest.items.all()
            if i.update_version and (i.kind != "core" or can_update_core(run.site))
        ]
        run.save(update_fields=["items"])
    steps = list(run.steps.all())
    added: list[UpdateStep] = []

    def add(action: str, ref: ItemRef | None = None, detail: str = "") -> None:
        position = len(steps) + len(added) + 1
        added.append(
            UpdateStep(
                run=run,
                position=position,
                attempt=run.attempt,
                action=action,
                item_kind=ref.kind if ref else "",
                item_slug=ref.slug if ref else "",
                item_name=names.get((ref.kind, ref.slug), ref.slug) if ref else "",
                detail=detail,
            )
        )

    refs = refs_of(run)
    if refs:
        core = updates_core(run)
        if not any(s.action == StepAction.BACKUP and s.state == StepState.DONE for s in steps):
            add(StepAction.BACKUP)
        if (core or settings_for(run.site).backup_before_updates) and not any(
            s.action == StepAction.FULL_BACKUP
            and s.state == StepState.DONE
            # Core's roll back restores it: on a retry hours later, take a new one.
            and (not core or (s.finished_at or s.started_at) >= clock.now() - CORE_BACKUP_FRESH)
            for s in steps
        ):
            add(
                StepAction.FULL_BACKUP,
                detail="WordPress core is rolled back from this backup" if core else "",
            )
        for ref in refs:
            if not _stands(steps, ref):
                add(StepAction.UPDATE, ref)
        add(StepAction.HEALTH)
    UpdateStep.objects.bulk_create(added)
    return added


def _stands(steps: list[UpdateStep], ref: ItemRef) -> bool:
    """Whether an earlier attempt updated ``ref`` and nothing rolled it back since.

    Rolling back core restores the whole full backup, so it rolls back every item.
    """
    for step in sorted(steps, key=lambda s: s.position, reverse=True):
        mine = (step.item_kind, step.item_slug) == (ref.kind, ref.slug)
        if (
            step.action == StepAction.ROLLBACK
            and step.state == StepState.DONE
            and (mine or step.item_kind == "core")
        ):
            return False
        if step.action == StepAction.UPDATE and mine:
            return step.state in (StepState.DONE, StepState.SKIPPED) and bool(step.to_version)
    return False


def advance(run: UpdateRun) -> bool:
    """Do the next pending step; False once the run is over (and recorded as such)."""
    step = run.steps.filter(state=StepState.PENDING).order_by("position").first()
    if step is None:
        finish(run)
        return False
    step.state = StepState.RUNNING
    step.started_at = clock.now()
    step.save(update_fields=["state", "started_at"])
    beat(run)
    try:
        _do(run, step)
    except connectors.ConnectorError as error:
        _end(step, StepState.FAILED, str(error))
    except Exception as error:
        # One odd site must not kill the worker or leave the step "running" forever.
        logger.exception("update step %s failed unexpectedly", step.pk)
        _end(step, StepState.FAILED, f"unexpected error: {type(error).__name__}: {error}")
    beat(run)
    if step.state == StepState.FAILED:
        _after_failure(run, step)
    return True


def _end(step: UpdateStep, state: str, detail: str, **fields) -> None:
    step.state = state
    step.detail = detail[:4000]
    step.finished_at = clock.now()
    for name, value in fields.items():
        setattr(step, name, value)
    step.save()


def _do(run: UpdateRun, step: UpdateStep) -> None:
    if step.action == StepAction.BACKUP:
        # Core's files are the whole WordPress folder: the full backup covers them.
        items = [ref for ref in refs_of(run) if ref.kind != "core"]
        backup = connector_for(run.site).backup(items, database=True)
        run.backup_id = backup.id
        run.save(update_fields=["backup_id"])
        size = sum(f.size for f in backup.items.values()) + (
            backup.database.size if backup.database else 0
        )
        _end(step, StepState.DONE, f"backup {backup.id} ({size:,} bytes)", data=backup.as_json())
    elif step.action == StepAction.FULL_BACKUP:
        _full_backup(run, step)
    elif step.action == StepAction.UPDATE:
        ref = ItemRef(step.item_kind, step.item_slug)
        outcome = connector_for(run.site).update([ref])[0]
        versions = {"from_version": outcome.from_version, "to_version": outcome.to_version}
        if outcome.status == "updated":
            _end(step, StepState.DONE, "updated", **versions)
        elif outcome.status == "current":
            _end(step, StepState.SKIPPED, "no newer version offered", **versions)
        else:
            _end(step, StepState.FAILED, outcome.error or "the site says it failed", **versions)
    elif step.action == StepAction.HEALTH:
        verdict = health.check(run.site)
        _end(step, StepState.DONE if verdict.ok else StepState.FAILED, verdict.detail)
    elif step.action == StepAction.ROLLBACK and step.item_kind == "core":
        _restore_full_backup(run, step)
    elif step.action == StepAction.ROLLBACK:
        if not run.backup_id:
            _end(step, StepState.FAILED, "no backup to roll back from")
            return
        ref = ItemRef(step.item_kind, step.item_slug)
        connector_for(run.site).restore(run.backup_id, [ref])
        _end(step, StepState.DONE, f"restored from backup {run.backup_id}")


def _full_backup(run: UpdateRun, step: UpdateStep) -> None:
    """Database and files into the repository first, unless a recent backup already is."""
    from . import backups, runs  # backups import actions, which import this module

    recent = (
        Backup.objects.filter(
            site=run.site,
            state=JobState.SUCCEEDED,
            removed_at=None,
            taken_at__gte=clock.now() - backups.FRESH,
        )
        .order_by("-taken_at")
        .first()
    )
    if updates_core(run):
        # Core is rolled back by restoring this backup: one from hours ago would
        # take back everything the site's people did since.
        recent = None
    if recent is not None:
        _end(
            step,
            StepState.DONE,
            f"backup #{recent.pk} of {recent.taken_at:%Y-%m-%d %H:%M} UTC is recent: none taken",
            data={"backup": recent.pk},
        )
        return
    earlier = (
        Backup.objects.filter(update_run=run)
        .exclude(state=JobState.SUCCEEDED)
        .order_by("-created_at")
        .first()
    )
    last_beat = [time.monotonic()]

    def alive(text: str) -> None:
        if time.monotonic() - last_beat[0] >= BEAT_EVERY:
            last_beat[0] = time.monotonic()
            beat(run)

    try:
        backup = backups.inline(
            run.site,
            trigger=BackupTrigger.UPDATE_RUN,
            acting_user=run.requested_by,
            update_run=run,
            previous=earlier,
            report=alive,
        )
    except (ValidationError, runs.StepFailed) as error:
        reason = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        _end(step, StepState.FAILED, reason)
        return
    if backup.state != JobState.SUCCEEDED:
        _end(
            step,
            StepState.FAILED,
            f"backup #{backup.pk}: {backup.error}",
            data={"backup": backup.pk},
        )
        return
    _end(
        step,
        StepState.DONE,
        f"backup #{backup.pk} stored and verified ({backups.human(backup.size)})",
        data={"backup": backup.pk},
    )


def _restore_full_backup(run: UpdateRun, step: UpdateStep) -> None:
    """Roll core back: restore the run's full backup (files and database) onto the site."""
    from . import restores  # restores import actions, which import this module
    from .models import BackupRestore, RestoreAction

    full = (
        run.steps.filter(action=StepAction.FULL_BACKUP, state=StepState.DONE)
        .order_by("-position")
        .first()
    )
    backup = Backup.objects.filter(pk=(full.data.get("backup") if full else None)).first()
    if backup is None or not backup.restorable:
        _end(step, StepState.FAILED, "no full backup of this run to restore WordPress from")
        return
    # A restore an earlier attempt left failed goes on from where it stopped.
    tried = [s.data.get("restore") for s in run.steps.filter(action=StepAction.ROLLBACK)]
    earlier = (
        BackupRestore.objects.filter(pk__in=[pk for pk in tried if pk], backup=backup)
        .order_by("-pk")
        .first()
    )
    try:
        if earlier is not None and earlier.state == JobState.FAILED:
            restore = actions.do_retry_restore(earlier, queue=False)
        else:
            restore = actions.do_request_restore(
                backup, acting_user=run.requested_by, safety_backup=False, queue=False
            )
    except ValidationError as error:
        _end(step, StepState.FAILED, " ".join(error.messages))
        return
    step.data = {**step.data, "restore": restore.pk, "backup": backup.pk}
    step.save(update_fields=["data"])
    done = restores.execute(restore.pk, report=lambda text: beat(run))
    if done is None:
        _end(step, StepState.FAILED, f"restore #{restore.pk} is being run by another worker")
        return
    applied = done.steps.filter(action=RestoreAction.APPLY, state=StepState.DONE).exists()
    if not applied:
        _end(step, StepState.FAILED, f"restore #{done.pk} of backup #{backup.pk}: {done.error}")
        return
    # The restore's own health check may fail; the run's next step judges the site.
    _end(
        step,
        StepState.DONE,
        f"backup #{backup.pk} (files and database) put back by restore #{done.pk}",
    )


@transaction.atomic
def _after_failure(run: UpdateRun, failed: UpdateStep) -> None:
    """Skip what is left; roll back what this run changed, unless that already happened."""
    reason = f"not started: step {failed.position} ({failed.get_action_display()}) failed"
    run.steps.filter(state=StepState.PENDING).update(
        state=StepState.SKIPPED, detail=reason, finished_at=clock.now()
    )
    current = list(run.steps.filter(attempt=run.attempt))
    if failed.action in (StepAction.BACKUP, StepAction.FULL_BACKUP, StepAction.ROLLBACK) or any(
        s.action == StepAction.ROLLBACK for s in current
    ):
        return  # nothing changed yet, or already rolling back: no second round
    touched = [
        s
        for s in run.steps.filter(action=StepAction.UPDATE).order_by("position")
        if s.state == StepState.FAILED
        or (s.state == StepState.DONE and _stands(list(run.steps.all()), _ref(s)))
    ]
    touched_refs = list(dict.fromkeys(_ref(s) for s in touched))
    if not touched_refs:
        return
    position = run.steps.aggregate(m=Max("position"))["m"] or 0
    names = {_ref(s): s.item_name for s in touched}
    if CORE in touched_refs:
        # Restoring the full backup puts back core and every other item at once.
        touched_refs = [CORE]
    new = [
        UpdateStep(
            run=run,
            position=position + n + 1,
            attempt=run.attempt,
            action=StepAction.ROLLBACK,
            item_kind=ref.kind,
            item_slug=ref.slug,
            item_name=names[ref],
        )
        for n, ref in enumerate(touched_refs)
    ]
    new.append(
        UpdateStep(
            run=run,
            position=position + len(new) + 1,
            attempt=run.attempt,
            action=StepAction.HEALTH,
            detail="after rolling back",
        )
    )
    UpdateStep.objects.bulk_create(new)


def _ref(step: UpdateStep) -> ItemRef:
    return ItemRef(step.item_kind, step.item_slug)


def finish(run: UpdateRun) -> None:
    """Record the run's end, take an inventory (which logs from → to), tell who must know."""
    current = list(run.steps.filter(attempt=run.attempt).order_by("position"))
    failed = [s for s in current if s.state == StepState.FAILED]
    rollbacks = [s for s in current if s.action == StepAction.ROLLBACK]
    if not failed:
        state, summary = RunState.SUCCEEDED, ""
    elif rollbacks and all(s.state == StepState.DONE for s in rollbacks):
        state = RunState.ROLLED_BACK
        if any(s.item_kind == "core" for s in rollbacks):
            summary = (
                f"{_describe(failed[0])}; the site's files and database were restored from "
                "the full backup taken before the updates"
            )
        else:
            summary = f"{_describe(failed[0])}; the changed items were restored from the backup"
    else:
        state = RunState.FAILED
        summary = _describe(failed[0])
        if any(s.action == StepAction.ROLLBACK for s in failed):
            summary += "; rolling back failed too: the site needs a person now"
    if any(
        s.state in (StepState.DONE, StepState.FAILED)
        for s in current
        if s.action
        in (
            StepAction.UPDATE,
            StepAction.ROLLBACK,
        )
    ):
        _inventory_after(run)
    with transaction.atomic():
        UpdateRun.objects.filter(pk=run.pk).update(
            state=state, finished_at=clock.now(), error=summary, claimed_at=None
        )
        run.refresh_from_db()
        if state != RunState.SUCCEEDED:
            transaction.on_commit(
                lambda: signals.update_failed.send_robust(
                    sender=UpdateRun,
                    run=run,
                    site=run.site,
                    rolled_back=state == RunState.ROLLED_BACK,
                    failed_steps=failed,
                    summary=f"Update run #{run.pk} on {run.site}: {summary}",
                )
            )


def _inventory_after(run: UpdateRun) -> None:
    position = (run.steps.aggregate(m=Max("position"))["m"] or 0) + 1
    step = UpdateStep.objects.create(
        run=run,
        position=position,
        attempt=run.attempt,
        action=StepAction.INVENTORY,
        state=StepState.RUNNING,
        started_at=clock.now(),
    )
    try:
        snapshot = actions.take_inventory(run.site, update_run=run, acting_user=run.requested_by)
    except connectors.ConnectorError as error:
        _end(step, StepState.FAILED, f"{error}; the next inventory will log the changes")
        return
    changed = snapshot.log_entries.count()
    _end(step, StepState.DONE, f"{changed} change(s) logged")


def _describe(step: UpdateStep) -> str:
    what = f" of {step.item_name or step.item_slug}" if step.item_slug else ""
    return f"{step.get_action_display().lower()}{what} failed: {step.detail}"
