from datetime import datetime

from django import template

from caredesk.lib import clock

from ..health import status

register = template.Library()


def _span(seconds: int) -> str:
    minutes = seconds // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


@register.filter
def until(moment: datetime | None) -> str:
    """'3 h 20 min left' or 'overdue by 40 min' (wall-clock time to a due instant)."""
    if moment is None:
        return ""
    seconds = int((moment - clock.now()).total_seconds())
    return f"{_span(seconds)} left" if seconds >= 0 else f"overdue by {_span(-seconds)}"


@register.filter
def urgency(moment: datetime | None) -> str:
    """A CSS class for how close a due instant is."""
    if moment is None:
        return "none"
    seconds = (moment - clock.now()).total_seconds()
    if seconds < 0:
        return "breached"
    if seconds < 2 * 3600:
        return "soon"
    return "ok"


@register.filter
def clock_state(row) -> str:
    if row.stopped_at:
        return "missed" if row.breached else "met"
    if row.paused:
        return "paused"
    if row.breached:
        return "breached"
    return "running"


@register.filter
def business(seconds: int) -> str:
    return _span(int(seconds))


@register.filter
def minutes(value: int) -> str:
    return _span(int(value) * 60)


_EVENTS = {
    "created": "opened",
    "alert": "monitoring alerted",
    "assignee": "assigned",
    "priority": "priority changed",
    "category": "category changed",
    "status": "status changed",
    "sla_warning": "SLA warning",
    "sla_breach": "SLA breached",
    "bounce": "a mail to the client bounced",
    "files_refused": "attachments refused",
    "estimate_requested": "estimate requested",
    "estimate_approved": "estimate approved",
}
_MESSAGES = {
    "customer": "client wrote",
    "public_reply": "replied",
    "internal_note": "added a note",
    "phone_call": "logged a call",
}


@register.filter
def describe(event) -> str:
    """One line of a ticket's history, in words."""
    data = event.data or {}
    if event.kind == "message":
        text = _MESSAGES.get(data.get("kind"), "message")
    else:
        text = _EVENTS.get(event.kind, event.kind.replace("_", " "))
    if event.kind in ("status", "priority", "category") and data.get("to"):
        text += f" to {str(data['to']).replace('_', ' ')}"
    if event.kind in ("sla_warning", "sla_breach") and data.get("clock"):
        text += f": {data['clock'].replace('_', ' ')}"
    who = event.actor_user or event.actor_contact
    if who is not None:
        name = who.get_short_name() if hasattr(who, "get_short_name") else who.name
        text = f"{name}: {text}"
    return text


@register.filter
def words(value) -> str:
    """A code like 'fair_usage_excess' as words."""
    return str(value).replace("_", " ")


@register.filter
def percent(value: float | None) -> str:
    """Uptime as people read it: 99.95 %, and never 100 % unless there was no down time."""
    if value is None:
        return "—"
    if value < 100 and f"{value:.2f}" == "100.00":
        return "99.99 %"
    return f"{value:.2f} %"


@register.filter
def monitor_status(monitor) -> str:
    return status(monitor)


@register.filter
def share(value: float | None) -> str:
    """0.925 as '93 %'."""
    return "—" if value is None else f"{round(value * 100)} %"


@register.filter
def thousands(value: int | None) -> str:
    return "—" if value is None else f"{int(value):,}"
