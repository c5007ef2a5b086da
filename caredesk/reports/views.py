"""The staff preview of a report, and the archived PDF for whoever may see it.

Both load through :func:`caredesk.reports.access.reports_for`: a report the
user may not see answers 404, exactly like one that does not exist.
"""

from functools import wraps
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from caredesk.clients.access import is_staff

from . import render as rendering
from .access import reports_for
from .actions import recipients
from .models import Report


def _sign_in(request):
    query = urlencode({"next": request.get_full_path()})
    for name in ("portal:sign_in", "desk:login"):
        try:
            return redirect(f"{reverse(name)}?{query}")
        except NoReverseMatch:
            continue
    raise Http404("No such report")


def signed_in(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _sign_in(request)
        return view(request, *args, **kwargs)

    return wrapped


def _report(user, pk: int) -> Report:
    report = reports_for(user).select_related("organisation").filter(pk=pk).first()
    if report is None:
        raise Http404("No such report")
    return report


@require_GET
@signed_in
def preview(request, pk: int):
    """The report as its recipients will read it, with each figure linked to its records."""
    if not is_staff(request.user):
        raise Http404("No such page")
    report = _report(request.user, pk)
    if not report.facts:
        raise Http404("This report has not been built yet")
    context = rendering.preview_context(report)
    context.update(
        {
            "recipients": recipients(report.organisation_id),
            "events": report.events.select_related("actor", "email"),
            "admin_url": reverse("admin:reports_report_change", args=[report.pk]),
        }
    )
    return render(request, "reports/preview.html", context)


@require_GET
@signed_in
def download(request, pk: int):
    """The archived PDF: exactly what was attached to the email."""
    report = _report(request.user, pk)
    if not report.pdf:
        raise Http404("This report has not been built yet")
    response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
