"""Restores against a site that plays the companion protocol: the stored parts streamed to
it, resumed uploads, refusals, outcomes signalled for the backup restoration ticket."""

import pytest
from django.core.exceptions import ValidationError

from caredesk.clients.models import Site
from caredesk.maintenance import actions, backups, restores, signals, transfer
from caredesk.maintenance.models import BackupRestore, JobState, RestoreAction, StepState

from .helpers import connected_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(org_a, companion):
    return connected_site(org_a, companion.url)


@pytest.fixture
def backup(site, restic_repo):
    made = actions.do_request_backup(site, queue=False)
    made = backups.execute(made.pk)
    assert made.state == JobState.SUCCEEDED, made.error
    return made


def restore_of(backup, **kwargs) -> BackupRestore:
    kwargs.setdefault("safety_backup", False)
    restore = actions.do_request_restore(backup, acting_user=None, queue=False, **kwargs)
    return restores.execute(restore.pk)


def test_a_restore_streams_the_stored_parts_to_the_site_and_signals_the_ticket(
    backup, companion, staff, django_capture_on_commit_callbacks
):
    heard = []

    def receiver(**kwargs):
        heard.append(kwargs)

    signals.restore_finished.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            restore = restore_of(backup, ticket_number=1042)
    finally:
        signals.restore_finished.disconnect(receiver)

    assert restore.state == JobState.SUCCEEDED, restore.error
    assert [(s.action, s.state) for s in restore.steps.order_by("position")] == [
        (RestoreAction.UPLOAD_DATABASE, StepState.DONE),
        (RestoreAction.UPLOAD_FILES, StepState.DONE),
        (RestoreAction.APPLY, StepState.DONE),
        (RestoreAction.HEALTH, StepState.DONE),
        (RestoreAction.CLEAN_SITE, StepState.DONE),
        (RestoreAction.INVENTORY, StepState.DONE),
    ]
    [job] = [j for j in companion.uploaded if j == restore.key]
    assert bytes(companion.uploaded[job]["database"]) == companion.data["database"]
    assert bytes(companion.uploaded[job]["files"]) == companion.data["files"]
    apply = restore.steps.get(action=RestoreAction.APPLY)
    assert apply.detail == (
        "database: 3 tables, 124 rows swapped in; files: 42 entries put back, "
        "1 the backup did not have removed"
    )
    assert [(h["ok"], h["ticket_number"], h["site"]) for h in heard] == [(True, 1042, backup.site)]
    assert "Restore #" in heard[0]["summary"] and "to the site" in heard[0]["summary"]


def test_a_failed_upload_resumes_where_the_site_stopped_taking_it(backup, companion, monkeypatch):
    monkeypatch.setattr(transfer, "UPLOAD_MAX", 64 * 1024)
    companion.refuse_upload_after = 3  # the fourth chunk of the files fails, once

    restore = restore_of(backup, parts=["files"])

    assert restore.state == JobState.FAILED
    assert "the site answered HTTP 500: Cannot write the upload" in restore.error
    had = len(companion.uploaded[restore.key]["files"])
    assert had == 3 * 64 * 1024
    sent_before = len([r for r in companion.routes() if r == "/restore/upload"])

    actions.do_retry_restore(restore, queue=False)
    restore = restores.execute(restore.pk)

    assert restore.state == JobState.SUCCEEDED, restore.error
    sent = len([r for r in companion.routes() if r == "/restore/upload"]) - sent_before
    remaining = len(companion.data["files"]) - had
    assert sent == -(-remaining // (64 * 1024))  # only what the site did not have yet
    assert bytes(companion.uploaded[restore.key]["files"]) == companion.data["files"]
    step = restore.steps.get(attempt=2, action=RestoreAction.UPLOAD_FILES)
    assert "resumed at" in step.detail


def test_a_site_that_cannot_restore_says_why_and_nothing_claims_success(backup, companion):
    companion.restore_error = "The database refused a statement for wp_posts: disk full"
    restore = restore_of(backup)
    assert restore.state == JobState.FAILED
    assert restore.error == (
        "restore on the site failed: the site could not restore: "
        "The database refused a statement for wp_posts: disk full"
    )
    assert restore.steps.get(action=RestoreAction.HEALTH).state == StepState.SKIPPED


def test_the_target_is_backed_up_first_unless_asked_not_to(backup, companion):
    restore = restore_of(backup, safety_backup=True)
    assert restore.state == JobState.SUCCEEDED, restore.error
    assert restore.safety.trigger == "restore" and restore.safety.state == JobState.SUCCEEDED
    assert restore.steps.first().action == RestoreAction.SAFETY_BACKUP


def test_a_failed_safety_backup_stops_the_restore_before_anything_is_touched(backup, companion):
    companion.fail_backup = "Cannot write the database dump."
    restore = restore_of(backup, safety_backup=True)
    assert restore.state == JobState.FAILED
    assert "nothing was restored" in restore.error
    assert restore.key not in companion.uploaded


def test_a_backup_goes_only_to_a_connected_site_of_the_same_client(backup, org_a, org_b, companion):
    other_client = connected_site(org_b, companion.url, name="Beta")
    with pytest.raises(ValidationError, match="same client"):
        actions.do_request_restore(backup, acting_user=None, target=other_client)
    plain = Site.objects.create(organisation=org_a, name="Plain", url="https://plain.example/")
    with pytest.raises(ValidationError, match="not connected with the companion plugin"):
        actions.do_request_restore(backup, acting_user=None, target=plain)
    with pytest.raises(ValidationError, match="positive"):
        actions.do_request_restore(backup, acting_user=None, ticket_number=0)


def test_one_restore_at_a_time_per_target(backup):
    actions.do_request_restore(backup, acting_user=None, queue=False)
    with pytest.raises(ValidationError, match="already queued or running"):
        actions.do_request_restore(backup, acting_user=None, queue=False)


def test_a_part_the_backup_lacks_cannot_be_restored(site, companion, restic_repo):
    made = backups.execute(actions.do_request_backup(site, parts=["files"], queue=False).pk)
    with pytest.raises(ValidationError, match="Choose the parts among: files"):
        actions.do_request_restore(made, acting_user=None, parts=["database"])
