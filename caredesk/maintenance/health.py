"""Is the site still well after an update? HTTP 200 and, when set, a keyword on a page."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from caredesk.clients.models import Site

from .connectors import ConnectorError, http
from .sites import settings_for

TIMEOUT = 30.0
MAX_REDIRECTS = 3
# WordPress's own words when a plugin takes the site down with a fatal error.
FATAL_MARKERS = ("There has been a critical error on this website",)


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    detail: str


def check(site: Site) -> Health:
    """Fetch the site's health page (following a few redirects) and judge it."""
    settings = settings_for(site)
    url = urljoin(site.url, settings.health_path or "/")
    try:
        for _ in range(MAX_REDIRECTS + 1):
            answer = http.request(
                "GET",
                url,
                timeout=TIMEOUT,
                allow_private=settings.allow_private,
                headers={"Cache-Control": "no-cache"},
            )
            location = answer.header("location")
            if answer.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            break
    except ConnectorError as error:
        return Health(False, f"{url}: {error}")
    if answer.status != 200:
        return Health(False, f"{url} answered HTTP {answer.status}")
    text = answer.text
    for marker in FATAL_MARKERS:
        if marker in text:
            return Health(False, f"{url} shows WordPress's critical error page")
    keyword = settings.health_keyword.strip()
    if keyword and keyword not in text:
        return Health(False, f"{url} answered 200 but lacks the keyword {keyword!r}")
    return Health(True, f"{url} answered 200" + (f" with {keyword!r}" if keyword else ""))
