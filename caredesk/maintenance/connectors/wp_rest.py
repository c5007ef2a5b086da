"""WordPress's own REST API with an application password: read-only inventory.

Needs nothing installed on the site, so it is the way in where the companion
plugin is not wanted. It sees plugins and themes with their versions, but not
which updates are available nor the core version (the REST API does not say),
and it cannot run updates or backups.
"""

from __future__ import annotations

import base64
from typing import Any

from . import answers, http
from .base import AuthRefused, BadAnswer, Connector, Inventory, Item, NotConfigured, RemoteFailed
from .config import ConnectionConfig


class RestConnector(Connector):
    kind = "wp_rest"

    def __init__(self, config: ConnectionConfig) -> None:
        if not config.user.strip() or not config.secret.strip():
            raise NotConfigured(
                "a WordPress user name and an application password are needed "
                "(Users → Profile → Application Passwords on the site)"
            )
        self.config = config

    def get(self, route: str) -> Any:
        password = "".join(self.config.secret.split())  # WordPress shows it in groups of four
        token = base64.b64encode(f"{self.config.user.strip()}:{password}".encode()).decode()
        answer = http.request(
            "GET",
            self.config.rest_url(route),
            headers={"Authorization": f"Basic {token}", "Accept": "application/json"},
            timeout=self.config.timeout,
            allow_private=self.config.allow_private,
            ssl_context=self.config.ssl_context,
        )
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
        return Inventory(core_version="", php_version="", items=items)


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
