"""Backups against a site that plays the companion protocol: stored in a real restic
repository, read back, test-restored; hanging, lying and failing sites; retries."""

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from caredesk.lib import clock
from caredesk.maintenance import actions, backups, facts, restic, runs, signals, transfer
from caredesk.maintenance.models import (
    Backup,
    BackupAction,
    BackupTrigger,
    JobState,
    SiteMaintenance,
    StepState,
)

from .helpers import connected_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(org_a, companion):
    return connected_site(org_a, companion.url)


def backup_of(site, **kwargs) -> Backup:
    backup = actions.do_request_backup(site, queue=False, **kwargs)
    return backups.execute(backup.pk)


def steps_of(backup) -> list[tuple[str, str]]:
    return [(s.action, s.state) for s in backup.steps.order_by("position")]


def stored_part(backup, kind) -> bytes:
    repo = restic.Repository.from_settings()
    with repo.dump(backup.snapshot_id, backups.snapshot_file(backup, kind)) as stream:
        return stream.read()


def test_a_backup_is_stored_read_back_and_its_dump_test_restored(
    site, companion, restic_repo, monkeypatch
):
    monkeypatch.setattr(transfer, "CHUNK", 64 * 1024)  # several chunks per part

    backup = backup_of(site)

    assert backup.state == JobState.SUCCEEDED, backup.error
    assert [state for _, state in steps_of(backup)] == [StepState.DONE] * 8
    assert stored_part(backup, "database") == companion.data["database"]
    assert stored_part(backup, "files") == companion.data["files"]
    assert backup.database_tables == companion.tables
    assert (backup.files_count, backup.verified) == (42, True)
    assert "3 tables, 124 rows" in backup.verification
    # The test restore got the dump as the repository gave it back, not the site's copy.
    [verify_job] = [job for job in companion.uploaded if job.endswith("-v1")]
    assert bytes(companion.uploaded[verify_job]["database"]) == companion.data["database"]
    assert companion.jobs == {}  # the site was asked to delete what it kept
    routes = companion.routes()
    assert routes.count("/backup/start") == 1 and routes.count("/backup/finish") == 1
    assert routes.count("/restore/finish") == 1
    settings = SiteMaintenance.objects.get(site=site)
    assert settings.last_backup_at == backup.taken_at
    assert settings.next_backup_at == backup.taken_at + timedelta(days=30)


def test_a_hanging_site_fails_the_backup_with_a_clear_error(
    site, companion, restic_repo, settings, django_capture_on_commit_callbacks
):
    settings.CAREDESK_MAINTENANCE_UPDATE_TIMEOUT = 0.5
    companion.hang = {"/backup/start"}
    heard = []

    def receiver(**kwargs):
        heard.append(kwargs)

    signals.backup_failed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            backup = backup_of(site, trigger=BackupTrigger.SCHEDULE)
    finally:
        signals.backup_failed.disconnect(receiver)

    assert backup.state == JobState.FAILED
    assert backup.error.startswith("site makes the backup failed: no ")
    assert re.search(r"from 127\.0\.0\.1 within 0\.\d+ s$", backup.error), backup.error
    assert steps_of(backup)[1] == (BackupAction.DOWNLOAD_DATABASE, StepState.SKIPPED)
    assert len(heard) == 1 and "Backup #" in heard[0]["summary"]
    retry_at = SiteMaintenance.objects.get(site=site).next_backup_at
    assert retry_at <= clock.now() + backups.RETRY_AFTER


def test_a_site_that_lies_about_a_checksum_is_caught_and_asked_to_start_over(
    site, companion, restic_repo
):
    companion.lie_sha = {"files"}

    backup = backup_of(site)

    assert backup.state == JobState.FAILED
    assert "the files the site sent differs from the checksum it reported" in backup.error
    assert backup.snapshot_id == ""  # nothing untrustworthy was stored
    assert companion.jobs == {}  # its copy was deleted, so a retry makes a new one

    companion.lie_sha = set()
    actions.do_retry_backup(backup, queue=False)
    backup = backups.execute(backup.pk)

    assert backup.state == JobState.SUCCEEDED, backup.error
    assert companion.routes().count("/backup/start") == 2


def test_a_damaged_chunk_is_refused(site, companion, restic_repo):
    companion.damage_chunks = {"database"}
    backup = backup_of(site)
    assert backup.state == JobState.FAILED
    assert "a chunk of the database arrived damaged" in backup.error


def test_a_site_answering_nonsense_is_refused_not_believed(site, companion, restic_repo):
    companion.nonsense = {"/backup/step"}
    backup = backup_of(site)
    assert backup.state == JobState.FAILED
    assert "the site gave a wrong answer at state" in backup.error


def test_a_site_that_never_gets_further_is_given_up_on(site, companion, monkeypatch):
    monkeypatch.setattr(backups, "MAX_IDLE_CALLS", 3)
    companion.never_ready = True
    backup = backup_of(site)
    assert backup.state == JobState.FAILED
    assert "keeps saying it is working but gets no further" in backup.error


def test_a_site_with_an_older_connector_is_told_to_update_it(site, companion):
    companion.missing = {"/backup/start"}
    backup = backup_of(site)
    assert backup.state == JobState.FAILED
    assert "connector cannot take full backups: install or update" in backup.error
    assert "1.1.0 or later" in backup.error


def test_a_site_that_cannot_make_the_backup_says_why(site, companion):
    companion.fail_backup = "Cannot write the database dump (is the disk full?)."
    backup = backup_of(site)
    assert backup.state == JobState.FAILED
    assert "the site could not make the backup: Cannot write the database dump" in backup.error


def test_a_dump_that_loads_other_counts_fails_verification_but_stays_stored(
    site, companion, restic_repo
):
    companion.loaded_counts = {**companion.tables, "wp_posts": 2}

    backup = backup_of(site)

    assert backup.state == JobState.FAILED
    assert backup.snapshot_id and backup.verified is False
    assert "the site loaded other row counts than the backup counted" in backup.verification
    [fact] = facts.backups_in([site.pk], backup.created_at, clock.now())[site.pk]
    assert (fact.stored, fact.verified, fact.failed) == (True, False, True)
    assert facts.last_good_backups([site.pk]) == {}


def test_without_restic_the_error_names_the_debian_package(site, companion, settings):
    settings.CAREDESK_RESTIC_BINARY = "/nowhere/restic"
    backup = backup_of(site)
    assert backup.state == JobState.FAILED
    assert "restic is not installed" in backup.error
    assert "Debian package restic" in backup.error


def test_verifying_again_adds_only_the_checks(site, companion, restic_repo):
    backup = backup_of(site)
    first = backup.verified_at

    actions.do_request_verification(backup, queue=False)
    backup = backups.execute(backup.pk)

    assert backup.state == JobState.SUCCEEDED and backup.verified_at > first
    again = [s.action for s in backup.steps.filter(attempt=2).order_by("position")]
    assert again == [BackupAction.CHECK, BackupAction.TEST_RESTORE]
    assert companion.routes().count("/backup/start") == 1


def test_retention_keeps_the_last_and_each_months_last(site, companion, restic_repo):
    SiteMaintenance.objects.filter(site=site).update(backup_keep_last=1, backup_keep_monthly=2)
    taken = []
    for when in ("2026-08-10", "2026-09-10", "2026-10-05", "2026-10-20"):
        with time_machine.travel(f"{when} 03:00Z"):
            taken.append(backup_of(site, parts=["files"]))
    assert all(b.state == JobState.SUCCEEDED for b in taken)

    kept = [b.pk for b in Backup.objects.filter(removed_at=None).order_by("taken_at")]
    assert kept == [taken[1].pk, taken[3].pk]  # September's, and October's last
    repo = restic.Repository.from_settings()
    assert {s.id for s in repo.snapshots(host=backups.host_for(site))} == {
        taken[1].snapshot_id,
        taken[3].snapshot_id,
    }
    assert "1 older backup(s) removed" in taken[3].steps.get(action="retention").detail
    with pytest.raises(ValidationError, match="retention removed it"):
        actions.do_request_restore(Backup.objects.get(pk=taken[0].pk), acting_user=None)


def test_one_backup_at_a_time_per_site(site):
    actions.do_request_backup(site, queue=False)
    with pytest.raises(ValidationError, match="already queued or running"):
        actions.do_request_backup(site, queue=False)


def test_a_running_backup_is_retried_only_once_its_worker_is_gone(site, companion):
    backup = actions.do_request_backup(site, queue=False)
    claimed = runs.claim(Backup, backup.pk)
    runner = backups.BackupRunner(claimed)
    runner.plan()
    step = claimed.steps.first()
    step.state = StepState.RUNNING
    step.save()

    with pytest.raises(ValidationError, match="Only a failed backup"):
        actions.do_retry_backup(claimed, queue=False)
    with time_machine.travel(clock.now() + timedelta(minutes=20)):
        actions.do_retry_backup(claimed, queue=False)

    step.refresh_from_db()
    assert (step.state, step.detail) == (StepState.FAILED, "interrupted: its worker stopped")
    assert Backup.objects.get(pk=backup.pk).state == JobState.QUEUED


def test_only_companion_sites_are_backed_up(org_a):
    from caredesk.clients.models import Site

    site = Site.objects.create(organisation=org_a, name="Plain", url="https://plain.example/")
    with pytest.raises(ValidationError, match="companion plugin"):
        actions.do_request_backup(site)


def test_stored_bytes_match_what_the_site_reported(site, companion, restic_repo):
    backup = backup_of(site, parts=["database"])
    data = stored_part(backup, "database")
    assert hashlib.sha256(data).hexdigest() == backup.database_sha256
    assert backup.files_size is None and backup.parts == ["database"]


def test_an_update_run_stops_before_updating_if_its_full_backup_fails_then_resumes_it(
    site, companion, restic_repo
):
    from caredesk.maintenance import updates
    from caredesk.maintenance.connectors import ItemRef
    from caredesk.maintenance.models import RunState, StepAction

    companion.fail_backup = "Cannot write the database dump."
    run = actions.do_request_update_run(site, items=[ItemRef("plugin", "akismet")])
    updates.execute(run.pk)

    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert [(s.action, s.state) for s in run.steps.order_by("position")] == [
        (StepAction.BACKUP, StepState.DONE),
        (StepAction.FULL_BACKUP, StepState.FAILED),
        (StepAction.UPDATE, StepState.SKIPPED),
        (StepAction.HEALTH, StepState.SKIPPED),
    ]
    assert "/update" not in companion.routes()  # nothing was changed on the site
    failed = Backup.objects.get(update_run=run)
    assert failed.trigger == BackupTrigger.UPDATE_RUN and failed.state == JobState.FAILED

    companion.fail_backup = ""
    actions.do_retry_update_run(run)
    updates.execute(run.pk)

    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert [s.action for s in run.steps.filter(attempt=2).order_by("position")] == [
        StepAction.FULL_BACKUP,
        StepAction.UPDATE,
        StepAction.HEALTH,
        StepAction.INVENTORY,
    ]
    resumed = Backup.objects.get(update_run=run)  # the same backup, finished: not a second
    assert (resumed.pk, resumed.attempt, resumed.state) == (failed.pk, 2, JobState.SUCCEEDED)
    assert companion.routes().count("/backup") == 1  # the items' backup was not made again


def test_a_verified_scheduled_backup_pings_the_sites_backup_heartbeat(
    site, restic_repo, django_capture_on_commit_callbacks
):
    from caredesk.monitoring.models import HeartbeatPing, Kind, Monitor

    with django_capture_on_commit_callbacks(execute=True):
        backup = backup_of(site, trigger=BackupTrigger.SCHEDULE)

    assert backup.state == JobState.SUCCEEDED, backup.error
    heartbeat = Monitor.objects.get(site=site, key="backup")
    assert heartbeat.kind == Kind.HEARTBEAT
    assert heartbeat.interval_seconds == 30 * 86400  # the site's schedule
    assert heartbeat.grace_seconds == 86400
    [ping] = HeartbeatPing.objects.filter(monitor=heartbeat)
    assert ping.at == backup.taken_at and f"backup #{backup.pk}" in ping.agent
    # Judged late a schedule's period after this backup, down a day later.
    assert heartbeat.next_check_at == backup.taken_at + timedelta(days=30)


def test_a_backup_by_hand_makes_no_heartbeat_where_none_is_scheduled(
    site, restic_repo, django_capture_on_commit_callbacks
):
    from caredesk.monitoring.models import Monitor

    rules = SiteMaintenance.objects.get_or_create(site=site)[0]
    rules.backup_days = 0
    rules.save()
    with django_capture_on_commit_callbacks(execute=True):
        backup = backup_of(site, trigger=BackupTrigger.MANUAL)

    assert backup.state == JobState.SUCCEEDED, backup.error
    assert not Monitor.objects.filter(site=site, key="backup").exists()
