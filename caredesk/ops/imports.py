"""Bring an agency's clients, contacts and sites in from CSV files.

The whole file is checked before anything is written: every bad row is
reported by its line number and nothing is imported until the file is clean.
Rows are matched to what exists (organisation by name, contact by email,
site by organisation and URL), so importing the same file twice changes nothing.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models, transaction

from caredesk.accounts.models import User
from caredesk.clients.models import Contact, Organisation, Platform, Site, clean_domains
from caredesk.lib.csvimport import MAX_ROWS, ImportReport, RowInvalid, decode, messages, rows
from caredesk.plans.models import Plan, Subscription, Term


@dataclass
class Planned:
    line: int
    instance: models.Model
    changed: bool
    created: bool
    then: list["Planned"] = field(default_factory=list)  # saved after this row's instance


def _apply(instance: models.Model, values: dict, line: int) -> Planned:
    created = instance.pk is None
    changed = created
    for name, value in values.items():
        # Compare foreign keys by id: an unsaved row has no related object to read.
        field = instance._meta.get_field(name)
        current = getattr(instance, field.attname)
        wanted = value.pk if field.is_relation and value is not None else value
        if current != wanted:
            setattr(instance, name, value)
            changed = True
    try:
        instance.full_clean()
    except ValidationError as error:
        raise RowInvalid(messages(error)) from None
    return Planned(line=line, instance=instance, changed=changed, created=created)


def _required(row: dict[str, str], name: str) -> str:
    value = (row.get(name) or "").strip()
    if not value:
        raise RowInvalid(f"{name} is required")
    return value


def _organisation(row: dict[str, str]) -> Organisation:
    name = _required(row, "organisation")
    organisation = Organisation.objects.filter(name__iexact=name).first()
    if organisation is None:
        raise RowInvalid(f"organisation {name!r} does not exist (import organisations first)")
    return organisation


def _flag(row: dict[str, str], name: str, default: bool = True) -> bool:
    raw = (row.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "yes", "true", "y"}:
        return True
    if raw in {"0", "no", "false", "n"}:
        return False
    raise RowInvalid(f"{name} must be yes or no, not {raw!r}")


def _organisation_row(row: dict[str, str], line: int) -> Planned:
    name = _required(row, "name")
    organisation = Organisation.objects.filter(name__iexact=name).first() or Organisation()
    values: dict = {"name": name, "is_active": _flag(row, "active")}
    for column in ("email_domains", "phone", "notes"):
        if column in row:
            values[column] = (row[column] or "").strip()
    manager_email = (row.get("account_manager") or "").strip().lower()
    if manager_email:
        manager = User.objects.filter(email=manager_email).first()
        if manager is None or not manager.is_agency_staff:
            raise RowInvalid(f"account_manager {manager_email!r} is not a staff member")
        values["account_manager"] = manager
    if "email_domains" in values:
        values["email_domains"] = ", ".join(clean_domains(values["email_domains"]))
    planned = _apply(organisation, values, line)
    if (row.get("plan") or "").strip():
        planned.then.append(_subscription(row, organisation, line))
        planned.changed = planned.changed or planned.then[-1].changed
    return planned


def _subscription(row: dict[str, str], organisation: Organisation, line: int) -> Planned:
    code = row["plan"].strip()
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise RowInvalid(f"plan {code!r} does not exist")
    try:
        start = date.fromisoformat(_required(row, "plan_start"))
    except ValueError:
        raise RowInvalid("plan_start must be a date like 2026-01-31") from None
    term = (row.get("term") or "monthly").strip().lower()
    if term not in Term.values:
        raise RowInvalid(f"term must be monthly or annual, not {term!r}")
    try:
        discount = Decimal((row.get("annual_discount_percent") or "0").strip() or "0")
        billing_day = int((row.get("billing_day") or "1").strip() or "1")
    except (InvalidOperation, ValueError):
        raise RowInvalid("annual_discount_percent and billing_day must be numbers") from None
    existing = None
    if organisation.pk:
        existing = Subscription.objects.filter(
            organisation=organisation, plan=plan, start_date=start
        ).first()
    subscription = existing or Subscription(organisation=organisation, plan=plan, start_date=start)
    values = {"term": term, "annual_discount_percent": discount, "billing_day": billing_day}
    changed = existing is None or any(getattr(existing, k) != v for k, v in values.items())
    for name, value in values.items():
        setattr(subscription, name, value)
    try:
        subscription.full_clean(exclude=["organisation"])
    except ValidationError as error:
        raise RowInvalid(messages(error)) from None
    return Planned(line=line, instance=subscription, changed=changed, created=existing is None)


def _contact_row(row: dict[str, str], line: int) -> Planned:
    email = _required(row, "email").lower()
    organisation = _organisation(row)
    contact = Contact.objects.filter(email__iexact=email).first() or Contact()
    roles = [r.strip() for r in (row.get("roles") or "").replace(",", ";").split(";") if r.strip()]
    unknown = set(roles) - set(Contact.ROLE_NAMES)
    if unknown:
        raise RowInvalid(
            f"unknown role(s) {', '.join(sorted(unknown))}; use {', '.join(Contact.ROLE_NAMES)}"
        )
    values = {
        "organisation": organisation,
        "name": _required(row, "name"),
        "email": email,
        "phone": (row.get("phone") or "").strip(),
        "is_manager": "manager" in roles,
        "is_report_recipient": "report_recipient" in roles,
        "is_billing": "billing" in roles,
        "is_active": _flag(row, "active"),
    }
    return _apply(contact, values, line)


def _site_row(row: dict[str, str], line: int) -> Planned:
    organisation = _organisation(row)
    url = _required(row, "url")
    site = Site.objects.filter(organisation=organisation, url=url).first() or Site()
    platform = (row.get("platform") or "wordpress").strip().lower()
    if platform not in Platform.values:
        raise RowInvalid(f"platform must be one of {', '.join(Platform.values)}")
    values = {
        "organisation": organisation,
        "name": _required(row, "name"),
        "url": url,
        "platform": platform,
        "hosting_note": (row.get("hosting_note") or "").strip(),
        "notes": (row.get("notes") or "").strip(),
        "is_active": _flag(row, "active"),
    }
    return _apply(site, values, line)


@dataclass(frozen=True)
class Kind:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    row: Callable[[dict[str, str], int], Planned]
    key: Callable[[dict[str, str]], str]


KINDS: dict[str, Kind] = {
    "organisations": Kind(
        required=("name",),
        optional=(
            "email_domains",
            "phone",
            "account_manager",
            "notes",
            "active",
            "plan",
            "plan_start",
            "term",
            "annual_discount_percent",
            "billing_day",
        ),
        row=_organisation_row,
        key=lambda row: (row.get("name") or "").strip().lower(),
    ),
    "contacts": Kind(
        required=("organisation", "name", "email"),
        optional=("phone", "roles", "active"),
        row=_contact_row,
        key=lambda row: (row.get("email") or "").strip().lower(),
    ),
    "sites": Kind(
        required=("organisation", "name", "url"),
        optional=("platform", "hosting_note", "notes", "active"),
        row=_site_row,
        key=lambda row: (
            f"{(row.get('organisation') or '').strip().lower()} {(row.get('url') or '').strip()}"
        ),
    ),
}


def import_csv(kind_name: str, data: bytes, *, dry_run: bool, acting_user=None) -> ImportReport:
    """Check the whole file, then (unless a dry run, and only if clean) write it at once."""
    if kind_name not in KINDS:
        raise ValueError(f"unknown import {kind_name!r}; use one of {', '.join(KINDS)}")
    kind = KINDS[kind_name]
    report = ImportReport(dry_run=dry_run)
    planned: list[Planned] = []
    seen: dict[str, int] = {}
    try:
        for line, row in rows(decode(data), kind.required, kind.optional):
            report.rows += 1
            if report.rows > MAX_ROWS:
                report.errors.append((line, f"more than {MAX_ROWS} rows; split the file"))
                break
            key = kind.key(row)
            if key in seen:
                report.errors.append((line, f"duplicate of line {seen[key]}"))
                continue
            seen[key] = line
            try:
                planned.append(kind.row(row, line))
            except RowInvalid as error:
                report.errors.append((line, str(error)))
    except (RowInvalid, csv.Error) as error:
        report.errors.append((0, str(error)))
    if report.errors:
        return report
    for item in planned:
        if not item.changed:
            report.unchanged += 1
        elif item.created:
            report.created += 1
        else:
            report.updated += 1
    if not dry_run:
        _save(planned)
    return report


@transaction.atomic
def _save(planned: list[Planned]) -> None:
    for item in planned:
        if item.changed:
            item.instance.save()
        for follower in item.then:
            if follower.changed:
                follower.instance.organisation = item.instance
                follower.instance.save()
