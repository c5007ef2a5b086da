"""Email recorded billing warnings to the client's account manager, each once.

A warning is claimed by a conditional update before it is sent, so two
workers never send the same one; a failed send gives the claim back and the
periodic job tries again.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django_tasks import task

from caredesk.accounts.models import Role, User
from caredesk.lib import clock

from .models import BillingWarning, WarningKind
from .money import hours

logger = logging.getLogger(__name__)
STALE_CLAIM = timedelta(minutes=10)
TEMPLATES = {
    WarningKind.FAIR_USAGE: "billing_fair_usage",
    WarningKind.ALLOWANCE_80: "billing_allowance",
    WarningKind.ALLOWANCE_100: "billing_allowance",
    WarningKind.UNAPPROVED: "billing_unapproved",
}


@task()
def send_billing_warnings() -> int:
    """Send every warning not sent yet; returns how many went out."""
    return send_pending()


def send_pending() -> int:
    now = clock.now()
    pending = BillingWarning.objects.filter(sent_at=None).filter(
        Q(claimed_at=None) | Q(claimed_at__lt=now - STALE_CLAIM)
    )
    sent = 0
    # Oldest first: "80 % used" reaches the manager before "used up".
    for pk in pending.order_by("pk").values_list("pk", flat=True)[:500]:
        claimed = (
            BillingWarning.objects.filter(pk=pk, sent_at=None)
            .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - STALE_CLAIM))
            .update(claimed_at=clock.now())
        )
        if claimed == 1:
            sent += _send(pk)
    return sent


def recipients(warning: BillingWarning) -> list[str]:
    """The account manager; without one, the agency admins (someone must hear of it)."""
    manager = warning.organisation.account_manager
    if manager is not None and manager.is_active:
        return [manager.email]
    return sorted(
        User.objects.filter(role=Role.ADMIN, is_active=True).values_list("email", flat=True)
    )


def context_for(warning: BillingWarning) -> dict:
    data = warning.data
    context = {
        "warning": warning,
        "organisation": warning.organisation,
        "ticket": warning.ticket,
        "data": data,
        "agency_name": settings.CAREDESK_AGENCY_NAME,
        "url": settings.CAREDESK_BASE_URL + "/admin/billing/organisationusage/",
    }
    for name in ("minutes", "cap", "used", "allowance", "estimate_minutes"):
        if data.get(name) is not None:
            context[f"{name}_text"] = hours(int(data[name]))
    if warning.ticket is not None:
        context["url"] = f"{settings.CAREDESK_BASE_URL}/tickets/{warning.ticket.number}/"
    return context


def _send(pk: int) -> int:
    warning = BillingWarning.objects.select_related("organisation__account_manager", "ticket").get(
        pk=pk
    )
    to = recipients(warning)
    if not to:
        logger.warning("billing warning %s: nobody to tell", warning.key)
        BillingWarning.objects.filter(pk=pk).update(sent_at=clock.now(), recipients=[])
        return 0
    template = TEMPLATES[warning.kind]
    context = context_for(warning)
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject,
        render_to_string(f"emails/{template}.txt", context),
        to=to,
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    try:
        message.send()
    except Exception:  # any backend error: give the claim back, the periodic job retries
        logger.exception("billing warning %s could not be sent", warning.key)
        BillingWarning.objects.filter(pk=pk).update(claimed_at=None)
        return 0
    BillingWarning.objects.filter(pk=pk).update(sent_at=clock.now(), recipients=to)
    return 1
