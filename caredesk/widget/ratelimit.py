"""Fixed-window request counters in the database, shared by every web process."""

import math
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F

from caredesk.lib import clock

from .models import RateCounter

# Counters of windows this old are useless; dropped whenever a new window opens.
KEEP = timedelta(days=1)


def hit(key: str, limit: int, window_seconds: int) -> int | None:
    """Count one request for ``key``; seconds to wait if it is over ``limit``, else None.

    A refused request counts too: a client that keeps hammering stays refused
    until the window ends, and no longer.
    """
    now = clock.now()
    start_ts = int(now.timestamp()) // window_seconds * window_seconds
    start = datetime.fromtimestamp(start_ts, UTC)
    key = key[:100]
    try:
        # Insert-or-increment without a lost update: the unique (key, window)
        # makes the second of two racing inserts fail and fall to the UPDATE.
        with transaction.atomic():
            RateCounter.objects.create(key=key, window_start=start, count=1)
        count = 1
        RateCounter.objects.filter(window_start__lt=now - KEEP).delete()
    except IntegrityError:
        with transaction.atomic():
            RateCounter.objects.filter(key=key, window_start=start).update(count=F("count") + 1)
            count = RateCounter.objects.get(key=key, window_start=start).count
    if count <= limit:
        return None
    ends = start + timedelta(seconds=window_seconds)
    return max(1, math.ceil((ends - now).total_seconds()))
