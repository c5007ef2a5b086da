"""restic, the backup engine: encrypted, de-duplicated snapshots in one repository.

caredesk runs the ``restic`` program (Debian package ``restic``) with the
repository and password from the settings in its environment, never on the
command line. A backup is one snapshot of a folder holding ``database.sql``
and ``files.tar``, with the host ``caredesk-site-<id>`` (retention works per
host) and the tags ``caredesk``, ``site-<id>`` and ``cd-<backup key>`` (how a
retry finds a snapshot it already made instead of storing it twice).

Pruning and checking lock the whole repository; another restic process that
finds it locked waits and tries again, up to ``CAREDESK_BACKUP_LOCK_WAIT``
seconds, after clearing locks left by processes that died.

    ResticError            a sentence for staff: what failed and what to do
    ├── ResticMissing      the program is not installed
    └── RepositoryLocked   another process held the lock for too long
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from django.conf import settings

LOCKED_MARKERS = ("repository is already locked", "unable to create lock")
NO_REPOSITORY_MARKERS = (
    "does not exist",
    "unable to open config file",
    "Is there a repository at the following location",
)


class ResticError(Exception):
    """Storing or reading a backup failed; ``str(error)`` is shown to staff as it is."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class ResticMissing(ResticError):
    pass


class RepositoryLocked(ResticError):
    pass


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: str
    time: str
    host: str
    tags: tuple[str, ...]
    paths: tuple[str, ...]

    @property
    def short_id(self) -> str:
        return self.id[:8]


@dataclass(frozen=True, slots=True)
class Stored:
    snapshot: Snapshot
    new_bytes: int | None  # what the repository had to add; None when it was already there


_ready: set[str] = set()  # repositories this process has seen exist


class Repository:
    def __init__(
        self,
        url: str,
        password: str,
        *,
        binary: str = "restic",
        cache_dir: str | None = None,
        lock_wait: float = 600.0,
    ) -> None:
        if not password:
            raise ResticError(
                "CAREDESK_RESTIC_PASSWORD is not set: the backup repository needs a password"
            )
        self.url = url
        self.password = password
        self.binary = binary
        self.cache_dir = cache_dir
        self.lock_wait = lock_wait

    @classmethod
    def from_settings(cls) -> Repository:
        return cls(
            settings.CAREDESK_RESTIC_REPOSITORY,
            settings.CAREDESK_RESTIC_PASSWORD or "",
            binary=settings.CAREDESK_RESTIC_BINARY,
            cache_dir=str(Path(settings.CAREDESK_BACKUP_WORK_DIR) / ".restic-cache"),
            lock_wait=float(settings.CAREDESK_BACKUP_LOCK_WAIT),
        )

    def _env(self) -> dict[str, str]:
        # The provider's own variables (AWS_ACCESS_KEY_ID…) pass through; the password is ours.
        ignored = ("RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND", "RESTIC_REPOSITORY_FILE")
        env = {k: v for k, v in os.environ.items() if k not in ignored}
        env.update(RESTIC_REPOSITORY=self.url, RESTIC_PASSWORD=self.password, TZ="UTC")
        if self.cache_dir and "RESTIC_CACHE_DIR" not in os.environ:
            env["RESTIC_CACHE_DIR"] = self.cache_dir
        return env

    def _command(self, *args: str) -> list[str]:
        return [self.binary, *args] if self.cache_dir else [self.binary, "--no-cache", *args]

    def _run(self, *args: str, wait_for_lock: bool = True) -> str:
        """Run restic; its standard output, or :class:`ResticError` with its own words."""
        deadline = time.monotonic() + (self.lock_wait if wait_for_lock else 0)
        pause = 1.0
        while True:
            try:
                done = subprocess.run(  # noqa: S603 - a fixed program with arguments we built
                    self._command(*args),
                    env=self._env(),
                    capture_output=True,
                    text=True,
                    check=False,
                )
            except FileNotFoundError:
                raise _missing(self.binary) from None
            if done.returncode == 0:
                return done.stdout
            if any(marker in done.stderr for marker in LOCKED_MARKERS):
                if time.monotonic() >= deadline:
                    raise RepositoryLocked(
                        f"the backup repository stayed locked by another restic process "
                        f"for {self.lock_wait:g} s: {_last_line(done.stderr)}"
                    )
                self._unlock_stale()
                time.sleep(pause)
                pause = min(pause * 2, 30.0)
                continue
            raise ResticError(f"restic {args[0]} failed: {_explain(done.stderr)}", done.stderr)

    def _unlock_stale(self) -> None:
        # Only locks of processes that are gone (or older than restic's limit) are removed.
        with contextlib.suppress(ResticError):
            self._run("unlock", wait_for_lock=False)

    def ensure(self) -> None:
        """Make the repository if there is none yet at the URL."""
        if self.url in _ready:
            return
        try:
            self._run("cat", "config", wait_for_lock=False)
        except ResticMissing:
            raise
        except ResticError as error:
            if not any(marker in error.stderr for marker in NO_REPOSITORY_MARKERS):
                raise
            self._run("init", wait_for_lock=False)
        _ready.add(self.url)

    def backup(
        self, folder: Path, *, host: str, tags: list[str], at: datetime | None = None
    ) -> Stored:
        """Store ``folder`` as one snapshot; what it is and how much the repository added."""
        args = ["backup", "--json", "--host", host]
        for tag in tags:
            args += ["--tag", tag]
        if at is not None:
            args += ["--time", at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")]
        output = self._run(*args, str(folder))
        added = None
        for line in output.splitlines():
            with contextlib.suppress(ValueError):
                message = json.loads(line)
                if isinstance(message, dict) and message.get("message_type") == "summary":
                    added = int(message.get("data_added", 0))
        found = self.find(tags[-1])
        if found is None:
            raise ResticError("restic said the backup was stored, but its snapshot is not there")
        return Stored(found, added)

    def snapshots(self, *, host: str | None = None, tag: str | None = None) -> list[Snapshot]:
        args = ["snapshots", "--json"]
        if host:
            args += ["--host", host]
        if tag:
            args += ["--tag", tag]
        try:
            listed = json.loads(self._run(*args) or "[]")
        except ValueError:
            raise ResticError("restic snapshots did not answer in JSON") from None
        return [
            Snapshot(
                id=str(s["id"]),
                time=str(s.get("time", "")),
                host=str(s.get("hostname", "")),
                tags=tuple(s.get("tags") or ()),
                paths=tuple(s.get("paths") or ()),
            )
            for s in listed or []
        ]

    def find(self, tag: str) -> Snapshot | None:
        found = self.snapshots(tag=tag)
        return found[-1] if found else None

    @contextlib.contextmanager
    def dump(self, snapshot_id: str, path: str) -> Iterator[IO[bytes]]:
        """A stream of one file of a snapshot, read back (and authenticated) by restic."""
        with tempfile.TemporaryFile() as errors:
            try:
                process = subprocess.Popen(  # noqa: S603 - a fixed program with arguments we built
                    self._command("dump", snapshot_id, path),
                    env=self._env(),
                    stdout=subprocess.PIPE,
                    stderr=errors,
                )
            except FileNotFoundError:
                raise _missing(self.binary) from None
            assert process.stdout is not None  # noqa: S101 - Popen made the pipe above
            finished = False
            try:
                yield process.stdout
                finished = True
            finally:
                if not finished:
                    process.kill()
                process.stdout.close()
                code = process.wait()
            if code != 0:
                errors.seek(0)
                text = errors.read().decode("utf-8", errors="replace")
                raise ResticError(f"restic could not read {path} back: {_explain(text)}")

    def forget(self, *, host: str, keep_last: int, keep_monthly: int) -> set[str]:
        """Remove the host's snapshots the rules do not keep, and the data only they used;
        the ids of the host's snapshots that remain."""
        args = ["forget", "--json", "--prune", "--host", host, "--group-by", "host"]
        if keep_last:
            args += ["--keep-last", str(keep_last)]
        if keep_monthly:
            args += ["--keep-monthly", str(keep_monthly)]
        output = self._run(*args)
        try:
            # The JSON is the first line; pruning may print its own lines after it.
            groups = json.loads(output.splitlines()[0]) if output.strip() else []
            return {str(s["id"]) for group in groups or [] for s in group.get("keep") or []}
        except (ValueError, IndexError, KeyError, TypeError, AttributeError):
            return {snapshot.id for snapshot in self.snapshots(host=host)}

    def check(self, read_data_subset: str | None = None) -> str:
        """restic's own check of the repository's structure (and of some data, if asked)."""
        args = ["check"]
        if read_data_subset:
            args += ["--read-data-subset", read_data_subset]
        return self._run(*args)


def _missing(binary: str) -> ResticMissing:
    where = shutil.which(binary)
    return ResticMissing(
        f"restic is not installed (looked for {where or binary!r}): install the Debian package "
        "restic (apt install restic), or point CAREDESK_RESTIC_BINARY at the program"
    )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    fatal = [line.removeprefix("Fatal:").strip() for line in lines if line.startswith("Fatal:")]
    found = fatal[0] if fatal else (lines[-1] if lines else "no explanation")
    return found[:300]


def _explain(stderr: str) -> str:
    if "wrong password" in stderr:
        return (
            "the repository does not open with CAREDESK_RESTIC_PASSWORD (wrong password, "
            "or a repository made with another one)"
        )
    return _last_line(stderr)
