"""The backup pages of the admin: lists, "back up now", restore asked on its own page with
a confirmation and the ticket's number, retries, steps with their progress."""

import pytest
from django.urls import reverse

from caredesk.maintenance import actions, backups
from caredesk.maintenance.models import Backup, BackupRestore, BackupTrigger, JobState

from .helpers import connected_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(org_a, companion):
    return connected_site(org_a, companion.url)


@pytest.fixture
def stored(site):
    return Backup.objects.create(
        site=site,
        trigger=BackupTrigger.SCHEDULE,
        state=JobState.SUCCEEDED,
        snapshot_id="a" * 64,
        snapshot_path="/work/x",
        database_size=1000,
        database_sha256="b" * 64,
        files_size=9000,
        files_sha256="c" * 64,
        verified=True,
    )


@pytest.mark.parametrize("model", ["backup", "backuprestore"])
def test_the_lists_and_pages_load(client, admin_user, stored, model):
    BackupRestore.objects.create(backup=stored, target=stored.site, state=JobState.FAILED)
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:maintenance_{model}_changelist")).status_code == 200
    obj = stored if model == "backup" else BackupRestore.objects.get()
    page = client.get(reverse(f"admin:maintenance_{model}_change", args=[obj.pk]))
    assert page.status_code == 200


def test_an_agent_sees_backups_and_a_running_steps_progress(client, staff, site, companion):
    backup = actions.do_request_backup(site, queue=False)
    runner = backups.BackupRunner(backup)
    runner.plan()
    step = backup.steps.first()
    step.state = "running"
    step.save()
    runner.progress(step, 250, 1000, "files: 250 of 1,000")
    client.force_login(staff)
    page = client.get(reverse("admin:maintenance_backup_change", args=[backup.pk])).content.decode()
    assert "files: 250 of 1,000" in page and "25 %" in page
    backup.refresh_from_db()
    assert backup.state == JobState.QUEUED  # not claimed: the list shows no step yet
    Backup.objects.filter(pk=backup.pk).update(state=JobState.RUNNING)
    listing = client.get(reverse("admin:maintenance_backup_changelist")).content.decode()
    assert "Site makes the backup (25 %)" in listing


def test_back_up_now_queues_a_backup_of_each_chosen_site(client, admin_user, site):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:maintenance_maintainedsite_changelist"),
        {"action": "back_up_now", "_selected_action": [site.pk]},
        follow=True,
    )
    backup = Backup.objects.get()
    assert (backup.trigger, backup.requested_by, backup.state) == ("manual", admin_user, "queued")
    assert f"backup #{backup.pk} queued" in response.content.decode()


def test_restore_action_leads_to_the_restore_page_with_the_backup_chosen(
    client, admin_user, stored
):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:maintenance_backup_changelist"),
        {"action": "restore", "_selected_action": [stored.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("admin:maintenance_backuprestore_add") + f"?backup={stored.pk}"
    )
    page = client.get(response["Location"]).content.decode()
    assert f'<option value="{stored.pk}" selected>' in page


def test_a_restore_needs_the_confirmation_and_takes_the_ticket_number(client, admin_user, stored):
    client.force_login(admin_user)
    url = reverse("admin:maintenance_backuprestore_add")
    form = {"backup": stored.pk, "parts": ["database", "files"], "ticket_number": "1042"}
    refused = client.post(url, form)
    assert refused.status_code == 200 and not BackupRestore.objects.exists()

    done = client.post(url, {**form, "confirm": "on", "safety_backup": "on"})

    assert done.status_code == 302, done.content.decode()[:3000]
    restore = BackupRestore.objects.get()
    assert (restore.target, restore.ticket_number, restore.requested_by) == (
        stored.site,
        1042,
        admin_user,
    )
    assert restore.safety_backup and restore.state == JobState.QUEUED


def test_a_restore_to_another_clients_site_is_refused_on_the_form(
    client, admin_user, stored, org_b, companion
):
    other = connected_site(org_b, companion.url, name="Beta")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:maintenance_backuprestore_add"),
        {"backup": stored.pk, "target": other.pk, "parts": ["database"], "confirm": "on"},
    )
    assert "A backup can only go to a site of the same client." in response.content.decode()
    assert not BackupRestore.objects.exists()


def test_retrying_a_backup_that_did_not_fail_is_refused_with_a_message(client, admin_user, stored):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:maintenance_backup_changelist"),
        {"action": "retry", "_selected_action": [stored.pk]},
        follow=True,
    )
    assert "Only a failed backup" in response.content.decode()


def test_verify_again_queues_a_new_round(client, admin_user, stored):
    client.force_login(admin_user)
    client.post(
        reverse("admin:maintenance_backup_changelist"),
        {"action": "verify_again", "_selected_action": [stored.pk]},
    )
    stored.refresh_from_db()
    assert (stored.state, stored.verify_round) == (JobState.QUEUED, 2)
