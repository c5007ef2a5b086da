"""WordPress maintenance to tickets (failed updates and backups, serious findings, restores)
and the site's monitors as part of the health check after updates."""

from decimal import Decimal

import pytest

from caredesk.alerts import upkeep
from caredesk.lib import clock
from caredesk.maintenance import actions, health, signals, updates
from caredesk.maintenance.connectors import ItemRef
from caredesk.maintenance.models import (
    Backup,
    BackupRestore,
    BackupTrigger,
    JobState,
    RunState,
    StepAction,
    TicketLink,
    UpdateRun,
)
from caredesk.maintenance.scan.found import Found
from caredesk.maintenance.sites import settings_for
from caredesk.monitoring.models import Monitor
from caredesk.plans.models import WorkCategory
from caredesk.tickets.actions import do_change_status
from caredesk.tickets.models import Channel, MessageKind, Status, Ticket
from tests.maintenance.conftest import companion  # noqa: F401 - a fixture used here
from tests.maintenance.helpers import connected_site
from tests.maintenance.scan_site import ScanSite

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a block as if it committed: the maintenance signals fire."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def notes(ticket) -> list[str]:
    return list(
        ticket.messages.filter(kind=MessageKind.INTERNAL_NOTE)
        .order_by("pk")
        .values_list("body", flat=True)
    )


# ---- failed update runs --------------------------------------------------------------------


@pytest.fixture
def wp(org_a, kijo, companion):  # noqa: F811
    site = connected_site(org_a, companion.url)
    settings = settings_for(site)
    settings.backup_before_updates = False
    settings.save()
    return site


@pytest.fixture
def broken_after_updates():
    answers = [False]
    health.register("test", lambda site: health.Health(answers.pop(0) if answers else True, "t"))
    yield answers
    health.unregister("test")


def test_a_failed_update_run_opens_a_ticket_saying_what_failed_and_what_was_rolled_back(
    wp, committed, broken_after_updates
):
    # The fake site cannot put the plugin back (it has no /restore): the worst case.
    run = actions.do_request_update_run(wp, items=[ItemRef("plugin", "akismet")], reason="by hand")
    with committed():
        updates.execute(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.FAILED

    ticket = Ticket.objects.get()
    assert ticket.subject == "Update failed, needs a person: Alpha WordPress"
    assert (ticket.organisation, ticket.site, ticket.channel) == (
        wp.organisation,
        wp,
        Channel.MONITOR,
    )
    assert ticket.category == WorkCategory.objects.filter(code="maintenance").first()
    assert ticket.priority.is_critical
    body = ticket.messages.first().body
    assert f"Update run #{run.pk} on Alpha WordPress" in body
    assert "Requested: by hand." in body
    assert "What failed:\n- Health check: failed — t; " in body
    assert "Updates:\n- Update akismet (5.3 → 5.3.1): done — updated" in body
    assert "Rolled back:\n- Roll back akismet: failed" in body
    assert "needs a person now" in body
    [note] = notes(ticket)
    assert note.startswith("Update run: http") and note.endswith(f"/updaterun/{run.pk}/change/")
    assert TicketLink.objects.get().topic == f"update-run:{run.pk}"

    # The retry fails too: a note on the open ticket, no second ticket.
    broken_after_updates.append(False)
    actions.do_retry_update_run(run)
    with committed():
        updates.execute(run.pk)
    assert Ticket.objects.count() == 1
    assert notes(ticket)[-1].startswith("Attempt 2 failed too: Update run")


def test_a_rolled_back_run_opens_a_ticket_at_the_maintenance_priority(wp):
    run = UpdateRun.objects.create(
        site=wp, items=[], state=RunState.ROLLED_BACK, attempt=1, reason="auto: security release"
    )
    steps = [
        (StepAction.UPDATE, "done"),
        (StepAction.HEALTH, "failed"),
        (StepAction.ROLLBACK, "done"),
    ]
    for position, (action, state) in enumerate(steps, start=1):
        item = action != StepAction.HEALTH
        run.steps.create(
            position=position,
            attempt=1,
            action=action,
            state=state,
            item_kind="plugin" if item else "",
            item_slug="akismet" if item else "",
            from_version="5.3" if action == StepAction.UPDATE else "",
            to_version="5.3.1" if action == StepAction.UPDATE else "",
        )
    signals.update_failed.send(
        sender=UpdateRun,
        run=run,
        site=wp,
        rolled_back=True,
        failed_steps=list(run.steps.filter(state="failed")),
        summary="health check failed",
    )

    ticket = Ticket.objects.get()
    assert ticket.subject == "Updates rolled back: Alpha WordPress"
    assert ticket.priority == upkeep.priority_for(wp, urgent=False)
    assert not ticket.priority.is_critical
    body = ticket.messages.first().body
    assert "Rolled back:\n- Roll back akismet: done" in body
    assert "the site runs what it did before" in body


def test_a_solved_ticket_does_not_swallow_a_new_failure(wp):
    run = UpdateRun.objects.create(site=wp, items=[], state=RunState.FAILED, attempt=1)
    send = lambda: signals.update_failed.send(  # noqa: E731
        sender=UpdateRun, run=run, site=wp, rolled_back=True, failed_steps=[], summary="x"
    )
    send()
    first = Ticket.objects.get()
    do_change_status(first, Status.SOLVED, acting_user=upkeep.maintenance_user())
    send()
    assert Ticket.objects.count() == 2


# ---- findings -------------------------------------------------------------------------------


def scan(site, *found):
    return actions.do_record_scan(
        site, list(found), started_at=clock.now(), snapshot=None, checks_done=[], notes=[]
    )


def vuln(severity="high", score="8.8"):
    return Found(
        key="vuln:abc:plugin:caredesk-test",
        category="vulnerability",
        severity=severity,
        title="caredesk test plugin <= 1.0.0 - SQL Injection",
        detail="caredesk test plugin 1.0.0 is affected.",
        advice="Update caredesk test plugin to 1.0.1 or later.",
        item_kind="plugin",
        item_slug="caredesk-test",
        installed_version="1.0.0",
        fixed_in="1.0.1",
        cvss_score=Decimal(score),
    )


def test_a_new_high_finding_opens_one_ticket_per_key_not_again_while_open(site_a, kijo, committed):
    with committed():
        scan(site_a, vuln())
    ticket = Ticket.objects.get()
    assert ticket.subject.startswith("Security (high): caredesk test plugin <= 1.0.0")
    body = ticket.messages.first().body
    assert "Severity: High (CVSS 8.8)" in body
    assert "Installed: caredesk-test 1.0.0\nFixed in: 1.0.1" in body
    assert "What to do: Update caredesk test plugin to 1.0.1 or later." in body
    assert ticket.priority == upkeep.priority_for(site_a, urgent=False)

    with committed():
        scan(site_a, vuln())  # still there: not new, no signal
        scan(site_a)  # gone
        scan(site_a, vuln())  # back while the ticket is open: a note
    assert Ticket.objects.count() == 1
    assert "found this again" in notes(ticket)[-1]

    do_change_status(ticket, Status.SOLVED, acting_user=upkeep.maintenance_user())
    with committed():
        scan(site_a)
        scan(site_a, vuln())
    assert Ticket.objects.count() == 2


def test_a_critical_finding_gets_the_critical_priority_and_a_medium_one_no_ticket(
    site_a, kijo, committed
):
    with committed():
        scan(site_a, Found(key="tls:none", category="tls", severity="medium", title="No HTTPS"))
    assert Ticket.objects.count() == 0
    with committed():
        scan(site_a, vuln("critical", "9.8"))
    assert Ticket.objects.get().priority.is_critical


# ---- backups and restores ------------------------------------------------------------------


def failed_backup(site, trigger=BackupTrigger.SCHEDULE, error="prepare failed: disk full"):
    backup = Backup.objects.create(
        site=site, trigger=trigger, state=JobState.FAILED, error=error, attempt=1
    )
    signals.backup_failed.send(sender=Backup, backup=backup, site=site, summary=error)
    return backup


def test_a_failed_scheduled_backup_opens_a_ticket_and_further_failures_add_notes(site_a, kijo):
    first = failed_backup(site_a)
    ticket = Ticket.objects.get()
    assert ticket.subject == "Backup failed: Alpha shop"
    assert f"backup #{first.pk} of Alpha shop" in ticket.messages.first().body
    assert "tried again after 6 hours" in ticket.messages.first().body

    second = failed_backup(site_a, error="download failed: timeout")
    assert Ticket.objects.count() == 1
    assert notes(ticket)[-1].startswith(f"Backup #{second.pk} (attempt 1) failed too: download")


@pytest.mark.parametrize("trigger", [BackupTrigger.UPDATE_RUN, BackupTrigger.RESTORE])
def test_backups_for_an_update_run_or_a_restore_leave_it_to_their_run(site_a, trigger):
    failed_backup(site_a, trigger)
    assert Ticket.objects.count() == 0


def restoration_ticket(organisation, site):
    from caredesk.tickets.actions import do_create_ticket

    return do_create_ticket(
        subject="Please restore last week's site",
        body="Something went wrong.",
        channel=Channel.PORTAL,
        organisation=organisation,
        site=site,
        requester_email="mia@alpha.example",
    )


def finished_restore(site, ticket_number, ok=True):
    backup = Backup.objects.create(
        site=site, trigger=BackupTrigger.MANUAL, state=JobState.SUCCEEDED
    )
    restore = BackupRestore.objects.create(
        backup=backup,
        target=site,
        ticket_number=ticket_number,
        state=JobState.SUCCEEDED if ok else JobState.FAILED,
        attempt=1,
    )
    restore.steps.create(position=1, attempt=1, action="apply", state="done", detail="db swapped")
    signals.restore_finished.send(
        sender=BackupRestore,
        restore=restore,
        site=site,
        ok=ok,
        ticket_number=ticket_number,
        summary=f"Restore #{restore.pk}: done",
    )
    return restore


def test_a_finished_restore_notes_its_outcome_on_its_ticket(site_a):
    ticket = restoration_ticket(site_a.organisation, site_a)

    restore = finished_restore(site_a, ticket.number)

    [note] = notes(ticket)
    assert note.startswith(f"Restored. Restore #{restore.pk}: done")
    assert "- Restore on the site: done — db swapped" in note
    assert note.endswith(f"/admin/maintenance/backuprestore/{restore.pk}/change/")


def test_a_failed_restore_says_so(site_a):
    ticket = restoration_ticket(site_a.organisation, site_a)
    finished_restore(site_a, ticket.number, ok=False)
    assert notes(ticket)[0].startswith("The restore FAILED.")


def test_a_restore_naming_another_clients_ticket_notes_nothing(site_a, site_b):
    theirs = restoration_ticket(site_b.organisation, site_b)
    finished_restore(site_a, theirs.number)
    finished_restore(site_a, 99_999_999)  # no such ticket
    finished_restore(site_a, None)
    assert notes(theirs) == []


# ---- the monitors in the health check ----------------------------------------------------


@pytest.fixture
def web():
    server = ScanSite().start()
    server.route("/", body=b"<html><body><h1>Alpha shop</h1> Welcome</body></html>")
    yield server
    server.stop()


@pytest.fixture
def site_with_monitor(org_a, web):
    site = connected_site(org_a, web.url)
    monitor = Monitor.objects.get(site=site)
    monitor.allow_private = True
    monitor.keyword = "Welcome"
    monitor.save()
    Monitor.objects.filter(pk=monitor.pk).update(state="up")
    return site, monitor


def test_an_up_monitor_whose_keyword_is_there_passes(site_with_monitor):
    site, _ = site_with_monitor
    verdict = health.check(site)
    assert verdict.ok, verdict.detail
    assert "1 HTTP monitor(s) answered as expected" in verdict.detail


def test_an_up_monitor_whose_keyword_is_gone_fails_the_health_check(site_with_monitor, web):
    site, monitor = site_with_monitor
    web.route("/", body=b"<html><body><h1>Alpha shop</h1> Maintenance mode</body></html>")

    verdict = health.check(site)

    assert not verdict.ok
    assert verdict.detail.startswith(f"monitor {monitor}: 'Welcome' is missing from the page")
    assert "answered 200" in verdict.detail  # the site's own page was fine


def test_an_up_monitor_with_an_unexpected_status_fails(site_with_monitor, web):
    site, monitor = site_with_monitor
    monitor.url = web.url + "shop"
    monitor.save()
    verdict = health.check(site)
    assert not verdict.ok and "HTTP 404" in verdict.detail


def test_monitors_already_down_or_never_checked_or_disabled_are_left_out(site_with_monitor, web):
    site, monitor = site_with_monitor
    web.route("/", body=b"no keyword here")
    settings = settings_for(site)
    settings.health_keyword = ""
    settings.save()
    for state, enabled in (("down", True), ("unknown", True), ("up", False)):
        Monitor.objects.filter(pk=monitor.pk).update(state=state, enabled=enabled)
        verdict = health.check(site)
        assert verdict.ok and "monitor" not in verdict.detail, (state, enabled)


def test_the_response_time_limit_is_not_judged_after_updates(site_with_monitor):
    site, monitor = site_with_monitor
    monitor.max_response_ms = 1  # nothing answers in 1 ms
    monitor.save()
    assert health.check(site).ok


def test_the_monitors_check_is_registered():
    assert "monitors" in health.registered()
