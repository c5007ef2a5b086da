"""Time on tickets through the API (staff tokens): list and log."""

from datetime import date
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import Router, Schema
from pydantic import Field, StringConstraints

from caredesk.billing import actions as billing
from caredesk.billing.models import TimeEntry
from caredesk.clients import access
from caredesk.plans.models import WorkCategory
from caredesk.tickets.models import Ticket

from .schemas import ErrorOut

router = Router(tags=["time"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class TimeEntryOut(Schema):
    id: int
    ticket: int
    staff: str
    work_date: date
    minutes: int
    category: str | None
    note: str
    on_statement: bool

    @staticmethod
    def resolve_ticket(obj) -> int:
        return obj.ticket.number

    @staticmethod
    def resolve_staff(obj) -> str:
        return obj.staff.email

    @staticmethod
    def resolve_category(obj) -> str | None:
        return obj.category.code if obj.category_id else None

    @staticmethod
    def resolve_on_statement(obj) -> bool:
        return obj.statement_id is not None


class TimeEntryIn(Schema):
    minutes: int = Field(gt=0, le=24 * 60)
    work_date: date | None = None
    category: Annotated[str, StringConstraints(max_length=50)] | None = None
    note: Annotated[str, StringConstraints(max_length=1000)] = ""


def _staff_ticket(request, number: int) -> Ticket:
    if not access.is_staff(request.user):
        raise PermissionDenied("Only agency staff may read or log time")
    ticket = Ticket.objects.filter(number=number).first()
    if ticket is None:
        raise Http404(f"No ticket #{number}")
    return ticket


@router.get("tickets/{int:number}/time", response={200: list[TimeEntryOut], **ERRORS})
def list_time(request, number: int):
    ticket = _staff_ticket(request, number)
    return (
        TimeEntry.objects.filter(ticket=ticket)
        .select_related("ticket", "staff", "category")
        .order_by("work_date", "pk")
    )


@router.post("tickets/{int:number}/time", response={201: TimeEntryOut, **ERRORS})
def log_time(request, number: int, payload: TimeEntryIn):
    ticket = _staff_ticket(request, number)
    category = None
    if payload.category:
        category = WorkCategory.objects.filter(code=payload.category).first()
        if category is None:
            raise ValidationError({"category": f"No work category {payload.category!r}"})
    entry = billing.do_log_time(
        ticket,
        payload.minutes,
        acting_user=request.user,
        work_date=payload.work_date,
        category=category,
        note=payload.note,
    )
    return 201, entry
