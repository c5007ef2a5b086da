"""Step by step runs of backups and restores: claimed once, resumable, progress visible.

A run (a :class:`~.models.Backup` or :class:`~.models.BackupRestore`) is a
list of steps. A worker claims the run with a conditional update, appends the
steps of this attempt that do not already stand from an earlier one, and does
them in order; each records its outcome, and long ones their progress (bytes
or files done of the total) at most once a second, which also tells others
the worker is alive. A step that fails skips the rest of the attempt; a retry
appends only what is still to do, so nothing finished is done twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.db.models import F

from caredesk.lib import clock

from . import connectors, restic
from .models import JobState, JobStep, StepRun, StepState

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)  # a running run without a sign of life this long is dead
PROGRESS_EVERY = 1.0  # seconds between progress writes

Report = Callable[[str], None]


class StepFailed(Exception):
    """A step cannot go on; the message is its outcome as staff read it."""


def claim(model: type[StepRun], pk: int) -> StepRun | None:
    """Take a queued run for this process; None if another has it or it is not queued."""
    now = clock.now()
    taken = model.objects.filter(pk=pk, state=JobState.QUEUED, claimed_at=None).update(
        state=JobState.RUNNING, claimed_at=now, heartbeat_at=now, attempt=F("attempt") + 1
    )
    if taken != 1:
        return None
    run = model.objects.get(pk=pk)
    if run.started_at is None:
        run.started_at = now
        run.save(update_fields=["started_at"])
    return run


def is_stale(run: StepRun) -> bool:
    beat = run.heartbeat_at or run.claimed_at
    return run.state == JobState.RUNNING and (beat is None or beat < clock.now() - STALE_AFTER)


@transaction.atomic
def requeue(run: StepRun) -> StepRun:
    """Queue a failed run (or one whose worker died) again; what stands is kept."""
    locked = type(run).objects.select_for_update().get(pk=run.pk)
    if not (locked.state == JobState.FAILED or is_stale(locked)):
        raise ValueError(f"{locked} is {locked.get_state_display().lower()}: it cannot be retried")
    locked.steps.filter(state=StepState.RUNNING).update(
        state=StepState.FAILED, detail="interrupted: its worker stopped", finished_at=clock.now()
    )
    locked.steps.filter(state=StepState.PENDING).update(
        state=StepState.SKIPPED, detail="not started: the run stopped", finished_at=clock.now()
    )
    locked.state = JobState.QUEUED
    locked.claimed_at = None
    locked.finished_at = None
    locked.error = ""
    locked.save(update_fields=["state", "claimed_at", "finished_at", "error"])
    return locked


class Runner:
    """Drives one run; subclasses name the steps they want and say how to do each."""

    run_field = ""  # the steps' foreign key to the run
    soft: frozenset[str] = frozenset()  # steps whose failure is noted, not fatal

    def __init__(self, run: StepRun, report: Report | None = None) -> None:
        self.run = run
        self.report = report or (lambda text: None)
        self._written = 0.0

    # What subclasses say --------------------------------------------------------------

    def wanted(self) -> list[str]:
        raise NotImplementedError

    def do(self, step: JobStep) -> None:
        """Do ``step``, ending it with :meth:`end`; raise :class:`StepFailed` to fail it."""
        raise NotImplementedError

    def finished(self, failed: list[JobStep]) -> None:
        """Record the run's end (``failed`` lists this attempt's failed steps)."""
        raise NotImplementedError

    def stands(self, step: JobStep) -> bool:
        """Whether ``step`` (of any attempt) needs no doing again."""
        return step.state == StepState.DONE or (
            step.state == StepState.SKIPPED and bool(step.data.get("stands"))
        )

    # The machinery ----------------------------------------------------------------------

    def execute(self) -> None:
        self.plan()
        while self.advance():
            pass

    @transaction.atomic
    def plan(self) -> list[JobStep]:
        """Append this attempt's steps: the wanted ones that do not already stand."""
        steps = list(self.run.steps.all())
        standing = {s.action for s in steps if self.stands(s)}
        position = max((s.position for s in steps), default=0)
        added = []
        for action in self.wanted():
            if action in standing:
                continue
            position += 1
            added.append(
                self.run.steps.model(
                    **{self.run_field: self.run},
                    position=position,
                    attempt=self.run.attempt,
                    action=action,
                )
            )
        self.run.steps.model.objects.bulk_create(added)
        return added

    def advance(self) -> bool:
        """Do the next pending step; False once the run is over (and recorded as such)."""
        step = self.run.steps.filter(state=StepState.PENDING).order_by("position").first()
        if step is None:
            self._finish()
            return False
        step.state = StepState.RUNNING
        step.started_at = clock.now()
        step.save(update_fields=["state", "started_at"])
        self._beat()
        try:
            self.do(step)
        except (StepFailed, connectors.ConnectorError, restic.ResticError) as error:
            self._failed(step, str(error))
        except Exception as error:
            # One odd site must not kill the worker or leave the step "running" forever.
            logger.exception("%s step %s failed unexpectedly", self.run, step.pk)
            self._failed(step, f"unexpected error: {type(error).__name__}: {error}")
        if step.state == StepState.RUNNING:
            self.end(step, StepState.DONE, step.detail)
        return True

    def _failed(self, step: JobStep, detail: str) -> None:
        if step.action in self.soft:
            self.end(step, StepState.SKIPPED, f"could not: {detail}", stands=True)
            return
        self.end(step, StepState.FAILED, detail)
        reason = f"not started: step {step.position} ({step.get_action_display()}) failed"
        self.run.steps.filter(state=StepState.PENDING).update(
            state=StepState.SKIPPED, detail=reason, finished_at=clock.now()
        )

    def end(self, step: JobStep, state: str, detail: str, **data) -> None:
        step.state = state
        step.detail = detail[:4000]
        step.finished_at = clock.now()
        step.data = {**step.data, **data}
        if state == StepState.DONE and step.total:
            step.done = step.total
        step.save()
        what = f"  {step.get_action_display()}: {step.get_state_display()}"
        self.report(f"{what} — {step.detail}" if step.detail else what)

    def progress(self, step: JobStep, done: int, total: int, detail: str = "") -> None:
        """Note how far ``step`` got; written (and reported) at most once a second."""
        step.done, step.total = done, total
        if detail:
            step.detail = detail[:4000]
        now = time.monotonic()
        if now - self._written < PROGRESS_EVERY and done < total:
            return
        self._written = now
        step.save(update_fields=["done", "total", "detail"])
        self._beat()
        self.report(f"  {step.get_action_display()}: {detail or f'{done:,} of {total:,}'}")

    def _beat(self) -> None:
        type(self.run).objects.filter(pk=self.run.pk).update(heartbeat_at=clock.now())

    def _finish(self) -> None:
        current = list(self.run.steps.filter(attempt=self.run.attempt).order_by("position"))
        failed = [s for s in current if s.state == StepState.FAILED]
        self.finished(failed)

    def close(self, state: str, error: str = "") -> None:
        """Write the run's end state (in the caller's transaction)."""
        type(self.run).objects.filter(pk=self.run.pk).update(
            state=state, finished_at=clock.now(), error=error, claimed_at=None
        )
        self.run.refresh_from_db()


def describe_failure(step: JobStep) -> str:
    return f"{step.get_action_display().lower()} failed: {step.detail}"
