"""Staff pages for the queue and a ticket. Every change goes through tickets.actions."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from caredesk.billing.models import TimerRun
from caredesk.plans.models import active_subscription
from caredesk.tickets import actions
from caredesk.tickets.models import MessageKind, Ticket

from .common import get_ticket, staff_only
from .forms import PropertiesForm, ReplyForm
from .queue import VIEWS, counts, queue
from .time import TimeForm, entries_with_reasons

PAGE = 50


@staff_only
def queue_view(request):
    view = request.GET.get("view", "open")
    if view not in VIEWS:
        view = "open"
    search = request.GET.get("q", "")[:200]
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    tickets = queue(request.user, view, search)
    window = list(tickets[(page - 1) * PAGE : page * PAGE + 1])
    return render(
        request,
        "desk/queue.html",
        {
            "tickets": window[:PAGE],
            "has_next": len(window) > PAGE,
            "page": page,
            "view": view,
            "views": VIEWS,
            "counts": counts(request.user),
            "search": search,
        },
    )


@staff_only
def ticket_view(request, number: int):
    ticket = get_ticket(number)
    return render(request, "desk/ticket.html", _context(ticket, ReplyForm(), None, request.user))


def _context(ticket: Ticket, reply_form, properties_form, user=None) -> dict:

    subscription = active_subscription(ticket.organisation_id) if ticket.organisation_id else None
    return {
        "ticket": ticket,
        "conversation": ticket.messages.select_related("author_user").prefetch_related(
            "attachments"
        ),
        "clocks": ticket.sla_clocks.select_related("target").order_by("kind"),
        "events": ticket.events.select_related("actor_user", "actor_contact").order_by("-at")[:30],
        "reply_form": reply_form,
        "properties_form": properties_form
        or PropertiesForm(
            ticket=ticket,
            initial={
                "status": ticket.status,
                "priority": ticket.priority_id,
                "assignee": ticket.assignee_id,
                "category": ticket.category_id,
            },
        ),
        "plan": subscription.plan if subscription else None,
        "plan_rules": subscription.plan.plancategory_set.select_related("category")
        if subscription
        else [],
        "note_kind": MessageKind.INTERNAL_NOTE,
        "time_rows": entries_with_reasons(ticket),
        "time_form": TimeForm(),
        "timer": TimerRun.objects.filter(staff=user).first() if user else None,
    }


@require_POST
@staff_only
def reply(request, number: int):
    ticket = get_ticket(number)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return render(
            request, "desk/ticket.html", _context(ticket, form, None, request.user), status=400
        )
    body, kind, status = (form.cleaned_data[k] for k in ("body", "kind", "status"))
    try:
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
        return render(
            request, "desk/ticket.html", _context(ticket, form, None, request.user), status=400
        )
    messages.success(request, dict(ReplyForm.KINDS)[kind] + " saved.")
    return redirect("desk:ticket", number=number)


@require_POST
@staff_only
def properties(request, number: int):
    ticket = get_ticket(number)
    form = PropertiesForm(request.POST, ticket=ticket)
    if not form.is_valid():
        return render(
            request, "desk/ticket.html", _context(ticket, None, form, request.user), status=400
        )
    data = form.cleaned_data
    try:
        with transaction.atomic():
            _apply_properties(ticket, data, request.user)
    except ValidationError as error:
        form.add_error(None, "; ".join(error.messages))
        return render(
            request, "desk/ticket.html", _context(ticket, None, form, request.user), status=400
        )
    messages.success(request, "Ticket updated.")
    return redirect("desk:ticket", number=number)


def _apply_properties(ticket: Ticket, data: dict, user) -> None:
    if data["priority"] and data["priority"].pk != ticket.priority_id:
        actions.do_change_priority(ticket, data["priority"], acting_user=user)
    actions.do_assign(ticket, data["assignee"], acting_user=user)
    actions.do_set_category(ticket, data["category"], acting_user=user)
    if data["status"] != ticket.status:
        actions.do_change_status(ticket, data["status"], acting_user=user)
