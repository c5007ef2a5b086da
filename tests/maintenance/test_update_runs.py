"""Update runs against a site that plays the companion protocol: core updates and their roll
back from the full backup, extra health checks, runs whose worker died."""

from datetime import timedelta

import pytest
import time_machine

from caredesk.lib import clock
from caredesk.maintenance import actions, backups, health, updates
from caredesk.maintenance.connectors import Inventory, Item, ItemRef
from caredesk.maintenance.models import (
    Backup,
    BackupRestore,
    JobState,
    RunState,
    StepAction,
    StepState,
    UpdateRun,
)
from caredesk.maintenance.sites import settings_for

from .helpers import connected_site

pytestmark = pytest.mark.django_db

CORE = ItemRef("core", "wordpress")
AKISMET = ItemRef("plugin", "akismet")


@pytest.fixture
def site(org_a, companion):
    site = connected_site(org_a, companion.url)
    settings = settings_for(site)
    settings.backup_before_updates = False  # core forces a full backup all the same
    settings.save()
    return site


@pytest.fixture
def verdicts():
    """A health check whose answers the test lines up (then it passes)."""
    answers: list[bool] = []

    def check(site):
        ok = answers.pop(0) if answers else True
        return health.Health(ok, "test check: " + ("well" if ok else "broken"))

    health.register("test", check)
    yield answers
    health.unregister("test")


def steps_of(run) -> list[tuple[str, str, str]]:
    return [(s.action, s.item_slug, s.state) for s in run.steps.order_by("position")]


def run_of(site, items, **kwargs) -> UpdateRun:
    run = actions.do_request_update_run(site, items=items, **kwargs)
    updates.execute(run.pk)
    run.refresh_from_db()
    return run


def test_a_core_update_backs_up_the_items_without_core_and_takes_a_full_backup(
    site, companion, restic_repo, verdicts
):
    run = run_of(site, [CORE, AKISMET])

    assert run.state == RunState.SUCCEEDED, run.error
    assert steps_of(run) == [
        (StepAction.BACKUP, "", StepState.DONE),
        (StepAction.FULL_BACKUP, "", StepState.DONE),
        (StepAction.UPDATE, "wordpress", StepState.DONE),
        (StepAction.UPDATE, "akismet", StepState.DONE),
        (StepAction.HEALTH, "", StepState.DONE),
        (StepAction.INVENTORY, "", StepState.DONE),
    ]
    [item_backup] = [payload for route, payload in companion.calls if route == "/backup"]
    assert item_backup["items"] == [{"kind": "plugin", "slug": "akismet"}]
    assert item_backup["database"] is True
    full = run.steps.get(action=StepAction.FULL_BACKUP)
    assert Backup.objects.get(pk=full.data["backup"]).update_run == run


def test_a_core_run_does_not_lean_on_an_older_backup(site, restic_repo, verdicts):
    older = backups.execute(actions.do_request_backup(site, queue=False).pk)
    assert older.state == JobState.SUCCEEDED

    run = run_of(site, [CORE])

    full = run.steps.get(action=StepAction.FULL_BACKUP)
    assert full.data["backup"] != older.pk
    assert "none taken" not in full.detail


def test_a_plugin_only_run_keeps_the_settings_choice(site, companion, restic_repo):
    run = run_of(site, [AKISMET])
    assert [a for a, _, _ in steps_of(run)] == [
        StepAction.BACKUP,
        StepAction.UPDATE,
        StepAction.HEALTH,
        StepAction.INVENTORY,
    ]


def test_a_failed_core_update_is_rolled_back_by_restoring_the_full_backup(
    site, companion, restic_repo, verdicts, staff
):
    verdicts.append(False)  # broken after the updates, well after the roll back

    run = run_of(site, [CORE, AKISMET], acting_user=staff)

    assert run.state == RunState.ROLLED_BACK
    assert steps_of(run) == [
        (StepAction.BACKUP, "", StepState.DONE),
        (StepAction.FULL_BACKUP, "", StepState.DONE),
        (StepAction.UPDATE, "wordpress", StepState.DONE),
        (StepAction.UPDATE, "akismet", StepState.DONE),
        (StepAction.HEALTH, "", StepState.FAILED),
        # One roll back for all: the full backup puts back core and the plugin.
        (StepAction.ROLLBACK, "wordpress", StepState.DONE),
        (StepAction.HEALTH, "", StepState.DONE),
        (StepAction.INVENTORY, "", StepState.DONE),
    ]
    rollback = run.steps.get(action=StepAction.ROLLBACK)
    restore = BackupRestore.objects.get(pk=rollback.data["restore"])
    full = run.steps.get(action=StepAction.FULL_BACKUP)
    assert restore.backup_id == full.data["backup"]
    assert (restore.target, restore.safety_backup, restore.parts) == (
        site,
        False,
        ["database", "files"],
    )
    assert restore.requested_by == staff
    assert restore.key in companion.uploaded  # the parts went to the site
    assert "files and database were restored from the full backup" in run.error


def test_retrying_a_rolled_back_core_run_updates_every_item_again(
    site, companion, restic_repo, verdicts
):
    verdicts.append(False)
    run = run_of(site, [CORE, AKISMET])
    assert run.state == RunState.ROLLED_BACK

    actions.do_retry_update_run(run)
    updates.execute(run.pk)
    run.refresh_from_db()

    assert run.state == RunState.SUCCEEDED, run.error
    second = [(s.action, s.item_slug) for s in run.steps.filter(attempt=2).order_by("position")]
    # The full backup of an hour ago or less still stands; both items are updated again.
    assert second == [
        (StepAction.UPDATE, "wordpress"),
        (StepAction.UPDATE, "akismet"),
        (StepAction.HEALTH, ""),
        (StepAction.INVENTORY, ""),
    ]


def test_a_core_retry_hours_later_takes_a_new_full_backup(site, restic_repo, verdicts):
    verdicts.append(False)
    run = run_of(site, [CORE])
    with time_machine.travel(clock.now() + timedelta(hours=3), tick=False):
        actions.do_retry_update_run(run)
        updates.execute(run.pk)
    run.refresh_from_db()
    assert run.steps.filter(attempt=2).first().action == StepAction.FULL_BACKUP


def test_when_the_full_backup_fails_core_is_not_touched(site, companion, restic_repo):
    companion.fail_backup = "disk full"

    run = run_of(site, [CORE])

    assert run.state == RunState.FAILED
    assert steps_of(run)[:3] == [
        (StepAction.BACKUP, "", StepState.DONE),
        (StepAction.FULL_BACKUP, "", StepState.FAILED),
        (StepAction.UPDATE, "wordpress", StepState.SKIPPED),
    ]
    assert not any(route == "/update" for route, _ in companion.calls)


def test_a_core_roll_back_without_a_full_backup_fails_loudly(site, companion):
    run = actions.do_request_update_run(site, items=[CORE])
    updates.claim(run.pk)
    run.refresh_from_db()
    step = run.steps.create(
        position=1, attempt=1, action=StepAction.ROLLBACK, item_kind="core", item_slug="wordpress"
    )

    updates._do(run, step)

    step.refresh_from_db()
    assert step.state == StepState.FAILED
    assert "no full backup" in step.detail


# ---- health checks registered by other apps ---------------------------------------------


def test_a_registered_check_that_fails_fails_the_health_step(site, verdicts):
    verdicts.append(False)
    verdict = health.check(site)
    assert not verdict.ok
    assert verdict.detail.startswith("test check: broken; ")
    assert "answered 200" in verdict.detail


def test_a_check_that_raises_is_noted_and_does_not_decide(site):
    def broken(site):
        raise RuntimeError("bug")

    health.register("broken", broken)
    try:
        verdict = health.check(site)
    finally:
        health.unregister("broken")
    assert verdict.ok
    assert "broken: not checked (RuntimeError)" in verdict.detail


def test_a_check_with_nothing_to_say_is_left_out(site):
    health.register("silent", lambda site: None)
    try:
        verdict = health.check(site)
    finally:
        health.unregister("silent")
    assert verdict.ok and ";" not in verdict.detail


# ---- runs whose worker died ---------------------------------------------------------------


def _abandoned_run(site) -> UpdateRun:
    """A run whose worker did the item backup, started the update, and died."""
    run = actions.do_request_update_run(site, items=[AKISMET])
    claimed = updates.claim(run.pk)
    updates.plan(claimed)
    assert updates.advance(claimed)  # the item backup
    step = claimed.steps.get(action=StepAction.UPDATE)
    step.state = StepState.RUNNING
    step.started_at = clock.now()
    step.save()
    return claimed


def test_a_run_whose_worker_died_is_queued_again_and_finishes(
    site, companion, django_capture_on_commit_callbacks
):
    run = _abandoned_run(site)
    assert updates.reclaim_stale() == []  # alive a moment ago

    with time_machine.travel(clock.now() + updates.stale_after() + timedelta(minutes=1)):
        with django_capture_on_commit_callbacks(execute=False) as queued:
            assert updates.reclaim_stale() == [run.pk]
        run.refresh_from_db()
        assert (run.state, run.claimed_at) == (RunState.QUEUED, None)
        interrupted = run.steps.get(action=StepAction.UPDATE, attempt=1)
        assert (interrupted.state, interrupted.detail) == (
            StepState.FAILED,
            "interrupted: its worker stopped",
        )
        assert len(queued) == 1
        assert updates.reclaim_stale() == []  # once

        updates.execute(run.pk)

    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    second = [(s.action, s.state) for s in run.steps.filter(attempt=2).order_by("position")]
    # The item backup stands; the interrupted update is done again (WordPress answers
    # "current" if it had finished), then the health check.
    assert second == [
        (StepAction.UPDATE, StepState.DONE),
        (StepAction.HEALTH, StepState.DONE),
        (StepAction.INVENTORY, StepState.DONE),
    ]
    assert [r for r, _ in companion.calls].count("/backup") == 1


def test_a_full_backup_in_progress_keeps_the_run_alive(site, monkeypatch):
    run = _abandoned_run(site)
    with time_machine.travel(clock.now() + updates.stale_after() + timedelta(minutes=1)):
        updates.beat(run)  # what the backup's progress reports do
        assert updates.reclaim_stale() == []


def test_staff_can_retry_a_run_whose_worker_died(site, companion):
    run = _abandoned_run(site)
    with time_machine.travel(clock.now() + updates.stale_after() + timedelta(minutes=1)):
        actions.do_retry_update_run(run)
        run.refresh_from_db()
        assert run.state == RunState.QUEUED


def test_a_live_running_run_cannot_be_retried(site, companion):
    from django.core.exceptions import ValidationError

    run = _abandoned_run(site)
    with pytest.raises(ValidationError, match="Only a failed run"):
        actions.do_retry_update_run(run)


def test_how_long_a_silent_run_lives_is_a_setting(site, companion, settings):
    settings.CAREDESK_UPDATE_RUN_STALE_MINUTES = 90
    run = _abandoned_run(site)
    with time_machine.travel(clock.now() + timedelta(minutes=60)):
        assert updates.reclaim_stale() == []
    with time_machine.travel(clock.now() + timedelta(minutes=91)):
        assert updates.reclaim_stale() == [run.pk]


def test_core_cannot_be_asked_of_a_site_without_the_companion_plugin(site):
    from django.core.exceptions import ValidationError

    from caredesk.clients.models import Connection

    site.connection = Connection.WP_CLI_SSH
    site.save()
    with pytest.raises(ValidationError, match="only on sites connected with the companion"):
        actions.do_request_update_run(site, items=[CORE])
    # "Everything with an update" leaves core out there.
    items = [
        Item("core", "wordpress", "WordPress", "6.4.2", True, "6.4.3"),
        Item("plugin", "akismet", "Akismet", "5.3", True, "5.3.1"),
    ]
    actions.do_record_inventory(site, Inventory("6.4.2", "8.2", items))
    run = actions.do_request_update_run(site)
    updates.plan(updates.claim(run.pk))
    run.refresh_from_db()
    assert run.items == [{"kind": "plugin", "slug": "akismet"}]
