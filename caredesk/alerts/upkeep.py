"""From WordPress maintenance to tickets, and from monitors to the health check after updates.

The maintenance app (layer 3) cannot touch tickets or monitors; it sends
signals and lets higher layers add health checks. This module is that bridge:

- a failed update run (rolled back or not) opens a ticket for the site's
  organisation saying what failed and what was rolled back; the same run
  failing again on a retry adds a note to that ticket while it is open;
- a new high or critical finding opens a ticket, one per finding key: while
  that ticket is open the same finding only adds a note;
- a finished restore with a ticket number adds an internal note with the
  outcome to that ticket (the backup restoration ticket it answers);
- a failed backup (scheduled or by hand) opens a ticket, one open per site: a
  ticket, not an alert email, because it is work for someone and needs an owner
  and an SLA, and repeated failures (a scheduled backup is tried three times)
  add notes to it instead of filling inboxes. Backups made before an update run
  or a restore are left out: that run's own outcome says it;
- a verified backup pings the site's "backup" heartbeat (made on the first
  scheduled backup, expecting one every scheduled period, a day's grace): a
  schedule that stops running, or keeps failing, is called late and then
  down like a client's own cron job. Backups by hand ping it only once the
  site has one;
- after updates and restores, the site's enabled HTTP monitors that are up are
  each asked once with their expectations (status, keyword; not their
  response-time limit: a site is slow right after an update while its caches
  refill). A monitor already down, or not checked yet, is left out.

Tickets are opened by the "WordPress maintenance" staff account, on the
machine channel (``monitor``), without mail to a requester; links for staff
go in an internal note, so the first message reads well in the client portal.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.dispatch import receiver

from caredesk.accounts.models import Role, User
from caredesk.clients.models import Site
from caredesk.lib import clock, netguard
from caredesk.maintenance import actions as maintenance
from caredesk.maintenance import health, signals
from caredesk.maintenance.models import (
    Backup,
    BackupRestore,
    BackupTrigger,
    Finding,
    StepAction,
    StepState,
    UpdateRun,
)
from caredesk.monitoring import heartbeats
from caredesk.monitoring.engine import net
from caredesk.monitoring.engine.checks import run_check
from caredesk.monitoring.models import Kind, Monitor
from caredesk.monitoring.state import State
from caredesk.monitoring.store import SPEC_FIELDS, spec_from_row
from caredesk.plans.models import WorkCategory, active_subscription, policy_for
from caredesk.sla.models import Priority, choose_priority
from caredesk.tickets.actions import do_add_note, do_create_ticket
from caredesk.tickets.models import OPEN_STATUSES, Channel, Ticket

logger = logging.getLogger(__name__)

EMAIL = "wordpress-maintenance@caredesk.invalid"
NAME = "WordPress maintenance"
CATEGORY = "maintenance"


def maintenance_user() -> User:
    """The staff account these tickets and notes are written as (nobody signs in as it)."""
    user, _ = User.objects.get_or_create(
        email=EMAIL,
        defaults={"full_name": NAME, "role": Role.AGENT, "password": make_password(None)},
    )
    return user


def admin_url(model: str, pk: int) -> str:
    return f"{settings.CAREDESK_BASE_URL}/admin/maintenance/{model}/{pk}/change/"


def priority_for(site: Site, *, urgent: bool) -> Priority | None:
    """The policy's priority for maintenance work; its most urgent critical one if urgent."""
    policy = policy_for(active_subscription(site.organisation_id, clock.now().date()))
    if policy is None:
        return None
    priorities = list(policy.priorities.order_by("rank"))
    if urgent:
        critical = next((p for p in priorities if p.is_critical), None)
        if critical is not None:
            return critical
    return choose_priority(priorities, CATEGORY)


def open_ticket(site: Site, topic: str) -> Ticket | None:
    """The open ticket already answering ``topic`` of ``site``, if any."""
    numbers = maintenance.linked_ticket_numbers(site, topic)
    if not numbers:
        return None
    return (
        Ticket.objects.filter(number__in=numbers, status__in=OPEN_STATUSES)
        .order_by("-created_at")
        .first()
    )


def open_or_note(
    site: Site,
    topic: str,
    *,
    subject: str,
    body: str,
    staff_note: str,
    again: str,
    urgent: bool = False,
) -> tuple[Ticket, bool]:
    """A new ticket about ``topic`` (True), or a note on the open one (False)."""
    bot = maintenance_user()
    with transaction.atomic():
        ticket = open_ticket(site, topic)
        if ticket is not None:
            do_add_note(ticket, f"{again}\n\n{staff_note}".strip(), acting_user=bot)
            return ticket, False
        ticket = do_create_ticket(
            subject=subject[:300],
            body=body,
            channel=Channel.MONITOR,
            organisation=site.organisation,
            site=site,
            category=WorkCategory.objects.filter(code=CATEGORY).first(),
            priority=priority_for(site, urgent=urgent),
            requester_name=NAME,
            notify_requester=False,
        )
        maintenance.do_link_ticket(site, topic, ticket.number)
        if staff_note:
            do_add_note(ticket, staff_note, acting_user=bot)
    return ticket, True


# ---- update runs -----------------------------------------------------------------------


def _step_line(step) -> str:
    """``- Update Akismet (5.3 → 5.3.1): done — updated``; backup and restore steps too."""
    slug = getattr(step, "item_slug", "")
    what = f" {step.item_name or slug}" if slug else ""
    to_version = getattr(step, "to_version", "")
    versions = f" ({step.from_version} → {to_version})" if to_version else ""
    return f"- {step.get_action_display()}{what}{versions}: {step.get_state_display().lower()}" + (
        f" — {step.detail}" if step.detail else ""
    )


def describe_run(run: UpdateRun, rolled_back: bool) -> str:
    steps = list(run.steps.filter(attempt=run.attempt).order_by("position"))
    updated = [s for s in steps if s.action == StepAction.UPDATE]
    failed = [s for s in steps if s.state == StepState.FAILED]
    rollbacks = [s for s in steps if s.action == StepAction.ROLLBACK]
    lines = [f"Update run #{run.pk} on {run.site.name} ({run.site.url}) did not succeed."]
    if run.reason:
        lines.append(f"Requested: {run.reason}.")
    lines += ["", "What failed:", *(_step_line(s) for s in failed)]
    if updated:
        lines += ["", "Updates:", *(_step_line(s) for s in updated)]
    if rollbacks:
        lines += ["", "Rolled back:", *(_step_line(s) for s in rollbacks)]
    lines.append("")
    if rolled_back:
        lines.append(
            "Everything the run changed was rolled back: the site runs what it did before."
        )
    else:
        lines.append(
            "Not everything could be rolled back: the site may be half-updated and needs a "
            "person now."
        )
    return "\n".join(lines)


@receiver(signals.update_failed, dispatch_uid="alerts.upkeep.update_failed")
def update_failed(sender, run: UpdateRun, site: Site, rolled_back: bool, summary: str, **kwargs):
    what = "Updates rolled back" if rolled_back else "Update failed, needs a person"
    open_or_note(
        site,
        f"update-run:{run.pk}",
        subject=f"{what}: {site.name}",
        body=describe_run(run, rolled_back),
        staff_note=f"Update run: {admin_url('updaterun', run.pk)}",
        again=f"Attempt {run.attempt} failed too: {summary}",
        urgent=not rolled_back,
    )


# ---- security findings -----------------------------------------------------------------


def describe_finding(finding: Finding) -> str:
    lines = [
        f"The security scan of {finding.site.name} ({finding.site.url}) on "
        f"{finding.scan.started_at:%d %b %Y} found: {finding.title}",
        "",
        f"Severity: {finding.get_severity_display()}"
        + (f" (CVSS {finding.cvss_score})" if finding.cvss_score is not None else ""),
    ]
    if finding.installed_version:
        lines.append(f"Installed: {finding.item_slug} {finding.installed_version}")
    if finding.fixed_in:
        lines.append(f"Fixed in: {finding.fixed_in}")
    if finding.detail:
        lines += ["", finding.detail]
    if finding.advice:
        lines += ["", f"What to do: {finding.advice}"]
    return "\n".join(lines)


@receiver(signals.finding_raised, dispatch_uid="alerts.upkeep.finding_raised")
def finding_raised(sender, finding: Finding, site: Site, scan, **kwargs):
    if finding.severity not in ("high", "critical"):
        return
    open_or_note(
        site,
        f"finding:{finding.key}",
        subject=f"Security ({finding.get_severity_display().lower()}): {finding.title} – "
        f"{site.name}",
        body=describe_finding(finding),
        staff_note=f"Finding: {admin_url('finding', finding.pk)}",
        again=f"The scan of {scan.started_at:%d %b %Y} found this again.",
        urgent=finding.severity == "critical",
    )


# ---- backups and restores --------------------------------------------------------------


@receiver(signals.backup_failed, dispatch_uid="alerts.upkeep.backup_failed")
def backup_failed(sender, backup: Backup, site: Site, summary: str, **kwargs):
    if backup.trigger not in (BackupTrigger.SCHEDULE, BackupTrigger.MANUAL):
        return  # the update run or restore it was for tells its own outcome
    body = (
        f"The {backup.get_trigger_display().lower()} backup #{backup.pk} of {site.name} "
        f"({site.url}) failed: {backup.error or summary}\n\n"
        + (
            "A scheduled backup is tried again after 6 hours, resuming where it stopped."
            if backup.trigger == BackupTrigger.SCHEDULE
            else "Retry it from the backup's page once the cause is fixed."
        )
    )
    open_or_note(
        site,
        "backup-failed",
        subject=f"Backup failed: {site.name}",
        body=body,
        staff_note=f"Backup: {admin_url('backup', backup.pk)}",
        again=f"Backup #{backup.pk} (attempt {backup.attempt}) failed too: "
        f"{backup.error or summary}",
    )


BACKUP_GRACE = timedelta(days=1)  # a failed scheduled backup is tried 3 times, 6 hours apart


@receiver(signals.backup_succeeded, dispatch_uid="alerts.upkeep.backup_succeeded")
def backup_succeeded(sender, backup: Backup, site: Site, every: timedelta | None, **kwargs):
    if every is None and not Monitor.objects.filter(site=site, key=heartbeats.BACKUP).exists():
        return  # backups by hand only: nothing to expect on a schedule
    heartbeats.ping_site(
        site,
        heartbeats.BACKUP,
        at=backup.taken_at,
        agent=f"caredesk backup #{backup.pk}",
        every=every or timedelta(days=30),
        grace=BACKUP_GRACE,
    )


@receiver(signals.restore_finished, dispatch_uid="alerts.upkeep.restore_finished")
def restore_finished(
    sender, restore: BackupRestore, site: Site, ok: bool, ticket_number, summary: str, **kwargs
):
    if not ticket_number:
        return
    ticket = Ticket.objects.filter(number=ticket_number).first()
    if ticket is None or ticket.organisation_id != site.organisation_id:
        # A mistyped number must not put one client's restore on another's ticket.
        logger.warning("restore %s names ticket %s, not its client's", restore.pk, ticket_number)
        return
    steps = "\n".join(_step_line(s) for s in restore.steps.filter(attempt=restore.attempt))
    outcome = "Restored." if ok else "The restore FAILED."
    do_add_note(
        ticket,
        f"{outcome} {summary}\n\n{steps}\n\n{admin_url('backuprestore', restore.pk)}",
        acting_user=maintenance_user(),
    )


# ---- the site's monitors, asked once after updates and restores ------------------------


async def _ask(specs):
    context = net.CheckContext(
        netguard.Resolver(), net.default_ssl_context(), "maintenance", clock.now
    )
    return await asyncio.gather(*(run_check(spec, context) for spec in specs))


def monitors_health(site: Site) -> health.Health | None:
    """Each enabled HTTP monitor of the site that is up, once: its expected status and keyword.

    A monitor already down (or never checked yet) says nothing about what an update
    did, and must not have a good update rolled back.
    """
    monitors = {
        m.pk: m
        for m in Monitor.objects.filter(site=site, enabled=True, kind=Kind.HTTP, state=State.UP)
    }
    if not monitors:
        return None
    rows = Monitor.objects.filter(pk__in=monitors).values(*SPEC_FIELDS)
    specs = [replace(spec_from_row(row), max_response_ms=None) for row in rows]
    outcomes = asyncio.run(_ask(specs))
    failed = [o for o in outcomes if not o.ok]
    if failed:
        return health.Health(
            False,
            "; ".join(f"monitor {monitors[o.monitor_id]}: {o.error}" for o in failed),
        )
    return health.Health(True, f"{len(outcomes)} HTTP monitor(s) answered as expected")


health.register("monitors", monitors_health)
