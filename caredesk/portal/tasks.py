"""Mailing sign-in links, in the worker.

The secret is minted here, at send time: the request only queued a link id,
so the task table never holds anything that signs someone in, and the web
request answers in the same time whether or not the address is known.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from .actions import LINK_LIFETIME, do_mint_secret

logger = logging.getLogger(__name__)


@task()
def send_sign_in_link(link_id: int) -> int:
    """Mint and mail one sign-in link; returns how many mails went out (0 or 1)."""
    minted = do_mint_secret(link_id)
    if minted is None:
        return 0
    link, secret = minted
    contact = link.contact
    context = {
        "agency_name": settings.CAREDESK_AGENCY_NAME,
        "contact": contact,
        "url": settings.CAREDESK_BASE_URL + reverse("portal:link", args=[secret]),
        "minutes": int(LINK_LIFETIME.total_seconds() // 60),
    }
    subject = render_to_string("emails/portal_sign_in_subject.txt", context).strip()
    text = render_to_string("emails/portal_sign_in.txt", context)
    html = render_to_string("emails/portal_sign_in.html", context)
    message = EmailMultiAlternatives(
        subject,
        text,
        to=[contact.email],
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )
    message.attach_alternative(html, "text/html")
    try:
        return message.send()
    except Exception as error:  # any backend error: the person asks again; nothing to retry
        # A retry would mail a link with less of its 15 minutes left; the
        # person sees no mail and asks again, which is quicker.
        logger.warning("sign-in link %s not sent: %s", link_id, error)
        return 0
