"""Full backups against a real WordPress on loopback: taken, stored in restic, verified,
restored (to the site and to a staging copy), retried without redoing work, lies caught."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from caredesk.clients.models import Connection, Site
from caredesk.maintenance import actions, backups, facts, restic, restores, runs, signals, updates
from caredesk.maintenance.connectors import ItemRef, http
from caredesk.maintenance.connectors.companion import CompanionConnector
from caredesk.maintenance.models import (
    Backup,
    BackupAction,
    BackupTrigger,
    JobState,
    RestoreAction,
    RunState,
    SiteMaintenance,
    StepAction,
    StepState,
)
from caredesk.maintenance.sites import settings_for

pytestmark = pytest.mark.django_db(transaction=True)

ALL_BACKUP_STEPS = [
    BackupAction.PREPARE,
    BackupAction.DOWNLOAD_DATABASE,
    BackupAction.DOWNLOAD_FILES,
    BackupAction.STORE,
    BackupAction.CLEAN_SITE,
    BackupAction.CHECK,
    BackupAction.TEST_RESTORE,
    BackupAction.RETENTION,
]


def take_backup(site, **kwargs) -> Backup:
    backup = actions.do_request_backup(site, queue=False, **kwargs)
    done = backups.execute(backup.pk)
    assert done is not None
    return done


def steps_of(run) -> list[tuple[str, str]]:
    return [(s.action, s.state) for s in run.steps.order_by("position")]


def site_jobs(wp) -> list[Path]:
    jobs = wp.root / "wp-content" / "caredesk-backups" / "jobs"
    return sorted(jobs.iterdir()) if jobs.exists() else []


def home_page(wp) -> str:
    return http.request("GET", wp.url + "/", allow_private=True, timeout=30).text


@pytest.fixture
def uploads(wp):
    folder = wp.root / "wp-content" / "uploads" / "2026" / "11"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "photo.txt").write_text("a client's photo\n")
    yield folder
    shutil.rmtree(wp.root / "wp-content" / "uploads", ignore_errors=True)


def test_backup_is_taken_stored_verified_and_a_restore_undoes_changes(
    wp, wp_site_row, staff, restic_repo, uploads, settings
):
    backup = take_backup(wp_site_row, acting_user=staff)

    assert backup.state == JobState.SUCCEEDED, backup.error
    assert steps_of(backup) == [(action, StepState.DONE) for action in ALL_BACKUP_STEPS]
    assert backup.verified is True
    assert "wp_posts" in backup.database_tables and backup.database_tables["wp_options"] > 50
    assert backup.files_count > 1000  # the WordPress folder and wp-content
    assert site_jobs(wp) == []  # the site's copy is gone once stored
    assert not Path(settings.CAREDESK_BACKUP_WORK_DIR, backup.key).exists()
    repo = restic.Repository.from_settings()
    [snapshot] = repo.snapshots(host=backups.host_for(wp_site_row))
    assert snapshot.id == backup.snapshot_id and f"cd-{backup.key}" in snapshot.tags
    with repo.dump(backup.snapshot_id, backups.snapshot_file(backup, "database")) as stream:
        dump = stream.read()
    assert hashlib.sha256(dump).hexdigest() == backup.database_sha256
    assert b"Hello world!" in dump
    assert SiteMaintenance.objects.get(site=wp_site_row).last_backup_at == backup.taken_at

    # The client's bad day: a post deleted, the title changed, a photo lost, a file planted.
    wp.sql("DELETE FROM wp_posts WHERE post_title = 'Hello world!'")
    wp.set_option("blogname", "Defaced")
    (uploads / "photo.txt").unlink()
    (uploads / "shell.php").write_text("<?php // planted\n")
    assert "Defaced" in home_page(wp)
    heard = []

    def receiver(**kwargs):
        heard.append(kwargs)

    signals.restore_finished.connect(receiver)
    try:
        restore = actions.do_request_restore(
            backup, acting_user=staff, ticket_number=1042, queue=False
        )
        restore = restores.execute(restore.pk)
    finally:
        signals.restore_finished.disconnect(receiver)

    assert restore.state == JobState.SUCCEEDED, restore.error
    assert steps_of(restore) == [
        (RestoreAction.SAFETY_BACKUP, StepState.DONE),
        (RestoreAction.UPLOAD_DATABASE, StepState.DONE),
        (RestoreAction.UPLOAD_FILES, StepState.DONE),
        (RestoreAction.APPLY, StepState.DONE),
        (RestoreAction.HEALTH, StepState.DONE),
        (RestoreAction.CLEAN_SITE, StepState.DONE),
        (RestoreAction.INVENTORY, StepState.DONE),
    ]
    assert wp.sql("SELECT COUNT(*) FROM wp_posts WHERE post_title = 'Hello world!'") == [[1]]
    assert wp.option("blogname") == "caredesk test site"
    assert (uploads / "photo.txt").read_text() == "a client's photo\n"
    assert not (uploads / "shell.php").exists()
    assert "caredesk test site" in home_page(wp)
    assert site_jobs(wp) == []
    # The site as it was before the restore is kept too, in case it was the wrong backup.
    safety = restore.safety
    assert safety.trigger == BackupTrigger.RESTORE and safety.state == JobState.SUCCEEDED
    assert safety.database_tables["wp_posts"] == backup.database_tables["wp_posts"] - 1
    assert [(h["ok"], h["ticket_number"]) for h in heard] == [(True, 1042)]

    found = facts.backups_in([wp_site_row.pk], backup.created_at, restore.finished_at)
    first = found[wp_site_row.pk][0]
    assert (first.id, first.verified, first.kept, first.stored) == (backup.pk, True, True, True)
    assert [(r.ok, r.ticket_number, r.to_staging) for r in first.restores] == [(True, 1042, False)]
    assert facts.last_good_backups([wp_site_row.pk]) == {wp_site_row.pk: safety.taken_at}


@pytest.fixture
def staging_row(org_a, wordpress_staging) -> Site:
    site = Site.objects.create(
        organisation=org_a,
        name="Alpha staging",
        url=wordpress_staging.url + "/",
        connection=Connection.COMPANION,
        connection_secret=wordpress_staging.key,
    )
    settings = settings_for(site)
    settings.allow_private = True
    settings.health_keyword = "Alpha production"
    settings.save()
    return site


def test_restore_to_a_staging_copy_keeps_its_own_address_and_key(
    wp, wp_site_row, staff, restic_repo, wordpress_staging, staging_row
):
    wp.set_option("blogname", "Alpha production")
    backup = take_backup(wp_site_row, acting_user=staff)
    assert backup.state == JobState.SUCCEEDED, backup.error
    (wordpress_staging.root / "wp-content" / "staging-only.txt").write_text("not in production")

    restore = actions.do_request_restore(
        backup, acting_user=staff, target=staging_row, safety_backup=False, queue=False
    )
    restore = restores.execute(restore.pk)

    assert restore.state == JobState.SUCCEEDED, restore.error
    assert restore.to_staging
    page = home_page(wordpress_staging)  # no redirect to production: its own address stayed
    assert "Alpha production" in page
    assert wordpress_staging.option("siteurl") == wordpress_staging.url
    assert wordpress_staging.option("caredesk_connector_key") == wordpress_staging.key
    # caredesk still reaches it with the staging key: the inventory after the restore ran.
    assert restore.steps.get(action=RestoreAction.INVENTORY).state == StepState.DONE
    assert not (wordpress_staging.root / "wp-content" / "staging-only.txt").exists()
    assert wp.option("blogname") == "Alpha production"  # production untouched
    assert (wordpress_staging.root / "wp-config.php").read_text() != (
        wp.root / "wp-config.php"
    ).read_text()


def test_a_retry_after_a_failure_mid_download_redoes_nothing_finished(
    wp, wp_site_row, restic_repo, monkeypatch, settings
):
    from caredesk.maintenance import connectors, transfer

    monkeypatch.setattr(transfer, "CHUNK", 1024 * 1024)
    calls = []
    download = CompanionConnector.backup_download
    broken = {"on": True}

    def flaky(self, job, part, offset, length):
        calls.append((part, offset, length))
        if broken["on"] and part == "files" and offset >= 3 * 1024 * 1024:
            raise connectors.TimedOut("no whole answer from 127.0.0.1 within 30 s")
        return download(self, job, part, offset, length)

    monkeypatch.setattr(CompanionConnector, "backup_download", flaky)

    backup = take_backup(wp_site_row)

    assert backup.state == JobState.FAILED
    assert "download the files failed: no whole answer" in backup.error
    assert steps_of(backup)[:4] == [
        (BackupAction.PREPARE, StepState.DONE),
        (BackupAction.DOWNLOAD_DATABASE, StepState.DONE),
        (BackupAction.DOWNLOAD_FILES, StepState.FAILED),
        (BackupAction.STORE, StepState.SKIPPED),
    ]
    partial = Path(settings.CAREDESK_BACKUP_WORK_DIR, backup.key, "files.tar")
    assert partial.stat().st_size == 3 * 1024 * 1024

    broken["on"] = False
    calls.clear()
    actions.do_retry_backup(backup, queue=False)
    backup = backups.execute(backup.pk)

    assert backup.state == JobState.SUCCEEDED, backup.error
    second = [s.action for s in backup.steps.filter(attempt=2).order_by("position")]
    assert second == ALL_BACKUP_STEPS[2:]  # no second "make the backup", no database again
    assert {part for part, _, _ in calls} == {"files"}
    assert calls[0][1] == 3 * 1024 * 1024  # it went on from where it stopped
    assert sum(length for _, _, length in calls) == backup.files_size - 3 * 1024 * 1024
    assert (
        "resumed where it stopped"
        in backup.steps.get(attempt=2, action=BackupAction.DOWNLOAD_FILES).detail
    )


def test_a_site_whose_copy_does_not_match_its_checksum_is_caught_then_redone(
    wp, wp_site_row, restic_repo
):
    backup = actions.do_request_backup(wp_site_row, parts=["database"], queue=False)
    claimed = runs.claim(Backup, backup.pk)
    runner = backups.BackupRunner(claimed)
    runner.plan()
    runner.advance()  # the site makes the backup
    [job] = site_jobs(wp)
    dump = job / "database.sql"
    data = bytearray(dump.read_bytes())
    data[-10] ^= 1  # one bit flipped on the site's disk, after it reported the checksum
    dump.write_bytes(bytes(data))
    while runner.advance():
        pass

    backup.refresh_from_db()
    assert backup.state == JobState.FAILED
    assert "differs from the checksum it reported" in backup.error
    assert "a retry has the site make the backup again" in backup.error
    assert site_jobs(wp) == []  # the untrustworthy copy was deleted

    actions.do_retry_backup(backup, queue=False)
    backup = backups.execute(backup.pk)

    assert backup.state == JobState.SUCCEEDED, backup.error
    assert backup.verified is True
    assert [s.action for s in backup.steps.filter(attempt=2).order_by("position")][:2] == [
        BackupAction.PREPARE,
        BackupAction.DOWNLOAD_DATABASE,
    ]


def test_an_update_run_takes_a_verified_full_backup_first_but_not_twice_a_day(
    wp, wp_site_row, staff, restic_repo
):
    SiteMaintenance.objects.filter(site=wp_site_row).update(backup_before_updates=True)
    wp.updates.offer_version("1.1.0")
    actions.take_inventory(wp_site_row, acting_user=staff)
    test_plugin = ItemRef("plugin", "caredesk-test")

    run = actions.do_request_update_run(wp_site_row, acting_user=staff, items=[test_plugin])
    updates.execute(run.pk)

    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert steps_of(run) == [
        (StepAction.BACKUP, StepState.DONE),
        (StepAction.FULL_BACKUP, StepState.DONE),
        (StepAction.UPDATE, StepState.DONE),
        (StepAction.HEALTH, StepState.DONE),
        (StepAction.INVENTORY, StepState.DONE),
    ]
    full = Backup.objects.get(update_run=run)
    assert (full.trigger, full.state, full.verified) == (
        BackupTrigger.UPDATE_RUN,
        JobState.SUCCEEDED,
        True,
    )

    wp.updates.offer_version("1.2.0")
    actions.take_inventory(wp_site_row, acting_user=staff)
    again = actions.do_request_update_run(wp_site_row, acting_user=staff, items=[test_plugin])
    updates.execute(again.pk)

    again.refresh_from_db()
    assert again.state == RunState.SUCCEEDED, again.error
    step = again.steps.get(action=StepAction.FULL_BACKUP)
    assert f"backup #{full.pk} of" in step.detail and "is recent: none taken" in step.detail
    assert Backup.objects.count() == 1
    assert wp.installed_test_version() == "1.2.0"


def test_the_command_backs_up_lists_and_restores_a_real_site(wp, wp_site_row, restic_repo, capsys):
    call_command("maintenance", "backup", "--site", str(wp_site_row.pk), "--only", "database")
    out = capsys.readouterr().out
    backup = Backup.objects.get()
    assert "Site makes the backup: Done — database: 12 tables" in out
    assert "Test restore of the database: Done — the stored dump loaded" in out
    assert f"Backup #{backup.pk} of Alpha WordPress: Succeeded, snapshot " in out
    assert out.rstrip().endswith("verified")

    call_command("maintenance", "backups", "--site", str(wp_site_row.pk))
    assert f"#{backup.pk}  " in capsys.readouterr().out

    wp.set_option("blogname", "Changed by mistake")
    call_command("maintenance", "restore", str(backup.pk), "--no-safety-backup", "--ticket", "1042")
    out = capsys.readouterr().out
    assert "Upload the database: Done" in out
    assert "Restore on the site: Done — database: 12 tables" in out
    assert wp.option("blogname") == "caredesk test site"
    assert backup.restores.get().ticket_number == 1042
    assert json.loads(json.dumps(facts.last_good_backups(), default=str))
