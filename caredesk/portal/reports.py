"""A client's archive of monthly reports: each as it was sent, to read here or as its PDF.

Reports load through ``reports.access.reports_for``: the managers and report
recipients of the client see its sent reports; nobody else sees any, and a
draft never shows.
"""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from caredesk.reports import render as rendering
from caredesk.reports.access import may_see_reports, reports_for

from .common import client_only


@require_GET
@client_only
def report_list(request):
    if not may_see_reports(request.contact):
        raise Http404("No such page")
    reports = reports_for(request.user).select_related("organisation").order_by("-month")[:60]
    return render(request, "portal/reports.html", {"reports": reports})


@require_GET
@client_only
def report_view(request, pk: int):
    report = reports_for(request.user).select_related("organisation").filter(pk=pk).first()
    if report is None or not report.facts:
        raise Http404("No such report")
    context = rendering.context(report, rendering.PDF)
    return render(request, "portal/report.html", context)
