"""What every portal page needs: the client-only guard, the client's time zone, loading a ticket."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from caredesk.clients import access
from caredesk.plans.models import active_subscription, policy_for
from caredesk.tickets.access import tickets_for
from caredesk.tickets.models import Ticket


def client_only(view):
    """Portal pages are for client contacts: others are sent where they belong."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return redirect(reverse("portal:sign_in") + (f"?{query}" if query else ""))
        if access.is_staff(user):
            return redirect("desk:home")
        contact = access.contact_of(user)
        if contact is None:
            # A login whose contact or client was switched off since it signed in.
            logout(request)
            messages.error(request, "Your access to the portal has been closed. Please contact us.")
            return redirect("portal:sign_in")
        request.contact = contact
        with timezone.override(client_zone(contact.organisation_id)):
            return view(request, *args, **kwargs)

    return wrapped


def client_zone(organisation_id: int) -> str | None:
    """The zone of the client's SLA calendar, so times read as the promises do."""
    policy = policy_for(active_subscription(organisation_id))
    if policy is None:
        return None  # the agency's TIME_ZONE
    return policy.calendar.spec.get("timezone") or None


def get_ticket(user, number: int) -> Ticket:
    """A ticket the user may see, by number; another client's looks like no ticket at all."""
    ticket = (
        tickets_for(user)
        .select_related("organisation", "requester", "site", "category")
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise Http404("No such ticket")
    return ticket
