"""Signals for what must reach people: a failed update, a serious finding.

Both are sent after the transaction that recorded the fact has committed,
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
"""

from django.dispatch import Signal

update_failed = Signal()
finding_raised = Signal()
