"""Checking what the widget sends: the form, the spam trap, and the answer.

The API endpoint (``caredesk/api/widget.py``) is thin: it finds the site,
checks the origin and the rate limits, then hands the request to this module.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile

from caredesk.clients.models import Site
from caredesk.lib import clock
from caredesk.plans.models import active_subscription, policy_for
from caredesk.sla.clocks import Entry, evaluate
from caredesk.tickets.attachments import Incoming, max_bytes, refusal
from caredesk.tickets.models import SlaClock, Ticket
from caredesk.tickets.sla_sync import format_promise

from . import actions
from .models import SpamReason

TOKEN_SALT = "caredesk.widget.form"  # noqa: S105 - a signing namespace, not a secret.
# A form left open longer than this is asked to be sent again with a fresh token.
TOKEN_MAX_AGE = timedelta(hours=12)
MAX_DESCRIPTION = 20_000


def min_fill_seconds() -> int:
    return getattr(settings, "CAREDESK_WIDGET_MIN_FILL_SECONDS", 3)


class WidgetForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(max_length=254)
    subject = forms.CharField(max_length=300)
    description = forms.CharField(max_length=MAX_DESCRIPTION)
    attachment = forms.FileField(required=False)
    page = forms.CharField(required=False, max_length=1000)
    token = forms.CharField(required=False, max_length=500)
    # The honeypot: hidden from people (and from screen readers), filled by bots.
    website = forms.CharField(required=False, max_length=1000, strip=False)

    REQUIRED_MESSAGES = {
        "name": "Please tell us your name.",
        "email": "Please enter your email address.",
        "subject": "Please give your request a short subject.",
        "description": "Please describe what you need.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, message in self.REQUIRED_MESSAGES.items():
            self.fields[name].error_messages["required"] = message

    def clean_name(self) -> str:
        # A name is one line: it is written into greetings and lists.
        return " ".join(self.cleaned_data["name"].split())

    def clean_page(self) -> str:
        page = self.cleaned_data["page"]
        # Only an http(s) address is worth showing staff; anything else is dropped.
        return page if page.startswith(("https://", "http://")) else ""

    def clean_attachment(self) -> Incoming | None:
        upload: UploadedFile | None = self.cleaned_data.get("attachment")
        if not upload:
            return None
        if upload.size is not None and upload.size > max_bytes():
            raise forms.ValidationError(
                f"The file is larger than {settings.CAREDESK_MAX_ATTACHMENT_MB} MB."
            )
        content = upload.read(max_bytes() + 1)
        item = Incoming(
            filename=(upload.name or "attachment")[:255],
            content_type=(upload.content_type or "application/octet-stream")[:200],
            content=content,
        )
        reason = refusal(item)
        if reason:
            raise forms.ValidationError(f"This file cannot be sent: {reason}.")
        return item

    def request(self) -> actions.Request:
        data = self.cleaned_data
        return actions.Request(
            name=data["name"],
            email=data["email"].lower(),
            subject=data["subject"],
            description=data["description"],
            page=data["page"],
            attachment=data["attachment"],
        )


def issue_token(site: Site) -> str:
    """A signed note of when the form was opened: the minimum fill time is measured from it."""
    return signing.dumps({"s": site.pk, "t": clock.now().isoformat()}, salt=TOKEN_SALT)


@dataclass(frozen=True)
class TokenCheck:
    spam: tuple[str, str] | None = None  # (reason, detail) when taken for spam
    expired: bool = False


def check_token(site: Site, token: str) -> TokenCheck:
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
        opened = datetime.fromisoformat(data["t"])
        site_pk = data["s"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return TokenCheck(spam=(SpamReason.NO_TOKEN, "missing or forged form token"))
    if site_pk != site.pk:
        return TokenCheck(spam=(SpamReason.NO_TOKEN, "form token of another site"))
    age = (clock.now() - opened).total_seconds()
    if age < min_fill_seconds():
        return TokenCheck(spam=(SpamReason.TOO_FAST, f"sent {age:.1f} s after the form opened"))
    if age > TOKEN_MAX_AGE.total_seconds():
        return TokenCheck(expired=True)
    return TokenCheck()


def spam_check(site: Site, form: WidgetForm) -> TokenCheck:
    """Why a valid form is taken for spam, if it is (honeypot first, then the fill time)."""
    if form.cleaned_data["website"]:
        return TokenCheck(spam=(SpamReason.HONEYPOT, "the hidden field was filled in"))
    return check_token(site, form.cleaned_data["token"])


def confirmation(ticket: Ticket) -> dict:
    """What the visitor is told: the number and when to expect an answer, in the policy's zone."""
    row = (
        SlaClock.objects.filter(ticket=ticket, kind="first_response")
        .select_related("target__calendar", "ticket__sla_policy__calendar")
        .first()
    )
    if row is None or row.due_at is None or ticket.sla_policy_id is None:
        return _answer(ticket.number, None, None)
    calendar = row.target.calendar if row.target and row.target.calendar_id else None
    zone = (calendar or ticket.sla_policy.calendar).spec.get("timezone", "UTC")
    return _answer(ticket.number, format_promise(row.due_at, zone), zone)


def decoy_confirmation(site: Site, email: str) -> dict:
    """The answer a caught bot gets: shaped like the real one, and no ticket behind it."""
    number = (Ticket.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    if actions.sender_for(site, email).contact is None:
        return _answer(number, None, None)
    policy = policy_for(active_subscription(site.organisation_id))
    priority = policy.priority_for(None) if policy else None
    target = priority.targets.filter(kind="first_response").first() if priority else None
    if target is None:
        return _answer(number, None, None)
    spec = target.spec(policy)
    now = clock.now()
    state = evaluate(spec, [Entry(now, "created")], now)
    if state.due_at is None:
        return _answer(number, None, None)
    zone = (target.calendar or policy.calendar).spec.get("timezone", "UTC")
    return _answer(number, format_promise(state.due_at, zone), zone)


def _answer(number: int, promise: str | None, zone: str | None) -> dict:
    return {"number": number, "reference": f"#{number}", "promise": promise, "timezone": zone}


def client_ip(request) -> str | None:
    """The visitor's address; behind a trusted reverse proxy, the one it forwarded."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = set(getattr(settings, "CAREDESK_TRUSTED_PROXIES", []))
    if remote in trusted:
        # The right-most address not added by one of our own proxies is the client.
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if hop not in trusted:
                remote = hop
                break
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return None
