"""Full backups: the site makes them, caredesk fetches, stores, verifies and prunes them.

    prepare → download database → download files → store → clean site
            → check → test restore → retention

*Prepare*: the companion plugin dumps the database (SQL through PHP, no
mysqldump) and archives the files, a few seconds per request. *Download*:
chunks into the work folder, each and the whole checked against the site's
SHA-256. *Store*: one restic snapshot (encrypted, de-duplicated). *Check*:
both parts read back from the repository — restic authenticates every block
it reads — and compared with the site's checksums. *Test restore*: the dump,
as read back from the repository, is uploaded to the site, loaded there under
a scratch table prefix, its rows counted against what the site counted when
it made the dump, then dropped: proof that the stored dump loads into that
site's own database server. *Retention*: ``restic forget --prune`` with the
site's rules.

Each step stands once done; a retry appends only the others, resumes a
download or upload where it stopped, and finds a snapshot it already stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction

from caredesk.clients.models import Site
from caredesk.lib import clock

from . import connectors, restic, runs, signals, transfer
from .models import (
    PART_FILES,
    Backup,
    BackupAction,
    BackupStep,
    BackupTrigger,
    JobState,
    Part,
    SiteMaintenance,
)
from .sites import config_for, connector_for, settings_for

RETRY_AFTER = timedelta(hours=6)  # a failed scheduled backup is tried again this soon
FRESH = timedelta(hours=24)  # an update run does not take another backup within this
MAX_IDLE_CALLS = 20  # "working" answers without progress before a site is given up on


def host_for(site: Site) -> str:
    """The restic host of a site's snapshots (retention applies per host)."""
    return f"caredesk-site-{site.pk}"


def work_dir(backup: Backup) -> Path:
    return Path(settings.CAREDESK_BACKUP_WORK_DIR) / backup.key


def step_seconds(site: Site) -> int:
    """How long the site may work per request, well inside the time caredesk waits."""
    return max(1, min(20, int(config_for(site).update_timeout / 4)))


def human(size: int | None) -> str:
    """A size as people read it: ``812 bytes``, ``53.1 MB``."""
    value = float(size or 0)
    if value < 1000:
        return f"{value:,.0f} bytes"
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 1000:
            return f"{value:,.1f} {unit}"
    return f"{value / 1000:,.1f} TB"


def site_part(backup: Backup, kind: str) -> connectors.SitePart:
    """A part of ``backup`` as the site described it when it made it."""
    if kind == Part.DATABASE:
        return connectors.SitePart(
            kind,
            backup.database_size or 0,
            backup.database_sha256,
            dict(backup.database_tables or {}),
        )
    return connectors.SitePart(
        kind, backup.files_size or 0, backup.files_sha256, {}, backup.files_count or 0
    )


def repository() -> restic.Repository:
    repo = restic.Repository.from_settings()
    repo.ensure()
    return repo


def snapshot_file(backup: Backup, kind: str) -> str:
    return f"{backup.snapshot_path}/{PART_FILES[kind]}"


def execute(backup_id: int, report: runs.Report | None = None) -> Backup | None:
    """Claim a queued backup and drive it to its end (what a worker's task does)."""
    backup = runs.claim(Backup, backup_id)
    if backup is None:
        return None
    BackupRunner(backup, report).execute()
    backup.refresh_from_db()
    return backup


def run_here(backup: Backup, report: runs.Report | None = None) -> Backup:
    """Drive ``backup`` in this process now (a failed one resumes); for inline callers."""
    if backup.state == JobState.FAILED or runs.is_stale(backup):
        runs.requeue(backup)
    done = execute(backup.pk, report)
    if done is None:
        raise runs.StepFailed(f"backup #{backup.pk} is being made by another worker")
    return done


def inline(
    site: Site,
    *,
    trigger: str,
    acting_user=None,
    update_run=None,
    previous: Backup | None = None,
    report: runs.Report | None = None,
) -> Backup:
    """Make a backup of ``site`` here and now (or finish ``previous``, a failed one)."""
    from . import actions  # actions queue tasks, which import this module

    if previous is not None and previous.state != JobState.SUCCEEDED:
        return run_here(previous, report)
    backup = actions.do_request_backup(
        site, acting_user=acting_user, trigger=trigger, update_run=update_run, queue=False
    )
    return run_here(backup, report)


class BackupRunner(runs.Runner):
    run_field = "backup"
    soft = frozenset({BackupAction.CLEAN_SITE, BackupAction.RETENTION})

    def __init__(self, backup: Backup, report: runs.Report | None = None) -> None:
        super().__init__(backup, report)
        self.backup = backup
        self._connector: connectors.Connector | None = None

    @property
    def site(self) -> connectors.Connector:
        if self._connector is None:
            self._connector = connector_for(self.backup.site)
        return self._connector

    def wanted(self) -> list[str]:
        parts = self.backup.parts
        wanted = [BackupAction.PREPARE.value]
        if Part.DATABASE in parts:
            wanted.append(BackupAction.DOWNLOAD_DATABASE)
        if Part.FILES in parts:
            wanted.append(BackupAction.DOWNLOAD_FILES)
        wanted += [BackupAction.STORE, BackupAction.CLEAN_SITE, BackupAction.CHECK]
        if Part.DATABASE in parts:
            wanted.append(BackupAction.TEST_RESTORE)
        wanted.append(BackupAction.RETENTION)
        return wanted

    def stands(self, step) -> bool:
        if not super().stands(step):
            return False
        if step.action in (BackupAction.CHECK, BackupAction.TEST_RESTORE):
            return step.data.get("round") == self.backup.verify_round
        if step.action == BackupAction.PREPARE:
            return not step.data.get("gone")
        if step.action in (BackupAction.DOWNLOAD_DATABASE, BackupAction.DOWNLOAD_FILES):
            if self.backup.snapshot_id:
                return True
            # Downloaded but not stored yet: it stands while the file is still here.
            kind = Part.DATABASE if step.action == BackupAction.DOWNLOAD_DATABASE else Part.FILES
            path = work_dir(self.backup) / PART_FILES[kind]
            return path.exists() and path.stat().st_size == site_part(self.backup, kind).size
        return True

    def do(self, step: BackupStep) -> None:
        action = step.action
        if action == BackupAction.PREPARE:
            self.prepare(step)
        elif action == BackupAction.DOWNLOAD_DATABASE:
            self.download(step, Part.DATABASE)
        elif action == BackupAction.DOWNLOAD_FILES:
            self.download(step, Part.FILES)
        elif action == BackupAction.STORE:
            self.store(step)
        elif action == BackupAction.CLEAN_SITE:
            self.site.backup_finish(self.backup.key)
            self.end(step, "done", "the site's copy is deleted")
        elif action in (BackupAction.CHECK, BackupAction.TEST_RESTORE):
            try:
                self.check(step) if action == BackupAction.CHECK else self.test_restore(step)
            except (runs.StepFailed, connectors.ConnectorError, restic.ResticError) as error:
                self._verified(False, str(error))
                raise
        elif action == BackupAction.RETENTION:
            self.retention(step)

    # The steps -------------------------------------------------------------------------

    def prepare(self, step: BackupStep) -> None:
        backup = self.backup
        job = self.site.backup_start(backup.key, list(backup.parts))
        seconds = step_seconds(backup.site)
        if job.state == "failed":  # an earlier attempt's job: it goes on from where it stopped
            job = self.site.backup_step(backup.key, seconds=seconds, resume=True)
        idle, last = 0, None
        while job.state == "working":
            job = self.site.backup_step(backup.key, seconds=seconds, resume=True)
            mark = (job.phase, job.done, job.counters.get("bytes"))
            idle = idle + 1 if mark == last else 0
            last = mark
            if idle >= MAX_IDLE_CALLS:
                raise runs.StepFailed("the site keeps saying it is working but gets no further")
            self.progress(step, job.done, job.total, _prepare_progress(job))
        if job.state == "failed":
            raise runs.StepFailed(f"the site could not make the backup: {job.error or 'no reason'}")
        if job.state != "ready":
            raise connectors.BadAnswer(f"the site's backup job ended {job.state!r}")
        for kind in backup.parts:
            if kind not in job.parts:
                raise connectors.BadAnswer(f"the site's backup lacks the {kind}")
        database, files = job.parts.get(Part.DATABASE), job.parts.get(Part.FILES)
        backup.taken_at = clock.now()
        if database is not None:
            backup.database_size = database.size
            backup.database_sha256 = database.sha256
            backup.database_tables = database.tables
        if files is not None:
            backup.files_size = files.size
            backup.files_sha256 = files.sha256
            backup.files_count = files.files
            backup.files_skipped = files.skipped
        backup.save()
        shutil.rmtree(work_dir(backup), ignore_errors=True)  # parts of an earlier job differ
        self.end(step, "done", _parts_summary(backup))

    def download(self, step: BackupStep, kind: str) -> None:
        part = site_part(self.backup, kind)
        folder = work_dir(self.backup)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / PART_FILES[kind]
        resumed = path.exists() and path.stat().st_size > 0

        def report(done: int, total: int) -> None:
            self.progress(step, done, total, f"{human(done)} of {human(total)}")

        try:
            transfer.download(self.site, self.backup.key, part, path, report)
        except connectors.JobGone:
            self._make_again()
            raise runs.StepFailed(
                "the site no longer has this backup's files (it deletes them a week after "
                "their last use); a retry has the site make the backup again"
            ) from None
        except transfer.ChecksumMismatch as error:
            self._make_again()
            raise runs.StepFailed(f"{error}; a retry has the site make the backup again") from None
        again = " (resumed where it stopped)" if resumed else ""
        self.end(step, "done", f"{human(part.size)}{again}; checksum matches")

    def _make_again(self) -> None:
        """The site's copy is gone or not to be trusted: the next attempt starts over."""
        for prepared in self.backup.steps.filter(action=BackupAction.PREPARE, state="done"):
            prepared.data = {**prepared.data, "gone": True}
            prepared.save(update_fields=["data"])
        shutil.rmtree(work_dir(self.backup), ignore_errors=True)
        with contextlib.suppress(connectors.ConnectorError):
            self.site.backup_finish(self.backup.key)

    def store(self, step: BackupStep) -> None:
        backup = self.backup
        repo = repository()
        tag = f"cd-{backup.key}"
        # After an attempt that died while storing, the snapshot may be there already.
        tried = backup.steps.filter(action=BackupAction.STORE).exclude(pk=step.pk).exists()
        found = repo.find(tag) if tried else None
        if found is not None:
            stored = restic.Stored(found, None)
        else:
            folder = work_dir(backup)
            for kind in backup.parts:
                path = folder / PART_FILES[kind]
                if not path.exists() or path.stat().st_size != site_part(backup, kind).size:
                    raise runs.StepFailed(
                        f"the downloaded {kind} is gone from {folder}; a retry downloads it again"
                    )
            stored = repo.backup(
                folder,
                host=host_for(backup.site),
                tags=["caredesk", f"site-{backup.site_id}", tag],
                at=backup.taken_at,
            )
        if not stored.snapshot.paths:
            raise restic.ResticError(f"snapshot {stored.snapshot.short_id} names no folder")
        backup.snapshot_id = stored.snapshot.id
        backup.snapshot_path = stored.snapshot.paths[0]
        backup.stored_at = clock.now()
        backup.stored_new_bytes = stored.new_bytes
        backup.save()
        shutil.rmtree(work_dir(backup), ignore_errors=True)
        if stored.new_bytes is None:
            detail = f"snapshot {stored.snapshot.short_id} was already in the repository"
        else:
            detail = (
                f"snapshot {stored.snapshot.short_id}: {human(backup.size)} stored, "
                f"{human(stored.new_bytes)} of it new to the repository"
            )
        self.end(step, "done", detail)

    def check(self, step: BackupStep) -> None:
        backup = self.backup
        repo = repository()
        total = backup.size
        read = 0
        for kind in backup.parts:
            part = site_part(backup, kind)
            digest, size = hashlib.sha256(), 0
            with repo.dump(backup.snapshot_id, snapshot_file(backup, kind)) as stream:
                while block := stream.read(transfer.READ):
                    digest.update(block)
                    size += len(block)
                    self.progress(step, read + size, total, f"read back {human(read + size)}")
            if size != part.size or digest.hexdigest() != part.sha256:
                raise runs.StepFailed(
                    f"the repository gives back a {kind} that differs from what the site sent "
                    f"({human(size)}, checksum {digest.hexdigest()[:12]}…)"
                )
            read += size
        names = " and ".join(PART_FILES[kind] for kind in backup.parts)
        detail = f"{names} read back from the repository: checksums match"
        if Part.DATABASE not in backup.parts:
            self._verified(True, detail)  # no dump to test-load: reading back is the proof
        self.end(step, "done", detail, round=backup.verify_round)

    def test_restore(self, step: BackupStep) -> None:
        backup = self.backup
        job_id = f"{backup.key}-v{backup.verify_round}"
        part = site_part(backup, Part.DATABASE)
        job = self.site.restore_start(job_id, "verify", {Part.DATABASE: part})
        have = job.received.get(Part.DATABASE, 0)
        if have < part.size:
            with repository().dump(backup.snapshot_id, snapshot_file(backup, Part.DATABASE)) as s:
                transfer.upload(
                    self.site,
                    job_id,
                    part,
                    s,
                    start=have,
                    chunk=job.chunk,
                    progress=lambda done, total: self.progress(
                        step, done, total, f"uploaded {human(done)} of {human(total)}"
                    ),
                )
        job = drive_site_job(self, step, self.site.restore_step, job_id, backup.site)
        if job.state == "failed":
            raise runs.StepFailed(f"the stored dump did not load on the site: {job.error}")
        counts = (job.result or {}).get("counts") or {}
        if counts != part.tables:
            differ = sorted(set(counts.items()) ^ set(part.tables.items()))
            raise runs.StepFailed(
                f"the site loaded other row counts than the backup counted (first: {differ[0]})"
            )
        with contextlib.suppress(connectors.ConnectorError):
            self.site.restore_finish(job_id)
        rows = sum(counts.values())
        detail = (
            f"the stored dump loaded into the site's database server under a scratch prefix: "
            f"{len(counts)} tables, {rows:,} rows, as counted when it was made"
        )
        self._verified(True, detail)
        self.end(step, "done", detail, round=backup.verify_round)

    def _verified(self, ok: bool, detail: str) -> None:
        self.backup.verified = ok
        self.backup.verified_at = clock.now()
        self.backup.verification = detail[:4000]
        self.backup.save(update_fields=["verified", "verified_at", "verification"])

    def retention(self, step: BackupStep) -> None:
        backup = self.backup
        rules = settings_for(backup.site)
        keep_last, keep_monthly = rules.backup_keep_last, rules.backup_keep_monthly
        if not keep_last and not keep_monthly:
            self.end(
                step, "skipped", "retention is off for this site: every backup is kept", stands=True
            )
            return
        repo = repository()
        host = host_for(backup.site)
        present = repo.forget(host=host, keep_last=keep_last, keep_monthly=keep_monthly)
        if backup.snapshot_id not in present:  # the rules always keep the newest: ask again
            present = {snapshot.id for snapshot in repo.snapshots(host=host)}
        removed = (
            Backup.objects.filter(site=backup.site, removed_at=None)
            .exclude(snapshot_id="")
            .exclude(snapshot_id__in=present)
            .update(removed_at=clock.now())
        )
        self.end(
            step,
            "done",
            f"kept the last {keep_last} and each month's last for {keep_monthly} months; "
            f"{removed} older backup(s) removed from the repository",
        )

    # The end ---------------------------------------------------------------------------

    def finished(self, failed: list) -> None:
        backup = self.backup
        now = clock.now()
        with transaction.atomic():
            settings_for(backup.site)  # made if missing
            rules = SiteMaintenance.objects.select_for_update().get(site=backup.site)
            if not failed:
                self.close(JobState.SUCCEEDED)
                taken = backup.taken_at or now
                changes: dict = {}
                if rules.last_backup_at is None or rules.last_backup_at < taken:
                    changes["last_backup_at"] = taken
                if rules.backup_days:
                    due = taken + timedelta(days=rules.backup_days)
                    if rules.next_backup_at is None or rules.next_backup_at < due:
                        changes["next_backup_at"] = due
                if changes:
                    SiteMaintenance.objects.filter(pk=rules.pk).update(**changes)
                every = timedelta(days=rules.backup_days) if rules.backup_days else None
                transaction.on_commit(
                    lambda: signals.backup_succeeded.send_robust(
                        sender=Backup, backup=backup, site=backup.site, every=every
                    )
                )
                return
            summary = runs.describe_failure(failed[0])
            self.close(JobState.FAILED, summary)
            if backup.trigger == BackupTrigger.SCHEDULE and rules.backup_days:
                SiteMaintenance.objects.filter(pk=rules.pk).update(next_backup_at=now + RETRY_AFTER)
            transaction.on_commit(
                lambda: signals.backup_failed.send_robust(
                    sender=Backup,
                    backup=backup,
                    site=backup.site,
                    summary=f"Backup #{backup.pk} of {backup.site}: {summary}",
                )
            )


def drive_site_job(runner: runs.Runner, step, call, job_id: str, site: Site) -> connectors.Job:
    """Call a site job's step route until it is no longer working, showing its progress."""
    seconds = step_seconds(site)
    idle, last = 0, None
    while True:
        job = call(job_id, seconds=seconds, resume=True)
        if job.state != "working":
            return job
        mark = (job.phase, job.done)
        idle = idle + 1 if mark == last else 0
        last = mark
        if idle >= MAX_IDLE_CALLS:
            raise runs.StepFailed("the site keeps saying it is working but gets no further")
        runner.progress(step, job.done, job.total, _site_progress(job))


def _prepare_progress(job: connectors.Job) -> str:
    if job.phase == "database":
        return f"database: {job.done} of {job.total} tables, {job.counters.get('rows', 0):,} rows"
    if job.phase == "files":
        return f"files: {job.done:,} of {job.total:,} ({human(job.counters.get('bytes', 0))})"
    if job.phase == "list":
        return "listing the files"
    return "checksumming"


def _site_progress(job: connectors.Job) -> str:
    labels = {
        "receive": "checking the upload",
        "check": "checking the upload",
        "database": "loading the database",
        "counts": "counting rows",
        "files": "putting back files",
        "prune": "removing files the backup did not have",
        "swap": "swapping in the restored tables",
    }
    label = labels.get(job.phase, job.phase)
    return f"{label}: {human(job.done)} of {human(job.total)}" if job.total else label


def _parts_summary(backup: Backup) -> str:
    said = []
    if backup.database_size is not None:
        rows = sum((backup.database_tables or {}).values())
        said.append(
            f"database: {len(backup.database_tables or {})} tables, {rows:,} rows, "
            f"{human(backup.database_size)}"
        )
    if backup.files_size is not None:
        said.append(f"files: {backup.files_count or 0:,} entries, {human(backup.files_size)}")
    if backup.files_skipped:
        said.append(f"{backup.files_skipped} file(s) could not be read and are left out")
    return "; ".join(said)
