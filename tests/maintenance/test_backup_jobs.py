"""Scheduled backups: monthly by default, one site a step, failures resumed, not doubled."""

from datetime import timedelta

import pytest
import time_machine

from caredesk.clients.models import Connection
from caredesk.lib import clock
from caredesk.maintenance import backups, jobs
from caredesk.maintenance.models import Backup, BackupTrigger, JobState, SiteMaintenance

from .helpers import connected_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(org_a, companion):
    return connected_site(org_a, companion.url)


def test_a_site_is_backed_up_then_not_due_for_a_month(site, companion, restic_repo):
    assert jobs.backup_step() is True
    assert jobs.backup_step() is False

    backup = Backup.objects.get()
    assert (backup.trigger, backup.state) == (BackupTrigger.SCHEDULE, JobState.SUCCEEDED)
    settings = SiteMaintenance.objects.get(site=site)
    assert settings.next_backup_at == backup.taken_at + timedelta(days=30)

    with time_machine.travel(clock.now() + timedelta(days=29)):
        assert jobs.take_due_backups() == 0
    with time_machine.travel(clock.now() + timedelta(days=31)):
        assert jobs.take_due_backups() == 1
    assert Backup.objects.filter(state=JobState.SUCCEEDED).count() == 2


def test_a_failed_scheduled_backup_is_resumed_later_not_made_anew(site, companion, restic_repo):
    companion.fail_backup = "Cannot write the database dump."
    assert jobs.take_due_backups() == 1
    failed = Backup.objects.get()
    assert failed.state == JobState.FAILED
    retry_at = SiteMaintenance.objects.get(site=site).next_backup_at
    assert abs(retry_at - (failed.finished_at + backups.RETRY_AFTER)) < timedelta(seconds=5)

    companion.fail_backup = ""
    with time_machine.travel(clock.now() + timedelta(hours=5)):
        assert jobs.take_due_backups() == 0
    with time_machine.travel(clock.now() + timedelta(hours=7)):
        assert jobs.take_due_backups() == 1

    again = Backup.objects.get()
    assert again.pk == failed.pk and again.attempt == 2
    assert again.state == JobState.SUCCEEDED, again.error


def test_switched_off_and_unfit_sites_are_not_due(org_a, companion, fake_site):
    off = connected_site(org_a, companion.url)
    SiteMaintenance.objects.filter(site=off).update(backup_days=0)
    rest = connected_site(org_a, fake_site.url, name="REST only")
    rest.connection = Connection.WP_REST
    rest.save()

    assert jobs.take_due_backups() == 0
    assert companion.calls == [] and fake_site.requests == []


def test_a_site_with_a_backup_running_is_left_to_it(site, companion):
    Backup.objects.create(
        site=site, trigger=BackupTrigger.MANUAL, state=JobState.RUNNING, heartbeat_at=clock.now()
    )
    assert jobs.take_due_backups() == 1  # the site was visited…
    assert Backup.objects.count() == 1  # …and no second backup started
    assert companion.calls == []


def test_a_backup_whose_worker_died_is_taken_over_by_the_schedule(site, companion, restic_repo):
    an_hour_ago = clock.now() - timedelta(hours=1)
    stuck = Backup.objects.create(
        site=site,
        trigger=BackupTrigger.SCHEDULE,
        state=JobState.RUNNING,
        claimed_at=an_hour_ago,
        heartbeat_at=an_hour_ago,
        attempt=1,
    )

    assert jobs.take_due_backups() == 1

    stuck.refresh_from_db()
    assert (stuck.state, stuck.attempt) == (JobState.SUCCEEDED, 2)
    assert Backup.objects.count() == 1
