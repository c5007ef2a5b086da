"""The shapes a site's answers must have, checked strictly before anything is believed.

Strict types (a version is a string, ``active`` is a boolean, not "yes"),
bounded lengths and counts: a site that lies gets a :class:`BadAnswer`
naming the first field that is wrong, and nothing of its answer is stored.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .base import BadAnswer

Slug = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^/\\\s]+$")]
Version = Annotated[str, StringConstraints(max_length=64)]
Name = Annotated[str, StringConstraints(max_length=300)]
MAX_ITEMS = 2000


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class CompanionItem(Strict):
    slug: Slug
    name: Name
    version: Version
    active: bool
    update: Version | None = None


class CompanionCore(Strict):
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    update: Version | None = None


class CompanionInventory(Strict):
    connector: Version = ""
    core: CompanionCore
    php: Version
    plugins: Annotated[list[CompanionItem], Field(max_length=MAX_ITEMS)]
    themes: Annotated[list[CompanionItem], Field(max_length=MAX_ITEMS)]


class CompanionFile(Strict):
    name: Annotated[str, StringConstraints(max_length=300)]
    size: Annotated[int, Field(ge=0, le=1 << 45)]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class CompanionBackupItem(Strict):
    kind: str
    slug: Slug
    version: Version = ""
    archive: CompanionFile


class CompanionBackup(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{16}$")]
    database: CompanionFile | None = None
    items: Annotated[list[CompanionBackupItem], Field(max_length=MAX_ITEMS)]


JobId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{7,63}$")]
TableName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Count = Annotated[int, Field(ge=0, le=1 << 50)]
PartName = Literal["database", "files"]
MAX_TABLES = 10_000


class CompanionJobPart(Strict):
    name: Literal["database.sql", "files.tar"]
    size: Annotated[int, Field(ge=0, le=1 << 45)]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    tables: Annotated[dict[TableName, Count], Field(max_length=MAX_TABLES)] | None = None
    files: Count | None = None
    skipped: Count | None = None


class CompanionJobResult(Strict):
    tables: Count
    rows: Count
    counts: Annotated[dict[TableName, Count], Field(max_length=MAX_TABLES)] = {}
    files: Count | None = None
    removed: Count | None = None


class CompanionJob(Strict):
    id: JobId
    state: Literal["working", "ready", "done", "failed"]
    phase: Annotated[str, StringConstraints(max_length=20)]
    progress: Annotated[
        dict[Annotated[str, StringConstraints(max_length=20)], Count], Field(max_length=20)
    ] = {}
    error: Annotated[str, StringConstraints(max_length=4000)] | None = None
    parts: dict[PartName, CompanionJobPart] = {}
    received: dict[PartName, Count] = {}
    result: CompanionJobResult | None = None
    chunk: Annotated[int, Field(ge=1, le=64 << 20)] | None = None


class CompanionUpload(Strict):
    id: JobId
    part: PartName
    received: Count


class CompanionUpdateResult(Strict):
    kind: str
    slug: Slug
    status: Annotated[str, StringConstraints(pattern=r"^(updated|current|failed)$")]
    from_: Annotated[Version | None, Field(alias="from")] = None
    to: Version | None = None
    error: Annotated[str, StringConstraints(max_length=2000)] | None = None


class CompanionUpdate(Strict):
    results: Annotated[list[CompanionUpdateResult], Field(max_length=MAX_ITEMS)]


class RestPlugin(Strict):
    plugin: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    status: str
    name: Name
    version: Version


class RestRendered(Strict):
    raw: Name | None = None
    rendered: Name | None = None


class RestTheme(Strict):
    stylesheet: Slug
    status: str
    name: RestRendered | Name
    version: Version


class WpCliItem(Strict):
    """A row of ``wp plugin list`` / ``wp theme list --format=json``."""

    name: Slug
    status: Annotated[str, StringConstraints(max_length=30)]
    version: Version
    update_version: Version = ""
    title: Name = ""


class WpCliCoreOffer(Strict):
    """A row of ``wp core check-update --format=json``."""

    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    update_type: Annotated[str, StringConstraints(max_length=20)] = ""


class WpCliInfo(Strict):
    """What caredesk reads of ``wp cli info --format=json``."""

    php_version: Version
    wp_cli_version: Version = ""


class WpCliUpdated(Strict):
    """A row of ``wp plugin update --format=json``."""

    name: Slug
    old_version: Version
    new_version: Version
    status: Literal["Updated", "Error"]


class WpCliManifest(Strict):
    """caredesk's own note of an item backup made over SSH (read back to roll back)."""

    kind: Literal["plugin", "theme"]
    slug: Slug
    parent: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    archive: Annotated[str, StringConstraints(pattern=r"^(plugin|theme)-[^/\\\s]{1,200}\.tar\.gz$")]


class RestBadge(Strict):
    label: Annotated[str, StringConstraints(max_length=100)] = ""


class RestHealthTest(Strict):
    label: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    status: Literal["good", "recommended", "critical"]
    badge: RestBadge | None = None
    test: Annotated[str, StringConstraints(min_length=1, max_length=100)]


Model = TypeVar("Model", bound=BaseModel)


def decode_json(body: bytes, *, who: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        start = body[:60].decode("utf-8", errors="replace").strip()
        raise BadAnswer(f"{who} did not answer in JSON (it began: {start!r})") from None


def parse(model: type[Model], data: Any, *, who: str) -> Model:
    """``data`` as ``model``, or :class:`BadAnswer` naming the first wrong field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise BadAnswer(f"{who} gave a wrong answer at {where}: {first['msg'].lower()}") from None


def parse_list(model: type[Model], data: Any, *, who: str) -> list[Model]:
    if not isinstance(data, list):
        raise BadAnswer(f"{who} gave a wrong answer: a list was expected")
    if len(data) > MAX_ITEMS:
        raise BadAnswer(f"{who} listed {len(data):,} entries; at most {MAX_ITEMS:,} are believed")
    return [parse(model, entry, who=f"{who} (entry {n + 1})") for n, entry in enumerate(data)]
