"""Is the site still well after an update or a restore?

The site's own health page answers HTTP 200, without WordPress's critical
error, and with the health keyword when one is set. Apps above maintenance
add their own checks with :func:`register` (the alerts app runs the site's
HTTP monitors once, with their expectations): the maintenance app cannot
import them, so they come to it. Every check must pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

from caredesk.clients.models import Site

from .connectors import ConnectorError, http
from .sites import settings_for

logger = logging.getLogger(__name__)

TIMEOUT = 30.0
MAX_REDIRECTS = 3
# WordPress's own words when a plugin takes the site down with a fatal error.
FATAL_MARKERS = ("There has been a critical error on this website",)


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    detail: str


# A check answers a verdict, or None when it has nothing to say about this site
# (no monitors, say). It must not raise for what the site does; if it raises all
# the same, that is logged and noted, and the other checks decide.
Check = Callable[[Site], Health | None]
_checks: dict[str, Check] = {}


def register(name: str, check: Check) -> None:
    """Add (or replace) a health check run after updates and restores, under ``name``."""
    _checks[name] = check


def unregister(name: str) -> None:
    _checks.pop(name, None)


def registered() -> list[str]:
    return list(_checks)


def check(site: Site) -> Health:
    """The site's own page, then every registered check; well only if all are."""
    verdicts = [check_page(site)]
    for name, extra in list(_checks.items()):
        try:
            verdict = extra(site)
        except Exception as error:
            logger.exception("health check %r failed unexpectedly for site %s", name, site.pk)
            verdicts.append(Health(True, f"{name}: not checked ({type(error).__name__})"))
            continue
        if verdict is not None:
            verdicts.append(verdict)
    failed = [v for v in verdicts if not v.ok]
    passed = [v for v in verdicts if v.ok]
    return Health(not failed, "; ".join(v.detail for v in failed + passed))


def check_page(site: Site) -> Health:
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
