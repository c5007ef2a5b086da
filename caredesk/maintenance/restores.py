"""Restores: a stored backup put back on its site, or on a staging copy of it.

    back up the target first → upload database → upload files → restore on the site
        → health check → remove the uploads → inventory

The parts stream from the repository to the site in checked chunks. On the
site, the dump loads under a scratch table prefix and its rows are counted
before the tables are swapped in with one ``RENAME TABLE``; files are put back
one rename each (unchanged ones are left alone) and files the backup did not
have are removed. The target keeps its own address, connector key and the
connector itself, so a staging copy stays a staging copy and caredesk can
still reach it. The inventory afterwards logs what versions changed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from . import actions, backups, connectors, health, runs, signals, transfer
from .models import BackupRestore, BackupTrigger, JobState, Part, RestoreAction, RestoreStep
from .sites import connector_for


def execute(restore_id: int, report: runs.Report | None = None) -> BackupRestore | None:
    """Claim a queued restore and drive it to its end (what a worker's task does)."""
    restore = runs.claim(BackupRestore, restore_id)
    if restore is None:
        return None
    RestoreRunner(restore, report).execute()
    restore.refresh_from_db()
    return restore


class RestoreRunner(runs.Runner):
    run_field = "restore"
    soft = frozenset({RestoreAction.CLEAN_SITE, RestoreAction.INVENTORY})

    def __init__(self, restore: BackupRestore, report: runs.Report | None = None) -> None:
        super().__init__(restore, report)
        self.restore = restore
        self.backup = restore.backup
        self._connector: connectors.Connector | None = None

    @property
    def site(self) -> connectors.Connector:
        if self._connector is None:
            self._connector = connector_for(self.restore.target)
        return self._connector

    def wanted(self) -> list[str]:
        wanted = []
        if self.restore.safety_backup:
            wanted.append(RestoreAction.SAFETY_BACKUP.value)
        if Part.DATABASE in self.restore.parts:
            wanted.append(RestoreAction.UPLOAD_DATABASE)
        if Part.FILES in self.restore.parts:
            wanted.append(RestoreAction.UPLOAD_FILES)
        return [
            *wanted,
            RestoreAction.APPLY,
            RestoreAction.HEALTH,
            RestoreAction.CLEAN_SITE,
            RestoreAction.INVENTORY,
        ]

    def stands(self, step) -> bool:
        if step.action in (RestoreAction.UPLOAD_DATABASE, RestoreAction.UPLOAD_FILES):
            return super().stands(step) and not step.data.get("gone")
        return super().stands(step)

    def do(self, step: RestoreStep) -> None:
        action = step.action
        if action == RestoreAction.SAFETY_BACKUP:
            self.safety_backup(step)
        elif action == RestoreAction.UPLOAD_DATABASE:
            self.upload(step, Part.DATABASE)
        elif action == RestoreAction.UPLOAD_FILES:
            self.upload(step, Part.FILES)
        elif action == RestoreAction.APPLY:
            self.apply(step)
        elif action == RestoreAction.HEALTH:
            verdict = health.check(self.restore.target)
            if not verdict.ok:
                raise runs.StepFailed(f"restored, but the site is not well: {verdict.detail}")
            self.end(step, "done", verdict.detail)
        elif action == RestoreAction.CLEAN_SITE:
            self.site.restore_finish(self.restore.key)
            self.end(step, "done", "the uploaded parts are deleted from the site")
        elif action == RestoreAction.INVENTORY:
            snapshot = actions.take_inventory(
                self.restore.target, acting_user=self.restore.requested_by
            )
            self.end(step, "done", f"{snapshot.log_entries.count()} change(s) logged")

    def safety_backup(self, step: RestoreStep) -> None:
        restore = self.restore
        try:
            backup = backups.inline(
                restore.target,
                trigger=BackupTrigger.RESTORE,
                acting_user=restore.requested_by,
                previous=restore.safety,
                report=self.report,
            )
        except ValidationError as error:
            raise runs.StepFailed(f"{' '.join(error.messages)} Nothing was restored.") from None
        if restore.safety_id != backup.pk:
            restore.safety = backup
            restore.save(update_fields=["safety"])
        if backup.state != JobState.SUCCEEDED:
            raise runs.StepFailed(
                f"backup #{backup.pk} of the target failed ({backup.error}); nothing was restored"
            )
        self.end(step, "done", f"backup #{backup.pk}: {human_size(backup)}")

    def _parts(self) -> dict[str, connectors.SitePart]:
        return {kind: backups.site_part(self.backup, kind) for kind in self.restore.parts}

    def upload(self, step: RestoreStep, kind: str) -> None:
        part = backups.site_part(self.backup, kind)
        job = self.site.restore_start(self.restore.key, "restore", self._parts())
        have = job.received.get(kind, 0)
        if have >= part.size:
            self.end(step, "done", f"{backups.human(part.size)} already on the site")
            return
        with backups.repository().dump(
            self.backup.snapshot_id, backups.snapshot_file(self.backup, kind)
        ) as stream:
            transfer.upload(
                self.site,
                self.restore.key,
                part,
                stream,
                start=have,
                chunk=job.chunk,
                progress=lambda done, total: self.progress(
                    step, done, total, f"{backups.human(done)} of {backups.human(total)}"
                ),
            )
        again = f" (resumed at {backups.human(have)})" if have else ""
        self.end(step, "done", f"{backups.human(part.size)} uploaded{again}")

    def apply(self, step: RestoreStep) -> None:
        try:
            job = backups.drive_site_job(
                self, step, self.site.restore_step, self.restore.key, self.restore.target
            )
        except connectors.JobGone:
            for uploaded in self.restore.steps.filter(
                action__in=[RestoreAction.UPLOAD_DATABASE, RestoreAction.UPLOAD_FILES]
            ):
                uploaded.data = {**uploaded.data, "gone": True}
                uploaded.save(update_fields=["data"])
            raise runs.StepFailed(
                "the site no longer has the uploaded parts (it deletes them a week after their "
                "last use); a retry uploads them again"
            ) from None
        if job.state == "failed":
            raise runs.StepFailed(f"the site could not restore: {job.error}")
        result = job.result or {}
        said = []
        if Part.DATABASE in self.restore.parts:
            said.append(
                f"database: {result.get('tables', 0)} tables, {result.get('rows', 0):,} rows "
                "swapped in"
            )
        if Part.FILES in self.restore.parts:
            said.append(
                f"files: {result.get('files') or 0:,} entries put back, "
                f"{result.get('removed') or 0} the backup did not have removed"
            )
        self.end(step, "done", "; ".join(said))

    def finished(self, failed: list) -> None:
        restore = self.restore
        summary = runs.describe_failure(failed[0]) if failed else ""
        with transaction.atomic():
            self.close(JobState.FAILED if failed else JobState.SUCCEEDED, summary)
            where = "a staging copy" if restore.to_staging else "the site"
            said = (
                f"Restore #{restore.pk} of backup #{restore.backup_id} to {where} "
                f"({restore.target}): " + (summary or "done")
            )
            transaction.on_commit(
                lambda: signals.restore_finished.send_robust(
                    sender=BackupRestore,
                    restore=restore,
                    site=restore.target,
                    ok=not failed,
                    ticket_number=restore.ticket_number,
                    summary=said,
                )
            )


def human_size(backup) -> str:
    return backups.human(backup.size)
