"""SLA results per organisation and month, from the stored clocks."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from caredesk.lib import clock

from .models import SlaClock


@dataclass(frozen=True)
class SlaSummary:
    met: int
    missed: int
    open: int  # running, not yet breached
    median_first_response: timedelta | None  # business time

    @property
    def met_share(self) -> float | None:
        decided = self.met + self.missed
        return self.met / decided if decided else None


def month_bounds(year: int, month: int, zone: str | None = None) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone or settings.TIME_ZONE)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def summary(organisation_id: int, year: int, month: int) -> SlaSummary:
    """Targets met and missed on tickets created in the month, and the median first response.

    A target counts as missed once breached (whether or not it has since been
    met); as met once stopped in time; otherwise it is still open.
    """
    start, end = month_bounds(year, month)
    rows = list(
        SlaClock.objects.filter(
            ticket__organisation_id=organisation_id,
            ticket__created_at__gte=start,
            ticket__created_at__lt=end,
        ).values_list("kind", "stopped_at", "breached", "elapsed_seconds", "due_at")
    )
    now = clock.now()
    met = missed = running = 0
    first_responses = []
    for kind, stopped_at, breached, elapsed, due_at in rows:
        late = breached or (stopped_at is None and due_at is not None and due_at < now)
        if late:
            missed += 1
        elif stopped_at is not None:
            met += 1
        else:
            running += 1
        if kind == "first_response" and stopped_at is not None:
            first_responses.append(elapsed)
    return SlaSummary(
        met=met,
        missed=missed,
        open=running,
        median_first_response=timedelta(seconds=median(first_responses))
        if first_responses
        else None,
    )


def breaching_soon(within: timedelta, now: datetime | None = None) -> Q:
    """A filter for tickets whose nearest running clock falls due within ``within``."""
    now = now or clock.now()
    return Q(sla_next_due_at__isnull=False, sla_next_due_at__lte=now + within)
