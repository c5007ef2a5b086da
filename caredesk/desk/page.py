"""The ticket page's context, and its answers to a form: the whole page, or (htmx) only its parts.

Every part of the page that a change can touch is a template of its own with an
id; an htmx request gets back the parts it affected, each swapped in place out
of band, so the agent keeps their scroll position and what they were typing
elsewhere. Without JavaScript the same forms post normally and get the page.
"""

from django.contrib import messages
from django.shortcuts import redirect, render

from caredesk.billing.models import TimerRun
from caredesk.plans.models import active_subscription
from caredesk.tickets.models import MessageKind, Ticket

from .billed import entries_with_reasons
from .forms import CannedPickForm, PropertiesForm, ReplyForm, TimeForm
from .health import site_health
from .presence import others_on
from .restore_panel import restore_panel

PARTS = {
    name: f"desk/ticket/_{name}.html"
    for name in (
        "summary",
        "conversation",
        "reply",
        "sla",
        "properties",
        "time",
        "history",
        "flash",
        "restore",
    )
}
AFTER_REPLY = ("conversation", "reply", "summary", "sla", "properties", "history", "flash")
AFTER_PROPERTIES = ("properties", "summary", "sla", "history", "flash")
AFTER_TIME = ("time", "history", "flash")
AFTER_RESTORE = ("restore", "history", "flash")


def context_plan(ticket: Ticket):
    subscription = active_subscription(ticket.organisation_id) if ticket.organisation_id else None
    return subscription.plan if subscription else None


def first_response_due(ticket: Ticket):
    clock_row = ticket.sla_clocks.filter(kind="first_response", stopped_at=None).first()
    return clock_row.due_at if clock_row else None


def context(
    ticket: Ticket,
    user,
    *,
    reply_form=None,
    properties_form=None,
    time_form=None,
    restore_form=None,
    canned_errors=(),
    flash=(),
    whole_page=False,
) -> dict:
    subscription = active_subscription(ticket.organisation_id) if ticket.organisation_id else None
    data = {
        "ticket": ticket,
        "conversation": ticket.messages.select_related("author_user").prefetch_related(
            "attachments"
        ),
        "clocks": ticket.sla_clocks.select_related("target").order_by("kind"),
        "events": ticket.events.select_related("actor_user", "actor_contact").order_by("-at")[:30],
        "reply_form": reply_form or ReplyForm(),
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
        "canned_form": CannedPickForm(),
        "canned_errors": list(canned_errors),
        "plan": subscription.plan if subscription else None,
        "plan_rules": subscription.plan.plancategory_set.select_related("category")
        if subscription
        else [],
        "note_kind": MessageKind.INTERNAL_NOTE,
        "time_rows": entries_with_reasons(ticket),
        "time_form": time_form or TimeForm(),
        "timer": TimerRun.objects.filter(staff=user).select_related("ticket").first(),
        "flash": list(flash),
        "others": others_on(ticket, user),
        "restore_panel": restore_panel(ticket, restore_form),
    }
    if whole_page:
        data["health"] = site_health(ticket.site) if ticket.site_id else None
    return data


def page(request, ticket: Ticket, *, status: int = 200, **kwargs):
    return render(
        request,
        "desk/ticket.html",
        context(ticket, request.user, whole_page=True, **kwargs),
        status=status,
    )


def parts(request, ticket: Ticket, names, *, status: int = 200, **kwargs):
    """The named parts of the page, each marked for an out-of-band swap."""
    data = context(ticket, request.user, **kwargs)
    data["parts"] = [PARTS[name] for name in names]
    return render(request, "desk/ticket/_updates.html", data, status=status)


def done(request, ticket: Ticket, names, level: int, text: str):
    """After a change: the changed parts for htmx, else the page again (post/redirect/get)."""
    if request.htmx:
        return parts(request, ticket, names, flash=[(level, text)])
    messages.add_message(request, level, text)
    return redirect("desk:ticket", number=ticket.number)


def failed(request, ticket: Ticket, names, **kwargs):
    """A form with errors: shown back where it was, with status 400."""
    if request.htmx:
        return parts(request, ticket, names, status=400, **kwargs)
    return page(request, ticket, status=400, **kwargs)
