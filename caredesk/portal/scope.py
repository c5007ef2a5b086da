"""What a client is told about scope before and after raising a ticket.

Before: the same rule the ticket will be judged by at intake
(``plans.category_rule``, as ``tickets.actions._scope`` applies it), so the
notice shown while choosing a category is the one the ticket then carries.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

from caredesk.billing.periods import on_demand_plan
from caredesk.clients.models import Contact
from caredesk.plans.models import Plan, WorkCategory, active_subscription, category_rule
from caredesk.tickets.models import Ticket


@dataclass(frozen=True)
class Scope:
    billable: bool
    reason: str
    rate: str  # "85.00 GBP an hour", or "" when no rate is known
    plan_name: str
    category_name: str = ""


def plan_of(contact: Contact) -> Plan | None:
    subscription = active_subscription(contact.organisation_id)
    return subscription.plan if subscription else None


def categories_for(contact: Contact) -> QuerySet[WorkCategory]:
    """The plan's categories (included and excluded); without a plan or rules, all of them."""
    plan = plan_of(contact)
    if plan is not None and plan.plancategory_set.exists():
        return WorkCategory.objects.filter(plancategory__plan=plan).order_by("position", "name")
    return WorkCategory.objects.order_by("position", "name")


def _rate(plan: Plan | None) -> str:
    pricing = plan if plan is not None and plan.hourly_rate else on_demand_plan()
    if pricing is None or not pricing.hourly_rate:
        return ""
    return f"{pricing.hourly_rate} {pricing.currency} an hour"


def scope_for(contact: Contact, category: WorkCategory | None) -> Scope:
    """Would a new ticket of this category be inside the plan or billable?"""
    plan = plan_of(contact)
    billable, reason = category_rule(plan, category)
    return Scope(
        billable,
        reason,
        _rate(plan) if billable else "",
        plan.name if plan else "",
        category.name if category else "",
    )


def scope_of(ticket: Ticket, contact: Contact) -> Scope:
    """The scope decided for a ticket (stored on it at intake or by staff since)."""
    plan = plan_of(contact)
    rate = _rate(plan) if ticket.billable else ""
    category_name = ticket.category.name if ticket.category_id else ""
    return Scope(
        ticket.billable, ticket.billable_reason, rate, plan.name if plan else "", category_name
    )
