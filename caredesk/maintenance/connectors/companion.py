"""The caredesk companion plugin: signed requests, inventory, updates, backups and restores."""

from __future__ import annotations

import hashlib
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
    Job,
    JobGone,
    NotConfigured,
    RemoteFailed,
    SitePart,
    Unsupported,
    UpdateOutcome,
)
from .config import ConnectionConfig

NAMESPACE = "/caredesk/v1"
FULL_BACKUPS_SINCE = "1.1.0"  # the companion plugin's first version with /backup/start…


class CompanionConnector(Connector):
    kind = "companion"
    can_update = True

    def __init__(self, config: ConnectionConfig) -> None:
        if len(config.secret.strip()) < 32:
            raise NotConfigured(
                "no companion key: paste the key from the site's Tools → caredesk connector page"
            )
        self.config = config

    def post(
        self,
        route: str,
        body: bytes,
        *,
        content_type: str = "application/json",
        timeout: float | None = None,
        max_bytes: int = http.DEFAULT_MAX_BYTES,
    ) -> http.Response:
        """POST ``body`` to ``route``, signed with the site's key; the answer as it came."""
        full_route = NAMESPACE + route
        headers = signing.signed_headers(
            self.config.secret.strip(), int(clock.now().timestamp()), "POST", full_route, body
        )
        headers["Content-Type"] = content_type
        return http.request(
            "POST",
            self.config.rest_url(full_route),
            headers=headers,
            body=body,
            timeout=timeout or self.config.timeout,
            max_bytes=max_bytes,
            allow_private=self.config.allow_private,
            ssl_context=self.config.ssl_context,
        )

    def call(self, route: str, payload: dict[str, Any], *, timeout: float | None = None) -> Any:
        """POST ``payload`` to ``route`` signed with the site's key; the decoded JSON answer."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        return _judge(self.post(route, body, timeout=timeout))

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

    # ---- full backups and restores --------------------------------------------------

    def _job(self, route: str, payload: dict[str, Any], job: str, *, long: bool = False) -> Job:
        timeout = self.config.update_timeout if long else None
        try:
            answer = self.call(route, payload, timeout=timeout)
        except NotConfigured:
            raise Unsupported(
                "the site's caredesk connector cannot take full backups: install or update "
                f"the companion plugin to {FULL_BACKUPS_SINCE} or later"
            ) from None
        data = answers.parse(answers.CompanionJob, answer, who="the site")
        if data.id != job:
            raise BadAnswer(f"the site answered about job {data.id} when asked about {job}")
        return Job(
            id=data.id,
            state=data.state,
            phase=data.phase,
            done=data.progress.get("done", 0),
            total=data.progress.get("total", 0),
            counters=dict(data.progress),
            parts={
                kind: SitePart(
                    kind, p.size, p.sha256, dict(p.tables or {}), p.files or 0, p.skipped or 0
                )
                for kind, p in data.parts.items()
            },
            received={str(kind): size for kind, size in data.received.items()},
            result=data.result.model_dump() if data.result is not None else None,
            error=data.error or "",
            chunk=data.chunk or 0,
        )

    def backup_start(self, job: str, parts: list[str]) -> Job:
        return self._job("/backup/start", {"id": job, "parts": parts}, job, long=True)

    def backup_step(self, job: str, *, seconds: int, resume: bool = False) -> Job:
        payload = {"id": job, "seconds": seconds, "resume": resume}
        return self._job("/backup/step", payload, job, long=True)

    def backup_download(self, job: str, part: str, offset: int, length: int) -> bytes:
        payload = {"id": job, "part": part, "offset": offset, "length": length}
        body = json.dumps(payload, separators=(",", ":")).encode()
        answer = self.post(
            "/backup/download", body, timeout=self.config.update_timeout, max_bytes=length + 4096
        )
        if answer.status != 200 or "json" in answer.header("content-type"):
            _judge(answer)  # raises for an error; a 200 in JSON is not what was asked for
            raise BadAnswer("the site answered a download with JSON instead of the bytes")
        data = answer.body
        if answer.header("x-caredesk-offset") != str(offset) or len(data) != length:
            raise BadAnswer(
                f"the site sent {len(data):,} bytes from offset "
                f"{answer.header('x-caredesk-offset') or '?'} when asked for {length:,} "
                f"from {offset:,}"
            )
        if hashlib.sha256(data).hexdigest() != answer.header("x-caredesk-sha256"):
            raise BadAnswer(f"a chunk of the {part} arrived damaged (its checksum differs)")
        return data

    def backup_finish(self, job: str) -> None:
        self.call("/backup/finish", {"id": job})

    def restore_start(self, job: str, purpose: str, parts: dict[str, SitePart]) -> Job:
        payload = {
            "id": job,
            "purpose": purpose,
            "parts": {
                kind: {"size": p.size, "sha256": p.sha256, "tables": p.tables}
                for kind, p in parts.items()
            },
        }
        return self._job("/restore/start", payload, job)

    def restore_upload(self, job: str, part: str, offset: int, data: bytes) -> int:
        head = {
            "id": job,
            "part": part,
            "offset": offset,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        body = json.dumps(head, separators=(",", ":")).encode() + b"\n" + data
        answer = self.post(
            "/restore/upload",
            body,
            content_type="application/octet-stream",
            timeout=self.config.update_timeout,
        )
        found = answers.parse(answers.CompanionUpload, _judge(answer), who="the site")
        if (found.id, found.part) != (job, part):
            raise BadAnswer("the site's upload answer is about another job or part")
        return found.received

    def restore_step(self, job: str, *, seconds: int, resume: bool = False) -> Job:
        payload = {"id": job, "seconds": seconds, "resume": resume}
        return self._job("/restore/step", payload, job, long=True)

    def restore_finish(self, job: str) -> None:
        self.call("/restore/finish", {"id": job})


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
    if answer.status == 404 and code == "caredesk_no_job":
        raise JobGone(message or "the site has no such job")
    if data is None or not message:
        raise BadAnswer(f"the site answered HTTP {answer.status} without an explanation")
    raise RemoteFailed(f"the site answered HTTP {answer.status}: {message}")


def _wp_error(data: Any) -> tuple[str, str]:
    if isinstance(data, dict):
        code, message = data.get("code"), data.get("message")
        if isinstance(code, str) and isinstance(message, str):
            return code[:100], message[:500]
    return "", ""
