"""Backup facts for the report and a heartbeat monitor: taken, verified, restored, last good."""

from datetime import UTC, datetime, timedelta

import pytest

from caredesk.maintenance import facts
from caredesk.maintenance.models import Backup, BackupRestore, BackupTrigger, JobState

pytestmark = pytest.mark.django_db

NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)


def backup(site, day, **fields) -> Backup:
    at = NOV + timedelta(days=day)
    values = {
        "trigger": BackupTrigger.SCHEDULE,
        "state": JobState.SUCCEEDED,
        "taken_at": at,
        "snapshot_id": f"{day:064x}",
        "database_size": 1000,
        "files_size": 5000,
        "verified": True,
        "verified_at": at,
        **fields,
    }
    made = Backup.objects.create(site=site, **values)
    Backup.objects.filter(pk=made.pk).update(created_at=at)
    made.refresh_from_db()
    return made


def test_a_months_backups_with_their_verification_and_restores(site_a, site_b, staff):
    before = backup(site_a, -5)
    good = backup(site_a, 3)
    unverified = backup(site_a, 10, verified=False, state=JobState.FAILED)
    backup(site_b, 4)
    restore = BackupRestore.objects.create(
        backup=good, target=site_a, state=JobState.SUCCEEDED, ticket_number=1042, requested_by=staff
    )
    BackupRestore.objects.filter(pk=restore.pk).update(created_at=NOV + timedelta(days=12))

    found = facts.backups_in([site_a.pk], NOV, DEC)

    assert [f.id for f in found[site_a.pk]] == [good.pk, unverified.pk]
    first, second = found[site_a.pk]
    assert (first.size, first.verified, first.stored, first.kept) == (6000, True, True, True)
    assert (second.verified, second.failed) == (False, True)
    assert [(r.ok, r.ticket_number, r.to_staging) for r in first.restores] == [(True, 1042, False)]
    assert site_b.pk not in found
    assert before.pk not in [f.id for f in found[site_a.pk]]
    restored = facts.restores_in([site_a.pk], NOV, DEC)[site_a.pk]
    assert [r.id for r in restored] == [restore.pk]


def test_the_last_good_backup_of_each_site(site_a, site_b):
    backup(site_a, 1)
    latest = backup(site_a, 8)
    backup(site_a, 9, verified=False, state=JobState.FAILED)
    backup(site_b, 2, verified=None, state=JobState.RUNNING)

    assert facts.last_good_backups() == {site_a.pk: latest.taken_at}
    assert facts.last_good_backups([site_b.pk]) == {}
