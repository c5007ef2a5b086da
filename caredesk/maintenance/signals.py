"""Signals for what must reach people: a failed update or backup, a serious finding, a restore.

All are sent after the transaction that recorded the fact has committed,
from whichever process ran the job (a worker, a command). Receivers must be
quick (enqueue a task, open a ticket); one that raises is logged and does not
stop the others or the run.

- ``update_failed(sender=UpdateRun, run=UpdateRun, site=Site, rolled_back=bool,
  failed_steps=list[UpdateStep], summary=str)``: an update run ended badly.
  ``rolled_back`` is True when every changed item was put back from the
  backup (the site runs the old versions); False means the site may be left
  half-updated and needs a person now. ``summary`` is one sentence for a
  ticket subject or body.
- ``finding_raised(sender=Finding, finding=Finding, site=Site, scan=ScanRun)``:
  a scan found something of severity high or critical that the previous scan
  of the site did not (a finding still open is not raised again).
- ``backup_failed(sender=Backup, backup=Backup, site=Site, summary=str)``: a
  backup (scheduled, by hand, before updates or before a restore) ended
  without a stored and verified copy; ``backup.error`` says which step failed.
- ``backup_succeeded(sender=Backup, backup=Backup, site=Site, every=timedelta |
  None)``: a backup was stored and verified; ``every`` is the site's backup
  schedule (None when backups are taken only by hand). A receiver above this
  app pings the site's backup heartbeat with it, so a schedule that stops
  running is called late like a client's own cron job.
- ``restore_finished(sender=BackupRestore, restore=BackupRestore, site=Site,
  ok=bool, ticket_number=int | None, summary=str)``: a restore ended, well or
  not; ``site`` is where it was restored (the backup's site or a staging
  copy), ``ticket_number`` the backup restoration ticket it answers, if any.
  The maintenance app cannot touch tickets; a receiver above it can note the
  outcome on that ticket.
"""

from django.dispatch import Signal

update_failed = Signal()
finding_raised = Signal()
backup_failed = Signal()
backup_succeeded = Signal()
restore_finished = Signal()
