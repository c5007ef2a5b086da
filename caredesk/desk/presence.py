"""Who else is on a ticket: a heartbeat per agent every few seconds, read back by the others.

The heartbeat is one INSERT … ON CONFLICT UPDATE on (ticket, user), so two web
processes (or two tabs) writing at once never collide, and the table holds at
most one row per agent and ticket. A row whose heartbeat is older than FRESH
means the agent left (closed the tab, lost the network); old rows are swept
by later heartbeats.
"""

from datetime import timedelta

from django.db import transaction

from caredesk.lib import clock

from .models import Presence

FRESH = timedelta(seconds=30)
SWEEP_AFTER = timedelta(hours=1)


@transaction.atomic
def do_heartbeat(ticket, *, acting_user, replying: bool) -> None:
    """Record that ``acting_user`` has the ticket open (and whether they are typing a reply).

    Not a ticket event: looking at a ticket changes nothing in it, and an audit
    row every ten seconds would drown the history.
    """
    now = clock.now()
    Presence.objects.bulk_create(
        [Presence(ticket=ticket, user=acting_user, replying=replying, seen_at=now)],
        update_conflicts=True,
        unique_fields=["ticket", "user"],
        update_fields=["replying", "seen_at"],
    )
    Presence.objects.filter(seen_at__lt=now - SWEEP_AFTER).delete()


def others_on(ticket, user) -> list[Presence]:
    """The other agents with a fresh heartbeat on this ticket, those replying first."""
    return list(
        Presence.objects.filter(ticket=ticket, seen_at__gte=clock.now() - FRESH)
        .exclude(user=user)
        .select_related("user")
        .order_by("-replying", "user__full_name", "user__email")
    )
