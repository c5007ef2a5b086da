"""WordPress's own REST API with an application password: read-only inventory.

Needs nothing installed on the site, so it is the way in where the companion
plugin is not wanted. What the REST API gives an administrator's application
password: plugins and themes with their versions and whether they are active
(``/wp/v2/plugins``, ``/wp/v2/themes``), and WordPress's own site health tests
(``/wp-site-health/v1/tests/…``: background updates, HTTPS, loopback requests,
reaching WordPress.org, the authorization header, page cache). It does not say
which updates are available nor the PHP version. The core version is not in
the REST API either: it is read from the generator line of the site's RSS feed
(``<generator>https://wordpress.org/?v=6.4.2</generator>``), which WordPress
writes unless a plugin or theme removes it; without it the version stays
unknown. It cannot run updates or backups.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from . import answers, http
from .base import (
    AuthRefused,
    BadAnswer,
    Connector,
    ConnectorError,
    HealthTest,
    Inventory,
    Item,
    NotConfigured,
    RemoteFailed,
)
from .config import ConnectionConfig

# The site health tests WordPress runs asynchronously through the REST API (5.6+;
# page-cache since 6.1). Each may take a few seconds: some make requests of their own.
HEALTH_TESTS = (
    "background-updates",
    "https-status",
    "loopback-requests",
    "dotorg-communication",
    "authorization-header",
    "page-cache",
)
GENERATOR = re.compile(
    rb"<generator>\s*https?://wordpress\.org/\?v=([0-9][0-9A-Za-z.+-]{0,40})\s*<"
)
FEED_BYTES = 256 * 1024  # the generator is in the first lines


class RestConnector(Connector):
    kind = "wp_rest"

    def __init__(self, config: ConnectionConfig) -> None:
        if not config.user.strip() or not config.secret.strip():
            raise NotConfigured(
                "a WordPress user name and an application password are needed "
                "(Users → Profile → Application Passwords on the site)"
            )
        self.config = config

    def _headers(self) -> dict[str, str]:
        password = "".join(self.config.secret.split())  # WordPress shows it in groups of four
        token = base64.b64encode(f"{self.config.user.strip()}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}", "Accept": "application/json"}

    def _get(self, route: str) -> http.Response:
        return http.request(
            "GET",
            self.config.rest_url(route),
            headers=self._headers(),
            timeout=self.config.timeout,
            allow_private=self.config.allow_private,
            ssl_context=self.config.ssl_context,
        )

    def get(self, route: str) -> Any:
        answer = self._get(route)
        if answer.status in (401, 403):
            raise AuthRefused(
                f"WordPress refused the application password (HTTP {answer.status}); "
                "check the user name, the password, and that the user is an administrator"
            )
        if answer.status == 404:
            raise NotConfigured(
                f"the site's REST API has no {route} (is it WordPress 5.5 or later?)"
            )
        if answer.status != 200:
            raise RemoteFailed(f"the site answered HTTP {answer.status} to {route}")
        return answers.decode_json(answer.body, who="the site")

    def inventory(self, *, refresh: bool = False) -> Inventory:
        plugins = answers.parse_list(answers.RestPlugin, self.get("/wp/v2/plugins"), who="the site")
        themes = answers.parse_list(answers.RestTheme, self.get("/wp/v2/themes"), who="the site")
        items = [
            Item(
                "plugin",
                _plugin_slug(p.plugin),
                p.name,
                p.version,
                p.status in ("active", "network-active"),
            )
            for p in plugins
        ]
        items += [
            Item("theme", t.stylesheet, _theme_name(t), t.version, t.status == "active")
            for t in themes
        ]
        core = self.core_version()
        if core:
            items.insert(0, Item("core", "wordpress", "WordPress", core, True))
        return Inventory(core_version=core, php_version="", items=items, health=self.health())

    def core_version(self) -> str:
        """WordPress's version from the RSS feed's generator line, or "" when it is not there."""
        parts = urlsplit(self.config.url)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "feed=rss2", ""))
        try:
            answer = http.request(
                "GET",
                url,
                timeout=self.config.timeout,
                max_bytes=FEED_BYTES,
                allow_private=self.config.allow_private,
                ssl_context=self.config.ssl_context,
            )
        except BadAnswer:
            return ""  # a feed bigger than we read: the version stays unknown
        if answer.status != 200:
            return ""
        found = GENERATOR.search(answer.body)
        return found.group(1).decode() if found else ""

    def health(self) -> list[HealthTest]:
        """WordPress's site health tests; those the site does not have (older versions) or does
        not let this user run are left out."""
        results = []
        for name in HEALTH_TESTS:
            try:
                answer = self._get(f"/wp-site-health/v1/tests/{name}")
            except ConnectorError:
                continue  # one slow test does not cost the inventory
            if answer.status in (401, 403, 404):
                continue
            if answer.status != 200:
                continue
            data = answers.decode_json(answer.body, who="the site")
            test = answers.parse(answers.RestHealthTest, data, who=f"the site's {name} test")
            badge = test.badge.label if test.badge is not None else ""
            results.append(HealthTest(test.test, test.label, test.status, badge))
        return results


def _plugin_slug(plugin: str) -> str:
    # The REST API names a plugin by its file without ".php": "akismet/akismet" or "hello".
    slug = plugin.split("/", 1)[0]
    if not slug or slug in (".", ".."):
        raise BadAnswer(f"the site named a plugin {plugin[:60]!r}")
    return slug


def _theme_name(theme: answers.RestTheme) -> str:
    if isinstance(theme.name, str):
        return theme.name
    return theme.name.raw or theme.name.rendered or theme.stylesheet
