"""Moving backup parts between a site and caredesk in checked chunks, resumable anywhere.

A download appends to a file in the work folder and starts again from that
file's size; an upload starts from what the site says it already has. Each
chunk carries its own SHA-256 and the whole part is checked against the
checksum the site reported when it made the backup, so a site (or a network)
that changes a single byte is caught, and nothing is ever moved twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

from . import connectors
from .connectors import BadAnswer, SitePart

CHUNK = 4 * 1024 * 1024  # a download's request size
UPLOAD_MAX = 8 * 1024 * 1024  # an upload's, when the site takes that much (it says)
READ = 1024 * 1024

Progress = Callable[[int, int], None]


class ChecksumMismatch(BadAnswer):
    """A whole part does not match the checksum its maker reported: it is not to be kept."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(READ):
            digest.update(block)
    return digest.hexdigest()


def download(
    site: connectors.Connector, job: str, part: SitePart, path: Path, progress: Progress
) -> bool:
    """Fetch ``part`` into ``path``; True if anything had to be fetched."""
    have = path.stat().st_size if path.exists() else 0
    if have > part.size:
        path.unlink()
        have = 0
    fetched = have < part.size
    with path.open("ab") as out:
        while have < part.size:
            data = site.backup_download(job, part.kind, have, min(CHUNK, part.size - have))
            out.write(data)
            out.flush()
            have += len(data)
            progress(have, part.size)
    if sha256_file(path) != part.sha256:
        path.unlink()
        raise ChecksumMismatch(
            f"the {part.kind} the site sent differs from the checksum it reported when it "
            "made the backup"
        )
    return fetched


def upload(
    site: connectors.Connector,
    job: str,
    part: SitePart,
    source: IO[bytes],
    *,
    start: int,
    chunk: int,
    progress: Progress,
) -> None:
    """Send ``part`` from ``source`` (a stream of the whole part) from byte ``start`` on."""
    chunk = max(64 * 1024, min(chunk or CHUNK, UPLOAD_MAX))
    skipped = 0
    while skipped < start:
        block = source.read(min(READ, start - skipped))
        if not block:
            break
        skipped += len(block)
    offset = start
    while offset < part.size:
        data = source.read(min(chunk, part.size - offset))
        if not data:
            raise BadAnswer(f"the stored {part.kind} ended at {offset:,} bytes of {part.size:,}")
        received = site.restore_upload(job, part.kind, offset, data)
        if received != offset + len(data):
            raise BadAnswer(
                f"the site says it has {received:,} bytes of the {part.kind} after "
                f"{offset + len(data):,} were sent"
            )
        offset = received
        progress(offset, part.size)
