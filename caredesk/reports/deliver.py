"""A report's mail: queued in the outbox (logged, retried), with its PDF and pictures attached.

The outbox stores text and HTML only. A report's mail is marked with a
header naming the report, and :mod:`caredesk.reports.mailbackend` attaches
the archived PDF, the chart PNGs and the logo (by Content-ID) at the moment
the worker sends it, every attempt alike; the header itself never leaves.
"""

from django.db import transaction

from caredesk.mail.models import OutboundEmail
from caredesk.mail.outbound import queue

from . import render
from .models import Report

REPORT_HEADER = "X-Caredesk-Report"


@transaction.atomic(savepoint=False)
def queue_report(report: Report, to: list[str]) -> OutboundEmail:
    context = render.context(report, render.EMAIL)
    email = queue(
        kind="report",
        to=to,
        subject=render.subject(report),
        template="report_monthly",
        context=context,
    )
    email.headers = {**email.headers, REPORT_HEADER: str(report.pk)}
    OutboundEmail.objects.filter(pk=email.pk).update(headers=email.headers)
    return email
