"""WP-CLI over SSH: inventory, updates and item backups on hosts where the agency has a shell.

One SSH connection per call (:mod:`asyncssh`), to the address the guard
allowed (private addresses only where the site's settings allow them). The
server's host key is pinned per site: the first key seen is handed to
``config.on_host_key`` to be stored, and from then on a server showing another
key is refused before any credential is sent. The site's secret is an SSH
private key (OpenSSH or PEM, unencrypted) or a password; nothing from the
machine's own ``~/.ssh`` (keys, agent, config, known hosts) is used.

Every command is a list of words, each quoted for the remote shell, run with
a deadline (the process is closed when it passes) and a cap on what it may
print; JSON answers go through the same strict checks as the other kinds
(:mod:`.answers`). WP-CLI's own error line (``Error: …``) becomes the message.

Item backups for an update run's roll back are tar archives of the items'
folders and a ``wp db export`` in ``.caredesk-backups/<id>/`` under the SSH
user's home (outside the web root), with a manifest of where each folder
lives, so a roll back needs no working WordPress: ``tar`` puts the folder back
and ``wp db import`` the database. Archives older than 30 days are removed.
Full backups (database and files into the repository) need the companion plugin.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
import re
import secrets
import shlex
from collections.abc import Awaitable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncssh

from caredesk.lib import clock

from . import answers, http
from .base import (
    AuthRefused,
    Backup,
    BackupFile,
    BadAnswer,
    Connector,
    HostKeyChanged,
    Inventory,
    Item,
    ItemRef,
    NotConfigured,
    RemoteFailed,
    TimedOut,
    Unreachable,
    UpdateOutcome,
)
from .config import ConnectionConfig

MAX_OUTPUT = 4 * 1024 * 1024  # what a command may print on stdout
MAX_ERRORS = 64 * 1024  # and on stderr
BACKUPS = ".caredesk-backups"  # under the SSH user's home; commands start there
KEEP_DAYS = 30
VERSION = re.compile(r"^[0-9][0-9A-Za-z.+-]{0,63}$")
CHECKSUM = re.compile(r"^([0-9a-f]{64})\s")
PLUGIN_STATES = ("active", "inactive", "active-network")  # must-use and drop-ins are no items
T = TypeVar("T")


@dataclass(frozen=True)
class Output:
    status: int | None  # None: killed by a signal
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    def error_line(self) -> str:
        """WP-CLI's ``Error: …`` line, else the last line it printed on stderr."""
        lines = [
            line.strip()
            for line in self.stderr.decode("utf-8", errors="replace").splitlines()
            if line.strip()
        ]
        for line in lines:
            if line.startswith("Error:"):
                return line.removeprefix("Error:").strip()[:500]
        return lines[-1][:500] if lines else f"exit status {self.status}"


def normal_key(text: str) -> str:
    """``ssh-ed25519 AAAA…`` (type and key, no comment) of an OpenSSH public key line."""
    parts = text.split()
    return " ".join(parts[:2])


def fingerprint(text: str) -> str:
    try:
        return str(asyncssh.import_public_key(normal_key(text)).get_fingerprint("sha256"))
    except (asyncssh.KeyImportError, ValueError):
        return "an unreadable key"


class _Client(asyncssh.SSHClient):
    """Checks the server's host key against the pinned one, before any credential goes out."""

    def __init__(self, pinned: str) -> None:
        self.pinned = normal_key(pinned) if pinned else ""
        self.seen = ""

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        self.seen = normal_key(key.export_public_key("openssh").decode("ascii"))
        return not self.pinned or self.seen == self.pinned


class Session:
    """One SSH connection: commands one after another, each with its own deadline."""

    def __init__(self, connector: WpCliConnector) -> None:
        self.connector = connector
        self.config = connector.config
        self._runner = asyncio.Runner()
        self._conn: asyncssh.SSHClientConnection | None = None

    def __enter__(self) -> Session:
        client = _Client(self.config.ssh_host_key)
        try:
            self._conn = self._wait(self._connect(client), self.config.timeout, "connecting")
        except BaseException:
            self._runner.close()
            raise
        # Told here, outside the event loop: the listener may write to the database.
        if not client.pinned and client.seen and self.config.on_host_key is not None:
            self.config.on_host_key(client.seen)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if self._conn is not None:
                self._conn.close()
                self._wait(self._conn.wait_closed(), 5, "closing")
        except (OSError, asyncssh.Error, TimedOut):
            pass
        finally:
            self._runner.close()

    def _wait(self, work: Awaitable[T], seconds: float, doing: str) -> T:
        async def bounded() -> T:
            async with asyncio.timeout(seconds):
                return await work

        try:
            return self._runner.run(bounded())
        except TimeoutError:
            raise TimedOut(
                f"{self.connector.host}: no answer {doing} within {seconds:g} s"
            ) from None

    async def _connect(self, client: _Client) -> asyncssh.SSHClientConnection:
        config = self.config
        host, port = self.connector.host, self.connector.port
        addresses = http.resolve(host, port, allow_private=config.allow_private)
        options: dict[str, Any] = {
            "username": config.user.strip(),
            "known_hosts": ([], [], []),  # nothing trusted: _Client decides
            "client_factory": lambda: client,
            "agent_path": None,
            "config": [],
            "connect_timeout": config.timeout,
            "login_timeout": config.timeout,
        }
        if client.pinned:
            # Ask for the pinned key's kind, or a server with several keys may show another.
            pinned = asyncssh.import_public_key(client.pinned)
            options["server_host_key_algs"] = [a.decode() for a in pinned.sig_algorithms]
        if self.connector.key is not None:
            options["client_keys"] = [self.connector.key]
            options["password"] = None
        else:
            options["client_keys"] = None
            options["password"] = config.secret
        failure: BaseException | None = None
        for address in addresses:
            try:
                conn = await asyncssh.connect(address, port, **options)
            except asyncssh.HostKeyNotVerifiable:
                raise HostKeyChanged(
                    f"{host}'s SSH host key changed: it showed {fingerprint(client.seen)}, "
                    f"caredesk pinned {fingerprint(client.pinned)}. Refused before logging in. "
                    "If the host really changed its key, clear the pinned key in the site's "
                    "maintenance settings."
                ) from None
            except asyncssh.PermissionDenied:
                raise AuthRefused(
                    f"the SSH server {host} refused user {config.user.strip()!r} with this "
                    + ("key" if self.connector.key is not None else "password")
                ) from None
            except (OSError, asyncssh.Error) as error:
                failure = error
                continue
            return conn
        raise Unreachable(f"cannot connect to {host} port {port} over SSH: {failure}")

    def run(self, words: list[str], *, timeout: float | None = None) -> Output:
        """Run one command (its words quoted for the remote shell) and collect what it said."""
        seconds = timeout or self.config.timeout
        command = " ".join(shlex.quote(word) for word in words)
        try:
            return self._wait(self._exec(command), seconds, f"to {self.connector.describe(words)}")
        except (OSError, asyncssh.Error) as error:
            raise Unreachable(
                f"the SSH connection to {self.connector.host} failed: {error}"
            ) from None

    async def _exec(self, command: str) -> Output:
        if self._conn is None:
            raise Unreachable(f"not connected to {self.connector.host}")
        process = await self._conn.create_process(command, stdin=asyncssh.DEVNULL, encoding=None)
        try:
            stdout, stderr = await asyncio.gather(
                _read(process.stdout, MAX_OUTPUT), _read(process.stderr, MAX_ERRORS)
            )
            await process.wait_closed()
        finally:
            # On a deadline or a flood: close the channel, which ends the remote command.
            process.close()
        return Output(process.exit_status, stdout, stderr)


async def _read(stream: asyncssh.SSHReader[bytes], limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.read(65536):
        size += len(chunk)
        if size > limit:
            raise BadAnswer(f"a command printed more than {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class WpCliConnector(Connector):
    kind = "wp_cli_ssh"
    can_update = True

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config
        self.host = (config.ssh_host or urlsplit(config.url).hostname or "").strip()
        self.port = config.ssh_port or 22
        if not self.host:
            raise NotConfigured("an SSH host is needed (or a site address to take it from)")
        if not config.user.strip():
            raise NotConfigured("an SSH user name is needed")
        if not config.secret.strip():
            raise NotConfigured("an SSH private key or password is needed as the site's secret")
        self.key: asyncssh.SSHKey | None = None
        if "PRIVATE KEY" in config.secret:
            try:
                self.key = asyncssh.import_private_key(config.secret.strip())
            except (asyncssh.KeyImportError, ValueError) as error:
                raise NotConfigured(f"the site's SSH key cannot be read: {error}") from None
        try:
            self.wp = shlex.split(config.wp_cli or "wp")
        except ValueError as error:
            raise NotConfigured(f"the WP-CLI command cannot be read: {error}") from None
        if not self.wp:
            raise NotConfigured("the WP-CLI command is empty")

    # Commands ---------------------------------------------------------------------------

    def session(self) -> Session:
        return Session(self)

    def describe(self, words: list[str]) -> str:
        if words[: len(self.wp)] == self.wp:
            words = ["wp", *[w for w in words[len(self.wp) :] if not w.startswith("--path=")]]
        return " ".join(words[:4])

    def wp_words(self, *args: str) -> list[str]:
        path = [f"--path={self.config.wp_path}"] if self.config.wp_path.strip() else []
        return [*self.wp, *path, *args]

    def wp_run(self, session: Session, *args: str, timeout: float | None = None) -> Output:
        """``wp ARGS`` that must succeed; WP-CLI's error becomes the exception's message."""
        out = session.run(self.wp_words(*args), timeout=timeout)
        if out.status == 127:
            raise NotConfigured(
                f"WP-CLI is not found on {self.host} as {self.config.wp_cli!r}: set the "
                "WP-CLI command in the site's maintenance settings"
            )
        if out.status != 0:
            raise RemoteFailed(f"wp {' '.join(args[:2])} failed on {self.host}: {out.error_line()}")
        return out

    def wp_json(self, session: Session, *args: str, timeout: float | None = None) -> Any:
        out = self.wp_run(session, *args, "--format=json", timeout=timeout)
        text = out.stdout.strip()
        if not text:
            return []  # WP-CLI prints nothing for an empty list in some versions
        return answers.decode_json(text, who=f"wp {' '.join(args[:2])}")

    def shell(self, session: Session, *words: str, timeout: float | None = None) -> Output:
        out = session.run(list(words), timeout=timeout)
        if out.status != 0:
            raise RemoteFailed(f"{words[0]} failed on {self.host}: {out.error_line()}")
        return out

    # Inventory --------------------------------------------------------------------------

    def inventory(self, *, refresh: bool = False) -> Inventory:
        with self.session() as session:
            core = self.core_version(session)
            offers = answers.parse_list(
                answers.WpCliCoreOffer,
                self.wp_json(session, "core", "check-update", "--fields=version,update_type"),
                who="wp core check-update",
            )
            info = answers.parse(
                answers.WpCliInfo, self.wp_json(session, "cli", "info"), who="wp cli info"
            )
            plugins = self.items(session, "plugin")
            themes = self.items(session, "theme")
        # WordPress offers the newest release first, and the newest of its branch after it.
        newest = offers[0].version if offers else ""
        items = [Item("core", "wordpress", "WordPress", core, True, newest)]
        items += [
            Item(
                "plugin",
                p.name,
                p.title or p.name,
                p.version,
                p.status != "inactive",
                p.update_version,
            )
            for p in plugins
            if p.status in PLUGIN_STATES
        ]
        items += [
            Item(
                "theme",
                t.name,
                t.title or t.name,
                t.version,
                t.status == "active",
                t.update_version,
            )
            for t in themes
        ]
        connector = f"WP-CLI {info.wp_cli_version}" if info.wp_cli_version else "WP-CLI"
        return Inventory(core, info.php_version, items, connector[:64])

    def core_version(self, session: Session) -> str:
        version = self.wp_run(session, "core", "version").text.strip()
        if not VERSION.match(version):
            raise BadAnswer(f"wp core version answered {version[:60]!r}, not a version")
        return version

    def items(self, session: Session, kind: str, *options: str) -> list[answers.WpCliItem]:
        fields = "--fields=name,status,version,update_version,title"
        data = self.wp_json(session, kind, "list", fields, *options)
        return answers.parse_list(answers.WpCliItem, data, who=f"wp {kind} list")

    def versions(self, session: Session) -> dict[ItemRef, str]:
        """What is installed, read without loading plugins or the theme: a release that
        breaks every page (the case for a roll back) must not break the reading too."""
        found = {ItemRef("core", "wordpress"): self.core_version(session)}
        quick = ("--skip-plugins", "--skip-themes", "--skip-update-check")
        for kind in ("plugin", "theme"):
            for item in self.items(session, kind, *quick):
                found[ItemRef(kind, item.name)] = item.version
        return found

    # Updates ----------------------------------------------------------------------------

    def update(self, items: list[ItemRef]) -> list[UpdateOutcome]:
        timeout = self.config.update_timeout
        outcomes = []
        with self.session() as session:
            before = self.versions(session)
            for ref in items:
                outcomes.append(self._update_one(session, ref, before, timeout))
        return outcomes

    def _update_one(
        self, session: Session, ref: ItemRef, before: dict[ItemRef, str], timeout: float
    ) -> UpdateOutcome:
        was = before.get(ref)
        if was is None:
            return UpdateOutcome(ref, "failed", "", "", "not installed")
        try:
            if ref.kind == "core":
                self.wp_run(session, "core", "update", timeout=timeout)
                self.wp_run(session, "core", "update-db", timeout=timeout)
            else:
                rows = answers.parse_list(
                    answers.WpCliUpdated,
                    self.wp_json(session, ref.kind, "update", ref.slug, timeout=timeout),
                    who=f"wp {ref.kind} update",
                )
                failed = [r for r in rows if r.name == ref.slug and r.status == "Error"]
                if failed:
                    return UpdateOutcome(ref, "failed", was, was, "WP-CLI says the update failed")
        except RemoteFailed as error:
            now = self.versions(session).get(ref, "")
            return UpdateOutcome(ref, "failed", was, now, str(error))
        now = self.versions(session).get(ref, "")
        if now == was:
            return UpdateOutcome(ref, "current", was, now)
        return UpdateOutcome(ref, "updated", was, now)

    # Item backups for the roll back -----------------------------------------------------

    def backup(self, items: list[ItemRef], *, database: bool = True) -> Backup:
        backup_id = f"{clock.now():%Y%m%d-%H%M%S}-{secrets.token_hex(8)}"
        folder = f"{BACKUPS}/{backup_id}"
        timeout = self.config.update_timeout
        with self.session() as session:
            self.shell(session, "mkdir", "-p", "-m", "700", "--", folder)
            old = ["-mindepth", "1", "-maxdepth", "1", "-type", "d", "-mtime", f"+{KEEP_DAYS}"]
            session.run(["find", BACKUPS, *old, "-exec", "rm", "-rf", "--", "{}", "+"])
            manifest = []
            files: dict[ItemRef, BackupFile] = {}
            versions = self.versions(session)
            for ref in items:
                if ref.kind not in ("plugin", "theme"):
                    raise RemoteFailed(f"{ref.kind} {ref.slug} is not backed up item by item")
                parent, name = self._where(session, ref)
                archive = f"{ref.kind}-{ref.slug}.tar.gz"
                tar = ["tar", "-czf", f"{folder}/{archive}", "-C", parent, "--", name]
                self.shell(session, *tar, timeout=timeout)
                files[ref] = self._file(session, folder, archive)
                manifest.append(
                    {
                        "kind": ref.kind,
                        "slug": ref.slug,
                        "parent": parent,
                        "name": name,
                        "archive": archive,
                    }
                )
            database_file = None
            if database:
                self.wp_run(session, "db", "export", f"{folder}/database.sql", timeout=timeout)
                database_file = self._file(session, folder, "database.sql")
            # Where each folder lives, so a roll back needs no working WordPress.
            note = f"printf '%s' {shlex.quote(json.dumps(manifest))} > {folder}/manifest.json"
            self.shell(session, "sh", "-c", note)
        return Backup(backup_id, database_file, files, {r: versions.get(r, "") for r in items})

    def _where(self, session: Session, ref: ItemRef) -> tuple[str, str]:
        """The folder holding the item and its entry there (a single-file plugin is a file)."""
        root = self.wp_run(session, ref.kind, "path").text.strip()
        found = self.wp_run(session, ref.kind, "path", ref.slug, "--dir").text.strip()
        if not found.startswith("/") or not root.startswith("/"):
            raise BadAnswer(f"wp {ref.kind} path answered {found[:80]!r}, not a folder")
        if posixpath.normpath(found) == posixpath.normpath(root):
            file = self.wp_run(session, ref.kind, "path", ref.slug).text.strip()
            return posixpath.dirname(file), posixpath.basename(file)
        return posixpath.dirname(posixpath.normpath(found)), posixpath.basename(found.rstrip("/"))

    def _file(self, session: Session, folder: str, name: str) -> BackupFile:
        path = f"{folder}/{name}"
        digest = CHECKSUM.match(self.shell(session, "sha256sum", "--", path).text)
        size = self.shell(session, "wc", "-c", "--", path).text.split()
        if digest is None or not size or not size[0].isdigit():
            raise BadAnswer(f"cannot read the size and checksum of {name} on {self.host}")
        return BackupFile(name, int(size[0]), digest.group(1))

    def restore(self, backup_id: str, items: list[ItemRef], *, database: bool = False) -> None:
        if not re.fullmatch(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{16}", backup_id):
            raise BadAnswer(f"{backup_id!r} is not the id of a backup")
        folder = f"{BACKUPS}/{backup_id}"
        timeout = self.config.update_timeout
        with self.session() as session:
            saved = self.shell(session, "cat", "--", f"{folder}/manifest.json")
            entries = answers.parse_list(
                answers.WpCliManifest,
                answers.decode_json(saved.stdout, who="the backup's manifest"),
                who="the backup's manifest",
            )
            by_ref = {ItemRef(e.kind, e.slug): e for e in entries}
            for ref in items:
                entry = by_ref.get(ref)
                if entry is None:
                    raise RemoteFailed(f"{ref.kind} {ref.slug} is not in backup {backup_id}")
                self._put_back(session, folder, entry, timeout)
            if database:
                self.wp_run(session, "db", "import", f"{folder}/database.sql", timeout=timeout)

    def _put_back(
        self, session: Session, folder: str, entry: answers.WpCliManifest, timeout: float
    ) -> None:
        current = f"{entry.parent}/{entry.name}"
        aside = f"{entry.parent}/.caredesk-old-{entry.name}-{secrets.token_hex(4)}"
        moved = session.run(["mv", "--", current, aside]).status == 0
        extracted = session.run(
            ["tar", "-xzf", f"{folder}/{entry.archive}", "-C", entry.parent], timeout=timeout
        )
        if extracted.status != 0:
            if moved:
                session.run(["rm", "-rf", "--", current])
                session.run(["mv", "--", aside, current])
            raise RemoteFailed(
                f"cannot unpack {entry.archive} on {self.host}: {extracted.error_line()}"
            )
        if moved:
            session.run(["rm", "-rf", "--", aside], timeout=timeout)
