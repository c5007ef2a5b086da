"""Why each of a ticket's time entries is or is not billed, as its period's statement will say."""

from caredesk.billing.models import TimeEntry
from caredesk.billing.rules import BILLABLE
from caredesk.billing.usage import usage_on


def entries_with_reasons(ticket) -> list[dict]:
    """The ticket's time, each entry split the way its period's statement will bill it."""
    rows = []
    usages = {}
    entries = TimeEntry.objects.filter(ticket=ticket).select_related("staff", "category")
    for entry in entries.order_by("work_date", "pk"):
        parts = []
        if ticket.organisation_id:
            key = (entry.work_date.year, entry.work_date.month)
            if key not in usages:
                usages[key] = usage_on(ticket.organisation_id, entry.work_date)
            parts = usages[key].parts_by_entry.get(entry.pk, [])
        rows.append(
            {
                "entry": entry,
                "parts": parts,
                "billable": any(part.kind in BILLABLE for part in parts),
            }
        )
    return rows
