"""A client's tickets: the list, one ticket's public conversation, raising and answering.

Every ticket is loaded through ``tickets.access.tickets_for`` and every file
through ``attachments_for``; every change goes through an action.
"""

from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caredesk.clients.access import sites_for
from caredesk.tickets import actions as ticket_actions
from caredesk.tickets.access import attachments_for, tickets_for
from caredesk.tickets.models import OPEN_STATUSES, MessageKind, Status, Ticket
from caredesk.tickets.sla_sync import promised_first_response

from . import actions
from .common import client_only, get_ticket
from .forms import ReplyForm, TicketForm
from .scope import categories_for, scope_for, scope_of

PAGE = 30
# What the statuses mean to the person waiting, not to the person working.
CLIENT_STATUS = {
    Status.NEW: "Received",
    Status.OPEN: "In progress",
    Status.PENDING: "Waiting for your reply",
    Status.ON_HOLD: "On hold",
    Status.SOLVED: "Solved",
    Status.CLOSED: "Closed",
}
SHOWN = {
    "open": ("Open", {"status__in": OPEN_STATUSES}),
    "closed": ("Solved and closed", {"status__in": (Status.SOLVED, Status.CLOSED)}),
    "all": ("All", {}),
}
PUBLIC_KINDS = (MessageKind.CUSTOMER, MessageKind.PUBLIC_REPLY)


def _page_number(request) -> int:
    try:
        return max(1, min(int(request.GET.get("page", "1")), 10_000))
    except ValueError:
        return 1


@require_GET
@client_only
def ticket_list(request):
    show = request.GET.get("show", "open")
    if show not in SHOWN:
        show = "open"
    mine = tickets_for(request.user)
    chosen = (
        mine.filter(**SHOWN[show][1]).select_related("site", "requester").order_by("-updated_at")
    )
    page = _page_number(request)
    window = list(chosen[(page - 1) * PAGE : page * PAGE + 1])
    for ticket in window:
        ticket.client_status = CLIENT_STATUS.get(ticket.status, ticket.status)
    return render(
        request,
        "portal/tickets.html",
        {
            "tickets": window[:PAGE],
            "has_next": len(window) > PAGE,
            "page": page,
            "show": show,
            "tabs": [(key, label, mine.filter(**f).count()) for key, (label, f) in SHOWN.items()],
            "is_manager": request.contact.is_manager,
        },
    )


def _ticket_context(request, ticket: Ticket, reply_form=None) -> dict:
    conversation = list(ticket.messages.filter(kind__in=PUBLIC_KINDS).select_related("author_user"))
    files = defaultdict(list)
    for item in attachments_for(request.user).filter(
        message__ticket=ticket, message__kind__in=PUBLIC_KINDS
    ):
        files[item.message_id].append(item)
    for message in conversation:
        message.files = files.get(message.pk, [])
    waiting = ticket.first_response_at is None and ticket.is_open
    return {
        "ticket": ticket,
        "client_status": CLIENT_STATUS.get(ticket.status, ticket.status),
        "conversation": conversation,
        "promise": promised_first_response(ticket) if waiting else None,
        "waiting": waiting,
        "scope": scope_of(ticket, request.contact),
        "reply_form": reply_form or ReplyForm(),
        "can_reply": ticket.status != Status.CLOSED,
        "can_close": ticket.status != Status.CLOSED,
        "estimate_to_approve": ticket.estimate_minutes and not ticket.estimate_approved_at,
        "reopens": ticket.status in (Status.SOLVED, Status.PENDING),
        "just_created": request.session.pop("portal_created", None) == ticket.number,
        "max_mb": settings.CAREDESK_MAX_ATTACHMENT_MB,
    }


@require_GET
@client_only
def ticket_view(request, number: int):
    ticket = get_ticket(request.user, number)
    return render(request, "portal/ticket.html", _ticket_context(request, ticket))


@require_POST
@client_only
def reply(request, number: int):
    ticket = get_ticket(request.user, number)
    form = ReplyForm(request.POST, request.FILES)
    if ticket.status == Status.CLOSED:
        form.add_error(None, "This ticket is closed. Please raise a new request.")
    elif form.is_valid():
        try:
            actions.do_client_reply(
                ticket, request.contact, form.cleaned_data["body"], form.cleaned_data["files"]
            )
        except ValidationError as error:
            form.add_error(None, "; ".join(error.messages))
        else:
            messages.success(request, "Your reply was added. We have been notified.")
            return redirect("portal:ticket", number=number)
    return render(request, "portal/ticket.html", _ticket_context(request, ticket, form), status=400)


@require_POST
@client_only
def close(request, number: int):
    ticket = get_ticket(request.user, number)
    try:
        ticket_actions.do_change_status(ticket, Status.CLOSED, acting_contact=request.contact)
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(request, f"Ticket {ticket.reference} is closed. Thank you.")
    return redirect("portal:ticket", number=number)


@require_POST
@client_only
def approve(request, number: int):
    ticket = get_ticket(request.user, number)
    if not ticket.estimate_minutes or ticket.estimate_approved_at:
        messages.error(request, "There is no estimate waiting for approval.")
        return redirect("portal:ticket", number=number)
    try:
        ticket_actions.do_approve_estimate(ticket, acting_contact=request.contact)
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(request, "Estimate approved: we will start the work.")
    return redirect("portal:ticket", number=number)


def _ticket_form(request, data=None, files=None) -> TicketForm:
    return TicketForm(
        data,
        files,
        categories=categories_for(request.contact),
        sites=sites_for(request.user).order_by("name"),
    )


@require_http_methods(["GET", "POST"])
@client_only
def new_ticket(request):
    form = _ticket_form(request, request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = actions.do_raise_ticket(
                    request.contact,
                    subject=data["subject"],
                    description=data["description"],
                    category=data["category"],
                    site=data.get("site"),
                    files=data["files"],
                    kb_suggestion=request.POST.get("kb_suggestion"),
                )
            except ValidationError as error:
                form.add_error(None, "; ".join(error.messages))
            else:
                request.session["portal_created"] = ticket.number
                messages.success(
                    request, f"We have received your request: ticket {ticket.reference}."
                )
                return redirect("portal:ticket", number=ticket.number)
    category = (
        form.cleaned_data.get("category")
        if form.is_bound and hasattr(form, "cleaned_data")
        else None
    )
    return render(
        request,
        "portal/new_ticket.html",
        {
            "form": form,
            "scope": scope_for(request.contact, category),
            "max_mb": settings.CAREDESK_MAX_ATTACHMENT_MB,
        },
        status=status,
    )


@require_GET
@client_only
def scope_notice(request):
    """The inside-plan or billable notice for a category, while the client chooses (htmx)."""
    categories = categories_for(request.contact)
    raw = request.GET.get("category", "")
    category = (
        categories.filter(pk=int(raw)).first()
        if raw.isascii() and raw.isdigit() and len(raw) < 19
        else None
    )
    return render(request, "portal/_scope.html", {"scope": scope_for(request.contact, category)})
