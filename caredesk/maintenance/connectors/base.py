"""What every connector offers, what it answers with, and how it fails.

A connector talks to one site. Whatever the site does — hang, refuse, answer
HTML where JSON was due, claim a version of a megabyte — the connector raises
one of the errors below with a sentence a person can act on; callers record
that sentence on the site and carry on with the next one.

    ConnectorError
    ├── NotConfigured   the site lacks what this connection kind needs (URL, key, user)
    ├── Unsupported     this kind cannot do that (the REST API runs no updates)
    ├── Unreachable     no connection: name, refused address, connect, TLS
    ├── TimedOut        connected, but no whole answer in time
    ├── AuthRefused     the site said no to our credentials (401/403, bad signature)
    ├── HostKeyChanged  the SSH server shows another host key than the one pinned
    ├── BadAnswer       an answer we cannot believe: not JSON, wrong types, absurd sizes
    └── RemoteFailed    the site understood and tried, and says it failed (with its reason)
        └── JobGone     a backup or restore job the site was asked about is no longer there
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ConnectorError(Exception):
    """Base of connector errors; ``str(error)`` is shown to staff as it is."""

    kind = "error"


class NotConfigured(ConnectorError):
    kind = "not_configured"


class Unsupported(ConnectorError):
    kind = "unsupported"


class Unreachable(ConnectorError):
    kind = "unreachable"


class TimedOut(ConnectorError):
    kind = "timeout"


class AuthRefused(ConnectorError):
    kind = "auth"


class HostKeyChanged(ConnectorError):
    """Refused before any credential was sent: possibly someone in between."""

    kind = "host_key"


class BadAnswer(ConnectorError):
    kind = "bad_answer"


class RemoteFailed(ConnectorError):
    kind = "remote_failed"


class JobGone(RemoteFailed):
    """The site no longer has the backup or restore job asked about."""

    kind = "job_gone"


ITEM_KINDS = ("core", "plugin", "theme")


@dataclass(frozen=True, slots=True)
class ItemRef:
    """One thing that can be updated: ``("plugin", "akismet")``, ``("core", "wordpress")``."""

    kind: str
    slug: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "slug": self.slug}


@dataclass(frozen=True, slots=True)
class Item:
    """One installed component as a site reports it."""

    kind: str
    slug: str
    name: str
    version: str
    active: bool = False
    update: str = ""  # the newer version WordPress offers, or ""

    @property
    def ref(self) -> ItemRef:
        return ItemRef(self.kind, self.slug)


@dataclass(frozen=True, slots=True)
class HealthTest:
    """One of WordPress's own site health tests, as the site ran it."""

    test: str
    label: str
    status: str  # "good", "recommended" or "critical"
    badge: str = ""  # "Security", "Performance"…

    def as_json(self) -> dict[str, str]:
        return {"test": self.test, "label": self.label, "status": self.status, "badge": self.badge}


@dataclass(frozen=True, slots=True)
class Inventory:
    """What is installed on a site at one moment."""

    core_version: str
    php_version: str
    items: list[Item] = field(default_factory=list)
    connector_version: str = ""
    health: list[HealthTest] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UpdateOutcome:
    """What the site says happened to one item of an update request."""

    ref: ItemRef
    status: str  # "updated", "current" (nothing newer offered) or "failed"
    from_version: str
    to_version: str
    error: str = ""


@dataclass(frozen=True, slots=True)
class BackupFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Backup:
    """A backup the site made of itself, kept on the site until fetched."""

    id: str
    database: BackupFile | None
    items: dict[ItemRef, BackupFile]
    versions: dict[ItemRef, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "database": _file_json(self.database),
            "items": [
                {**ref.as_json(), "version": self.versions.get(ref, ""), "archive": _file_json(f)}
                for ref, f in self.items.items()
            ],
        }


def _file_json(f: BackupFile | None) -> dict[str, Any] | None:
    return None if f is None else {"name": f.name, "size": f.size, "sha256": f.sha256}


@dataclass(frozen=True, slots=True)
class SitePart:
    """One part of a full backup (``database`` or ``files``) as the site made it."""

    kind: str
    size: int
    sha256: str
    tables: dict[str, int] = field(default_factory=dict)  # rows per table (database)
    files: int = 0  # entries in the archive (files)
    skipped: int = 0  # files the site could not read


@dataclass(frozen=True, slots=True)
class Job:
    """Where a backup or restore job on the site stands.

    ``state`` is ``working`` (call its step again), ``ready`` (a backup to
    download), ``done`` (a restore or verification finished) or ``failed``
    (``error`` says why; a step with ``resume`` carries on from where it was).
    """

    id: str
    state: str
    phase: str
    done: int = 0
    total: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    parts: dict[str, SitePart] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str = ""
    chunk: int = 0  # the largest upload the site takes


class Connector:
    """One site through one kind of connection. Subclasses override what they can do."""

    kind = ""
    can_update = False

    def inventory(self, *, refresh: bool = False) -> Inventory:
        raise Unsupported(f"{self.kind} connections cannot take an inventory")

    def backup(self, items: list[ItemRef], *, database: bool = True) -> Backup:
        raise Unsupported(f"{self.kind} connections cannot take backups")

    def update(self, items: list[ItemRef]) -> list[UpdateOutcome]:
        raise Unsupported(f"{self.kind} connections cannot run updates")

    def restore(self, backup_id: str, items: list[ItemRef], *, database: bool = False) -> None:
        raise Unsupported(f"{self.kind} connections cannot restore backups")

    # Full backups and restores: jobs on the site, moved in chunks (see the companion plugin).

    def backup_start(self, job: str, parts: list[str]) -> Job:
        raise Unsupported(f"{self.kind} connections cannot take full backups")

    def backup_step(self, job: str, *, seconds: int, resume: bool = False) -> Job:
        raise Unsupported(f"{self.kind} connections cannot take full backups")

    def backup_download(self, job: str, part: str, offset: int, length: int) -> bytes:
        raise Unsupported(f"{self.kind} connections cannot take full backups")

    def backup_finish(self, job: str) -> None:
        raise Unsupported(f"{self.kind} connections cannot take full backups")

    def restore_start(self, job: str, purpose: str, parts: dict[str, SitePart]) -> Job:
        raise Unsupported(f"{self.kind} connections cannot restore full backups")

    def restore_upload(self, job: str, part: str, offset: int, data: bytes) -> int:
        raise Unsupported(f"{self.kind} connections cannot restore full backups")

    def restore_step(self, job: str, *, seconds: int, resume: bool = False) -> Job:
        raise Unsupported(f"{self.kind} connections cannot restore full backups")

    def restore_finish(self, job: str) -> None:
        raise Unsupported(f"{self.kind} connections cannot restore full backups")
