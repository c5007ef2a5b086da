"""Canned replies: staff text with a few named placeholders, filled in without a template engine.

Staff write the text, so it is never given to Django's template engine: only
``{{ name }}`` placeholders from :data:`PLACEHOLDERS` are replaced, by plain
string substitution. An unknown name, a placeholder without a value on this
ticket, or anything that looks like a template tag is reported back as an
error rather than sent to a client half-filled.
"""

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
TAG = re.compile(r"\{%|%\}|\{#|#\}")

PLACEHOLDERS = {
    "requester.first_name": "the requester's first name",
    "requester.name": "the requester's full name",
    "requester.email": "the requester's email address",
    "organisation.name": "the client's name",
    "ticket.number": "the ticket number, e.g. #1042",
    "ticket.subject": "the ticket's subject",
    "agent.name": "your name",
    "agent.first_name": "your first name",
    "plan.name": "the client's care plan",
    "first_response_due": "when the first response is due, e.g. Tue 24 Nov, 12:00",
    "site.name": "the ticket's site",
    "site.url": "the ticket's site address",
}


@dataclass(frozen=True)
class Rendered:
    text: str
    errors: list[str]


def check(body: str) -> list[str]:
    """Problems with a canned reply's text that do not depend on a ticket."""
    errors = []
    if TAG.search(body):
        errors.append("Template tags ({% … %}, {# … #}) are not allowed; use {{ placeholders }}.")
    for name in PLACEHOLDER.findall(body):
        if name not in PLACEHOLDERS:
            errors.append(f"Unknown placeholder {{{{ {name} }}}}.")
    return errors


def validate(body: str) -> None:
    errors = check(body)
    if errors:
        raise ValidationError(errors)


def values_for(ticket, agent, plan=None, first_response_due=None) -> dict[str, str]:
    """The placeholder values on one ticket; a missing value is left out (and reported)."""
    requester_name = ticket.requester_name or (ticket.requester.name if ticket.requester else "")
    values = {
        "requester.first_name": requester_name.split(" ")[0] if requester_name else "",
        "requester.name": requester_name,
        "requester.email": ticket.requester_email,
        "organisation.name": ticket.organisation.name if ticket.organisation_id else "",
        "ticket.number": ticket.reference,
        "ticket.subject": ticket.subject,
        "agent.name": agent.get_full_name(),
        "agent.first_name": agent.get_short_name(),
        "plan.name": plan.name if plan else "",
        "site.name": ticket.site.name if ticket.site_id else "",
        "site.url": ticket.site.url if ticket.site_id else "",
        "first_response_due": "",
    }
    if first_response_due is not None:
        local = first_response_due.astimezone(ZoneInfo(settings.TIME_ZONE))
        values["first_response_due"] = f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"
    return {name: value for name, value in values.items() if value}


def render(body: str, values: dict[str, str]) -> Rendered:
    """Fill the placeholders; every problem is listed and the text is only usable without any."""
    errors = check(body)
    missing = []

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        if name in PLACEHOLDERS and name not in missing:
            missing.append(name)
        return match.group(0)

    text = PLACEHOLDER.sub(fill, body)
    errors += [f"{{{{ {name} }}}} has no value on this ticket." for name in missing]
    return Rendered(text=text, errors=errors)
