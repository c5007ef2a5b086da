"""A backup restoration ticket's "Restore a backup" panel: choose, confirm, follow."""

from datetime import timedelta

import pytest
from django.test import Client

from caredesk.clients.models import Connection, Contact, Site
from caredesk.lib import clock
from caredesk.maintenance.models import Backup, BackupRestore, BackupTrigger, JobState

from .conftest import open_ticket

pytestmark = pytest.mark.django_db
HARBOUR = "jo@harbourbakery.example"


def wordpress_site(email: str, name: str, url: str) -> Site:
    organisation = Contact.objects.get(email=email).organisation
    return Site.objects.create(
        organisation=organisation,
        name=name,
        url=url,
        connection=Connection.COMPANION,
        connection_secret="k" * 64,
    )


def stored_backup(site: Site, days_ago: int = 1, **fields) -> Backup:
    taken = clock.now() - timedelta(days=days_ago)
    values = {
        "site": site,
        "trigger": BackupTrigger.SCHEDULE,
        "state": JobState.SUCCEEDED,
        "taken_at": taken,
        "snapshot_id": f"{site.pk:08x}{days_ago:056x}",
        "snapshot_path": "/x",
        "verified": True,
        **fields,
    }
    return Backup.objects.create(**values)


@pytest.fixture
def site(agency):
    return wordpress_site(HARBOUR, "Harbour shop", "https://shop.harbourbakery.example/")


@pytest.fixture
def staging(agency):
    return wordpress_site(HARBOUR, "Harbour staging", "https://staging.harbourbakery.example/")


@pytest.fixture
def backups(site):
    return [stored_backup(site, 1), stored_backup(site, 31)]


@pytest.fixture
def restoration(site, backups):
    return open_ticket(HARBOUR, "Please restore yesterday's site", "backup-restoration", site=site)


def post(desk: Client, ticket, **fields) -> object:
    data = {f"restore-{name}": value for name, value in fields.items()}
    return desk.post(f"/tickets/{ticket.number}/restore", data)


def test_the_panel_offers_the_sites_backups_newest_first(desk, restoration, backups, staging):
    page = desk.get(f"/tickets/{restoration.number}/").content.decode()

    assert "Restore a backup" in page
    newest, older = backups
    assert page.index(f"#{newest.pk} of ") < page.index(f"#{older.pk} of ")
    assert "Harbour shop (this site)" in page
    assert "Harbour staging (staging)" in page
    assert "Back up the target first" in page


@pytest.mark.parametrize("why", ["other category", "no backups", "only removed or failed"])
def test_no_panel_without_a_restoration_or_a_backup_to_restore(desk, site, why):
    category = "bug-fix" if why == "other category" else "backup-restoration"
    if why == "other category":
        stored_backup(site)
    if why == "only removed or failed":
        stored_backup(site, 2, removed_at=clock.now())
        stored_backup(site, 3, state=JobState.FAILED)
        stored_backup(site, 4, snapshot_id="")
    ticket = open_ticket(HARBOUR, "Something", category, site=site)

    page = desk.get(f"/tickets/{ticket.number}/").content.decode()

    assert "Restore a backup" not in page
    response = post(desk, ticket, backup=1, target=site.pk, confirm="on")
    assert BackupRestore.objects.count() == 0
    assert response.status_code == 302


def test_a_confirmed_restore_is_queued_with_the_ticket_number_and_shown(
    desk, omar, restoration, backups, site, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = post(
            desk,
            restoration,
            backup=backups[1].pk,
            target=site.pk,
            safety_backup="on",
            confirm="on",
        )

    assert response.status_code == 302
    restore = BackupRestore.objects.get()
    assert (restore.backup, restore.target, restore.ticket_number) == (
        backups[1],
        site,
        restoration.number,
    )
    assert (restore.safety_backup, restore.requested_by, restore.state) == (
        True,
        omar,
        JobState.QUEUED,
    )
    assert len(queued) == 1  # the worker's task
    page = desk.get(f"/tickets/{restoration.number}/").content.decode()
    assert f"Restore #{restore.pk}</a> of backup #{backups[1].pk} to Harbour shop" in page
    assert f"/admin/maintenance/backuprestore/{restore.pk}/change/" in page
    assert "Queued" in page


def test_a_restore_to_a_staging_copy_without_a_safety_backup(desk, restoration, backups, staging):
    post(desk, restoration, backup=backups[0].pk, target=staging.pk, confirm="on")
    restore = BackupRestore.objects.get()
    assert (restore.target, restore.safety_backup) == (staging, False)


def test_without_the_confirmation_nothing_happens(desk, restoration, backups, site):
    response = post(desk, restoration, backup=backups[0].pk, target=site.pk, safety_backup="on")
    assert response.status_code == 400
    assert "Tick the box to confirm" in response.content.decode()
    assert BackupRestore.objects.count() == 0


def test_another_clients_site_or_backup_cannot_be_chosen(desk, restoration, backups, site):
    theirs = wordpress_site(
        "theo@paperlantern.example", "Lantern", "https://wp.paperlantern.example/"
    )
    their_backup = stored_backup(theirs)

    to_them = post(desk, restoration, backup=backups[0].pk, target=theirs.pk, confirm="on")
    from_them = post(desk, restoration, backup=their_backup.pk, target=site.pk, confirm="on")

    assert to_them.status_code == from_them.status_code == 400
    assert BackupRestore.objects.count() == 0


def test_the_maintenance_rules_are_shown_back(desk, restoration, backups, site):
    post(desk, restoration, backup=backups[0].pk, target=site.pk, confirm="on")
    again = post(desk, restoration, backup=backups[1].pk, target=site.pk, confirm="on")
    assert again.status_code == 400
    assert "already queued or running" in again.content.decode()
    assert BackupRestore.objects.count() == 1


def test_htmx_gets_the_panel_back_out_of_band(desk, restoration, backups, site):
    response = desk.post(
        f"/tickets/{restoration.number}/restore",
        {
            "restore-backup": backups[0].pk,
            "restore-target": site.pk,
            "restore-confirm": "on",
        },
        headers={"HX-Request": "true"},
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert 'id="restore" hx-swap-oob="true"' in text
    assert "queued." in text


def test_the_panel_is_not_for_clients(client_logins, restoration, backups, site):
    for login in client_logins:
        response = login.post(
            f"/tickets/{restoration.number}/restore",
            {"restore-backup": backups[0].pk, "restore-target": site.pk, "restore-confirm": "on"},
        )
        assert response.status_code == 404
    assert BackupRestore.objects.count() == 0


def test_a_running_restore_shows_its_step_and_progress(desk, restoration, backups, site):
    restore = BackupRestore.objects.create(
        backup=backups[0], target=site, ticket_number=restoration.number, state=JobState.RUNNING
    )
    restore.steps.create(
        position=1, attempt=1, action="upload_files", state="running", done=40, total=100
    )

    page = desk.get(f"/tickets/{restoration.number}/").content.decode()

    assert "<strong>Running</strong> · Upload the files (40 %)" in page
