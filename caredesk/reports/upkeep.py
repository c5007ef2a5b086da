"""WordPress maintenance facts (written last, against the maintenance app's models)."""

from datetime import datetime


def collect(site_ids: list[int], start: datetime, end: datetime) -> dict[int, dict]:
    return {}
