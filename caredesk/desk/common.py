"""What every staff page needs: the staff-only guard and loading a ticket by number."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from caredesk.clients import access
from caredesk.tickets.models import Ticket


def staff_only(view):
    """Desk pages are for agency staff; to anyone else they do not exist."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not access.is_staff(request.user):
            raise Http404("No such page")
        return view(request, *args, **kwargs)

    return wrapped


def get_ticket(number: int) -> Ticket:
    ticket = (
        Ticket.objects.select_related(
            "organisation__account_manager",
            "requester",
            "site",
            "priority",
            "sla_policy",
            "assignee",
            "category",
        )
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise Http404("No such ticket")
    return ticket
