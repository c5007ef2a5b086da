"""`caredesk maintenance backup / backups / restore`: progress printed, clear errors."""

import pytest
from django.core.management import CommandError, call_command

from caredesk.maintenance.models import Backup, BackupRestore, JobState

from .helpers import connected_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(org_a, companion):
    return connected_site(org_a, companion.url)


def test_backup_prints_each_step_and_the_outcome(site, companion, restic_repo, capsys):
    call_command("maintenance", "backup", "--site", str(site.pk))

    out = capsys.readouterr().out
    assert "Site makes the backup: Done — database: 3 tables, 124 rows" in out
    assert "Download the files: Done — 600.0 KB; checksum matches" in out
    assert "Read back and compare: Done" in out
    assert out.rstrip().endswith("verified")
    assert Backup.objects.get().state == JobState.SUCCEEDED


def test_a_failed_backup_fails_the_command_and_retry_finishes_it(
    site, companion, restic_repo, capsys
):
    companion.fail_backup = "Cannot write the database dump."
    with pytest.raises(CommandError, match="1 backup"):
        call_command("maintenance", "backup", "--site", str(site.pk))
    assert "the site could not make the backup: Cannot write" in capsys.readouterr().out

    companion.fail_backup = ""
    backup = Backup.objects.get()
    call_command("maintenance", "backup", "--retry", str(backup.pk))
    assert "Succeeded" in capsys.readouterr().out


def test_due_backups_and_the_list(site, companion, restic_repo, capsys):
    call_command("maintenance", "backup", "--due")
    assert "1 due site(s) backed up" in capsys.readouterr().out
    call_command("maintenance", "backups", "--site", str(site.pk))
    listing = capsys.readouterr().out
    assert "Schedule  Succeeded  750.0 KB  verified" in listing


def test_restore_prints_its_steps(site, companion, restic_repo, capsys):
    call_command("maintenance", "backup", "--site", str(site.pk), "--only", "database")
    backup = Backup.objects.get()
    call_command("maintenance", "restore", str(backup.pk), "--no-safety-backup", "--ticket", "7")
    out = capsys.readouterr().out
    assert "Upload the database: Done — 150.0 KB uploaded" in out
    assert "Restore on the site: Done — database: 3 tables, 124 rows swapped in" in out
    assert BackupRestore.objects.get().ticket_number == 7


def test_command_errors_are_clear(site, org_a, companion):
    with pytest.raises(CommandError, match="--site, or say --due"):
        call_command("maintenance", "backup")
    with pytest.raises(CommandError, match="no backup #99"):
        call_command("maintenance", "restore", "99")
    with pytest.raises(CommandError, match="name the backup"):
        call_command("maintenance", "restore")
    backup = Backup.objects.create(site=site, trigger="manual", state=JobState.FAILED)
    with pytest.raises(CommandError, match="not in the repository"):
        call_command("maintenance", "restore", str(backup.pk))
    with pytest.raises(CommandError, match="own site"):
        call_command("maintenance", "restore", str(backup.pk), "--to-staging", str(site.pk))
