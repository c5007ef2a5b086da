"""Every change to a report: build, edit the intro, hold, release, send, resend.

Each is one transaction with the acting user and a log row. Sending claims
the report with a conditional update *inside* the transaction that queues
its mail in the outbox: the claim, the outbox row and the log row commit
together or not at all, so a run killed at any point and run again sends
each report exactly once, and two runs at once never both send it.
"""

from collections.abc import Callable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from caredesk.clients.access import is_staff
from caredesk.clients.models import Contact, Organisation, Site
from caredesk.lib import clock
from caredesk.mail.models import OutboundEmail

from . import collect, render
from .deliver import queue_report
from .models import EventKind, Report, ReportEvent, ReportImage, ReportState

BATCH = 50  # clients collected together: a few queries per batch, not per client
MAX_INTRO = 4000


def _require_staff(user) -> None:
    # The scheduler and the CLI act as nobody (None); a person must be agency staff.
    if user is not None and not is_staff(user):
        raise PermissionDenied("Only agency staff can change reports.")


def _log(report: Report, kind: str, user, **fields) -> ReportEvent:
    return ReportEvent.objects.create(report=report, kind=kind, actor=user, **fields)


def organisations_for_month(
    organisations: list[int] | None = None, sites: list[int] | None = None
) -> list[int]:
    """The clients to report on: active ones with an active site, or those named (checked)."""
    if sites:
        found = dict(Site.objects.filter(pk__in=sites).values_list("pk", "organisation_id"))
        missing = sorted(set(sites) - set(found))
        if missing:
            raise ValidationError(f"No site with id {', '.join(map(str, missing))}.")
        organisations = sorted(set(organisations or []) | set(found.values()))
    if organisations:
        known = set(Organisation.objects.filter(pk__in=organisations).values_list("pk", flat=True))
        missing = sorted(set(organisations) - known)
        if missing:
            raise ValidationError(f"No client with id {', '.join(map(str, missing))}.")
        return sorted(set(organisations))
    return list(
        Organisation.objects.filter(is_active=True, sites__is_active=True)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _render(report: Report) -> None:
    """Archive the email HTML, the PDF and the chart images from the stored facts."""
    report.html = render.email_html(report)
    report.pdf = render.pdf(report)
    ReportImage.objects.filter(report=report).delete()
    ReportImage.objects.bulk_create(
        ReportImage(report=report, content_id=cid, filename=f"{cid}.png", png=image)
        for cid, image in render.chart_pngs(report.facts).items()
    )


def do_build_reports(
    year: int,
    month: int,
    *,
    organisations: list[int] | None = None,
    sites: list[int] | None = None,
    acting_user=None,
    progress: Callable[[str], None] | None = None,
) -> list[Report]:
    """Collect and render each client's report for a month; sent reports are kept as sent.

    A report already sent is the archive of what the client received: it is
    not rebuilt (a resend sends it as it was).
    """
    _require_staff(acting_user)
    say = progress or (lambda text: None)
    ids = organisations_for_month(organisations, sites)
    first = date(year, month, 1)
    sent = set(
        Report.objects.filter(
            organisation_id__in=ids, month=first, state=ReportState.SENT
        ).values_list("organisation_id", flat=True)
    )
    todo = [pk for pk in ids if pk not in sent]
    say(f"{len(ids)} client(s); {len(sent)} already sent, {len(todo)} to build")
    built: list[Report] = []
    done_sites = 0
    for index in range(0, len(todo), BATCH):
        batch = todo[index : index + BATCH]
        facts = collect.collect(batch, year, month)
        for org_id in batch:
            built.append(_store(org_id, first, facts[org_id], acting_user))
            done_sites += len(facts[org_id]["sites"])
        say(f"built {len(built)}/{len(todo)} report(s), {done_sites} site(s)")
    return built


@transaction.atomic
def _store(org_id: int, first: date, facts: dict, user) -> Report:
    report, _ = Report.objects.select_for_update().get_or_create(
        organisation_id=org_id, month=first
    )
    if report.state == ReportState.SENT:
        return report  # sent meanwhile by another run: the archive stays as it went out
    report.facts = facts
    report.built_at = clock.now()
    _render(report)
    report.save()
    _log(report, EventKind.BUILT, user, note=f"{len(facts['sites'])} site(s)")
    return report


@transaction.atomic
def do_set_intro(report: Report, intro: str, *, acting_user) -> Report:
    """Change the personal note at the top; the archive is rendered again from the same facts."""
    _require_staff(acting_user)
    intro = intro.strip()
    if len(intro) > MAX_INTRO:
        raise ValidationError(f"The intro note is limited to {MAX_INTRO} characters.")
    report = Report.objects.select_for_update().get(pk=report.pk)
    report.intro = intro
    _render(report)
    report.save()
    _log(report, EventKind.INTRO, acting_user)
    return report


@transaction.atomic
def do_hold(report: Report, *, acting_user, reason: str = "") -> Report:
    _require_staff(acting_user)
    if report.state == ReportState.SENT:
        raise ValidationError("This report has been sent already; there is nothing to hold.")
    if Report.objects.filter(pk=report.pk, held=False).update(held=True):
        _log(report, EventKind.HELD, acting_user, note=reason[:300])
    report.refresh_from_db()
    return report


@transaction.atomic
def do_release(report: Report, *, acting_user) -> Report:
    _require_staff(acting_user)
    if Report.objects.filter(pk=report.pk, held=True).update(held=False):
        _log(report, EventKind.RELEASED, acting_user)
    report.refresh_from_db()
    return report


def recipients(organisation_id: int) -> list[str]:
    """The client's report recipients, as the contacts say today."""
    return sorted(
        Contact.objects.filter(
            organisation_id=organisation_id,
            organisation__is_active=True,
            is_active=True,
            is_report_recipient=True,
        ).values_list("email", flat=True)
    )


@transaction.atomic
def do_send(report: Report, *, acting_user=None) -> OutboundEmail | None:
    """Send a built report once: None when it is held, sent already, or has nobody to go to."""
    _require_staff(acting_user)
    to = recipients(report.organisation_id)
    if not to:
        return None
    claimed = Report.objects.filter(pk=report.pk, state=ReportState.DRAFT, held=False).update(
        state=ReportState.SENT, sent_at=clock.now()
    )
    if claimed != 1:
        return None  # held, or another run sent it first
    report.refresh_from_db()
    email = queue_report(report, to)
    _log(report, EventKind.SENT, acting_user, recipients=to, email=email)
    return email


@transaction.atomic
def do_resend(report: Report, *, acting_user, to: list[str] | None = None) -> OutboundEmail:
    """Send the archived report again (to its recipients, or to the addresses given)."""
    _require_staff(acting_user)
    report = Report.objects.select_for_update().get(pk=report.pk)
    if not report.pdf:
        raise ValidationError("This report has not been built yet.")
    to = to or recipients(report.organisation_id)
    if not to:
        raise ValidationError(f"{report.organisation} has no report recipients.")
    email = queue_report(report, to)
    if report.state != ReportState.SENT:
        report.state, report.sent_at = ReportState.SENT, clock.now()
        report.save(update_fields=["state", "sent_at"])
    _log(report, EventKind.RESENT, acting_user, recipients=to, email=email)
    return email


def send_month(
    year: int,
    month: int,
    *,
    acting_user=None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Send every built, unheld, unsent report of a month; each in its own transaction."""
    say = progress or (lambda text: None)
    first = date(year, month, 1)
    pending = list(
        Report.objects.filter(month=first, state=ReportState.DRAFT)
        .select_related("organisation")
        .order_by("organisation__name", "pk")
    )
    counts = {"sent": 0, "held": 0, "no_recipients": 0, "skipped": 0}
    for index, report in enumerate(pending, start=1):
        if report.held:
            counts["held"] += 1
        elif do_send(report, acting_user=acting_user) is not None:
            counts["sent"] += 1
        elif not recipients(report.organisation_id):
            counts["no_recipients"] += 1
        else:
            counts["skipped"] += 1
        say(f"{index}/{len(pending)} {report.organisation.name}")
    return counts
