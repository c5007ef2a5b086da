"""The caredesk companion plugin: signed requests, full inventory, backups, updates, restores."""

from __future__ import annotations

import json
from typing import Any

from caredesk.lib import clock

from . import answers, http, signing
from .base import (
    AuthRefused,
    Backup,
    BackupFile,
    BadAnswer,
    Connector,
    Inventory,
    Item,
    ItemRef,
    NotConfigured,
    RemoteFailed,
    UpdateOutcome,
)
from .config import ConnectionConfig

NAMESPACE = "/caredesk/v1"


class CompanionConnector(Connector):
    kind = "companion"
    can_update = True

    def __init__(self, config: ConnectionConfig) -> None:
        if len(config.secret.strip()) < 32:
            raise NotConfigured(
                "no companion key: paste the key from the site's Tools → caredesk connector page"
            )
        self.config = config

    def call(self, route: str, payload: dict[str, Any], *, timeout: float | None = None) -> Any:
        """POST ``payload`` to ``route`` signed with the site's key; the decoded JSON answer."""
        full_route = NAMESPACE + route
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = signing.signed_headers(
            self.config.secret.strip(), int(clock.now().timestamp()), "POST", full_route, body
        )
        headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json"
        answer = http.request(
            "POST",
            self.config.rest_url(full_route),
            headers=headers,
            body=body,
            timeout=timeout or self.config.timeout,
            allow_private=self.config.allow_private,
            ssl_context=self.config.ssl_context,
        )
        return _judge(answer)

    def inventory(self, *, refresh: bool = False) -> Inventory:
        data = answers.parse(
            answers.CompanionInventory,
            self.call("/inventory", {"refresh": refresh}),
            who="the site",
        )
        items = [
            Item("core", "wordpress", "WordPress", data.core.version, True, data.core.update or "")
        ]
        for kind, entries in (("plugin", data.plugins), ("theme", data.themes)):
            items += [
                Item(kind, e.slug, e.name, e.version, e.active, e.update or "") for e in entries
            ]
        return Inventory(data.core.version, data.php, items, data.connector)

    def backup(self, items: list[ItemRef], *, database: bool = True) -> Backup:
        payload = {"items": [ref.as_json() for ref in items], "database": database}
        data = answers.parse(
            answers.CompanionBackup,
            self.call("/backup", payload, timeout=self.config.update_timeout),
            who="the site",
        )
        files, versions = {}, {}
        for entry in data.items:
            ref = ItemRef(entry.kind, entry.slug)
            files[ref] = BackupFile(entry.archive.name, entry.archive.size, entry.archive.sha256)
            versions[ref] = entry.version
        missing = [ref for ref in items if ref not in files]
        if missing:
            raise BadAnswer(f"the site's backup lacks {missing[0].kind} {missing[0].slug}")
        db = data.database
        database_file = BackupFile(db.name, db.size, db.sha256) if db is not None else None
        if database and database_file is None:
            raise BadAnswer("the site's backup lacks the database dump")
        return Backup(data.id, database_file, files, versions)

    def update(self, items: list[ItemRef]) -> list[UpdateOutcome]:
        data = answers.parse(
            answers.CompanionUpdate,
            self.call(
                "/update",
                {"items": [ref.as_json() for ref in items]},
                timeout=self.config.update_timeout,
            ),
            who="the site",
        )
        outcomes = [
            UpdateOutcome(
                ItemRef(r.kind, r.slug), r.status, r.from_ or "", r.to or "", r.error or ""
            )
            for r in data.results
        ]
        if {o.ref for o in outcomes} != set(items):
            raise BadAnswer("the site's update answer does not match the items asked for")
        return outcomes

    def restore(self, backup_id: str, items: list[ItemRef], *, database: bool = False) -> None:
        payload = {"backup": backup_id, "items": [r.as_json() for r in items], "database": database}
        data = self.call("/restore", payload, timeout=self.config.update_timeout)
        if not isinstance(data, dict) or data.get("backup") != backup_id:
            raise BadAnswer("the site's restore answer does not name the backup")


def _judge(answer: http.Response) -> Any:
    """The answer's JSON, or the error its status and WordPress's error body describe."""
    if 200 <= answer.status < 300:
        return answers.decode_json(answer.body, who="the site")
    try:
        data = answers.decode_json(answer.body, who="the site")
    except BadAnswer:
        data = None  # an error page in HTML: the status alone has to speak
    code, message = _wp_error(data)
    if answer.status in (401, 403):
        raise AuthRefused(f"the site refused caredesk's signature: {message or answer.status}")
    if answer.status == 404 and code == "rest_no_route":
        raise NotConfigured(
            "the site has no caredesk connector: install and activate the companion plugin"
        )
    if data is None or not message:
        raise BadAnswer(f"the site answered HTTP {answer.status} without an explanation")
    raise RemoteFailed(f"the site answered HTTP {answer.status}: {message}")


def _wp_error(data: Any) -> tuple[str, str]:
    if isinstance(data, dict):
        code, message = data.get("code"), data.get("message")
        if isinstance(code, str) and isinstance(message, str):
            return code[:100], message[:500]
    return "", ""
