"""Staff pages for the queue and a ticket. Every change goes through tickets.actions."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from caredesk.clients.models import Organisation, Site
from caredesk.plans.models import WorkCategory
from caredesk.tickets import actions
from caredesk.tickets.models import Ticket

from . import canned, page, presence
from .common import get_ticket, staff_only
from .forms import BulkForm, CannedPickForm, PropertiesForm, ReplyForm
from .queue import VIEWS, counts, queue, window

PAGE = 50


def _id(value: str | None) -> int | None:
    """A positive id from the query string, or None for anything else."""
    if value and value.isdigit() and len(value) < 12:
        return int(value)
    return None


@staff_only
def queue_view(request):
    view = request.GET.get("view", "open")
    if view not in VIEWS:
        view = "open"
    search = request.GET.get("q", "")[:200]
    try:
        page_number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page_number = 1
    client, site, category = (_id(request.GET.get(k)) for k in ("client", "site", "category"))
    tickets = queue(request.user, view, search, client=client, site=site, category=category)
    rows = window(tickets, (page_number - 1) * PAGE, page_number * PAGE + 1)
    filters = {"view": view, "q": search, "client": client, "site": site, "category": category}
    return render(
        request,
        "desk/queue.html",
        {
            "tickets": rows[:PAGE],
            "has_next": len(rows) > PAGE,
            "page": page_number,
            "view": view,
            "views": VIEWS,
            "counts": counts(request.user),
            "search": search,
            "filters": filters,
            "query": _query(filters),
            "clients": Organisation.objects.filter(is_active=True).only("pk", "name"),
            "sites": Site.objects.filter(organisation_id=client).only("pk", "name")
            if client
            else [],
            "categories": WorkCategory.objects.only("pk", "name"),
            "bulk_form": BulkForm(),
        },
    )


def _query(filters: dict) -> str:
    return urlencode({k: v for k, v in filters.items() if v not in (None, "")})


@require_POST
@staff_only
def bulk(request):
    """Assign or set the status of many tickets: each through its action, one event per ticket."""
    form = BulkForm(request.POST)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}) or not back.startswith(
        "/tickets/"
    ):
        back = "/tickets/"
    if not form.is_valid():
        errors = [e for field in form.errors.values() for e in field]
        messages.error(request, "Nothing changed: " + " ".join(errors))
        return redirect(back)
    tickets, status, assignee = (
        form.cleaned_data["tickets"],
        form.cleaned_data["status"],
        form.new_assignee,
    )
    try:
        with transaction.atomic():
            for ticket in tickets:
                if assignee != BulkForm.KEEP:
                    actions.do_assign(ticket, assignee, acting_user=request.user)
                if status:
                    actions.do_change_status(ticket, status, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, "Nothing changed: " + "; ".join(error.messages))
    else:
        count = len(tickets)
        messages.success(request, f"{count} ticket{'s' if count != 1 else ''} updated.")
    return redirect(back)


@require_GET
@staff_only
def ticket_view(request, number: int):
    ticket = get_ticket(number)
    reply_form, errors = None, ()
    if "canned" in request.GET:
        reply_form, errors = _with_canned(request, ticket, request.GET)
    return page.page(request, ticket, reply_form=reply_form, canned_errors=errors)


def _with_canned(request, ticket: Ticket, data) -> tuple[ReplyForm, list[str]]:
    """The reply form with a canned reply added to what is already typed, or why it was not."""
    body = str(data.get("body", ""))[: ReplyForm.base_fields["body"].max_length]
    kind = data.get("kind") if data.get("kind") in dict(ReplyForm.KINDS) else "public_reply"
    pick = CannedPickForm(data)
    if not pick.is_valid():
        errors = [e for field in pick.errors.values() for e in field]
    else:
        reply = pick.cleaned_data["canned"]
        values = canned.values_for(
            ticket,
            request.user,
            plan=page.context_plan(ticket),
            first_response_due=page.first_response_due(ticket),
        )
        rendered = canned.render(reply.body, values)
        errors = [f"“{reply.title}” not inserted: {e}" for e in rendered.errors]
        if not errors:
            body = f"{body.rstrip()}\n\n{rendered.text}" if body.strip() else rendered.text
    return ReplyForm(initial={"kind": kind, "body": body}), errors


@require_GET
@staff_only
def insert_canned(request, number: int):
    """htmx: the reply form again, with the canned reply inserted (or the reason it was not)."""
    ticket = get_ticket(number)
    reply_form, errors = _with_canned(request, ticket, request.GET)
    if not request.htmx:
        return page.page(request, ticket, reply_form=reply_form, canned_errors=errors)
    return page.parts(request, ticket, ["reply"], reply_form=reply_form, canned_errors=errors)


@require_POST
@staff_only
def reply(request, number: int):
    ticket = get_ticket(number)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return page.failed(request, ticket, ["reply"], reply_form=form)
    body, kind, status = (form.cleaned_data[k] for k in ("body", "kind", "status"))
    try:
        with transaction.atomic():
            if kind == "public_reply":
                actions.do_reply(ticket, body, acting_user=request.user, status=status or None)
            elif kind == "phone_call":
                actions.do_log_call(ticket, body, acting_user=request.user)
            else:
                actions.do_add_note(ticket, body, acting_user=request.user)
            if status and kind != "public_reply":
                actions.do_change_status(ticket, status, acting_user=request.user)
    except ValidationError as error:
        form.add_error(None, "; ".join(error.messages))
        return page.failed(request, ticket, ["reply"], reply_form=form)
    # They sent it: no longer "replying" for the others.
    presence.do_heartbeat(ticket, acting_user=request.user, replying=False)
    return page.done(
        request,
        get_ticket(number),
        page.AFTER_REPLY,
        messages.SUCCESS,
        dict(ReplyForm.KINDS)[kind] + " saved.",
    )


@require_POST
@staff_only
def properties(request, number: int):
    ticket = get_ticket(number)
    form = PropertiesForm(request.POST, ticket=ticket)
    if not form.is_valid():
        return page.failed(request, ticket, ["properties"], properties_form=form)
    try:
        with transaction.atomic():
            _apply_properties(ticket, form.cleaned_data, request.user)
    except ValidationError as error:
        form.add_error(None, "; ".join(error.messages))
        return page.failed(request, ticket, ["properties"], properties_form=form)
    return page.done(
        request, get_ticket(number), page.AFTER_PROPERTIES, messages.SUCCESS, "Ticket updated."
    )


def _apply_properties(ticket: Ticket, data: dict, user) -> None:
    if data["priority"] and data["priority"].pk != ticket.priority_id:
        actions.do_change_priority(ticket, data["priority"], acting_user=user)
    actions.do_assign(ticket, data["assignee"], acting_user=user)
    actions.do_set_category(ticket, data["category"], acting_user=user)
    if data["status"] != ticket.status:
        actions.do_change_status(ticket, data["status"], acting_user=user)


@require_POST
@staff_only
def heartbeat(request, number: int):
    """htmx, every ten seconds and as the agent types: I am here; who else is?"""
    ticket = get_ticket(number)
    replying = bool(str(request.POST.get("body", "")).strip())
    presence.do_heartbeat(ticket, acting_user=request.user, replying=replying)
    return render(
        request,
        "desk/ticket/_presence.html",
        {"ticket": ticket, "others": presence.others_on(ticket, request.user)},
    )
