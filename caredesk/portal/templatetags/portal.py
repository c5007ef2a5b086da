import re

from django import template

register = template.Library()


@register.filter
def url_name(filename: str) -> str:
    """A filename fit for the last part of a download address (the view ignores it)."""
    return re.sub(r"[^\w.\-]+", "_", filename).strip("_") or "file"


@register.filter
def duration(minutes: int | None) -> str:
    """120 as '2 h', 90 as '1 h 30 min', 45 as '45 min'."""
    hours, rest = divmod(int(minutes or 0), 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"
