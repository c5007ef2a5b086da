"""An SSH server on 127.0.0.1 (asyncssh) that runs each command in a real shell.

Commands run with ``/bin/sh -c`` in the server's own "home" folder, as an SSH
server runs them in the user's home; when the client closes the channel (its
deadline passed) the command's whole process group is killed, as sshd does by
hanging up. The server records the commands it ran and every log-in attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from pathlib import Path

import asyncssh

USER = "deploy"
PASSWORD = "a-long-ssh-password-42"


class _Server(asyncssh.SSHServer):
    def __init__(self, owner: SSHServer) -> None:
        self.owner = owner

    def begin_auth(self, username: str) -> bool:
        self.owner.logins.append(username)
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        self.owner.passwords.append(password)
        return username == USER and password == PASSWORD

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return username == USER and any(
            key.public_data == allowed.public_data for allowed in self.owner.client_keys
        )


class SSHServer:
    def __init__(self, home: Path, host_key: asyncssh.SSHKey | None = None) -> None:
        self.home = home
        self.home.mkdir(parents=True, exist_ok=True)
        self.host_key = host_key or asyncssh.generate_private_key("ssh-ed25519")
        self.client_keys: list[asyncssh.SSHKey] = []
        self.commands: list[str] = []
        self.logins: list[str] = []
        self.passwords: list[str] = []
        self.killed: list[str] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncssh.SSHAcceptor | None = None

    @property
    def public_host_key(self) -> str:
        return self.host_key.export_public_key("openssh").decode().strip()

    def start(self) -> SSHServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(timeout=30)
        return self

    async def _start(self) -> None:
        self._server = await asyncssh.create_server(
            lambda: _Server(self),
            "127.0.0.1",
            self.port,
            server_host_keys=[self.host_key],
            process_factory=self._process,
            encoding=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _process(self, process: asyncssh.SSHServerProcess) -> None:
        command = process.command or ""
        self.commands.append(command)
        child = await asyncio.create_subprocess_shell(
            command,
            cwd=self.home,
            env={**os.environ, "HOME": str(self.home)},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        work = asyncio.ensure_future(child.communicate())
        closed = asyncio.ensure_future(process.channel.wait_closed())
        await asyncio.wait([work, closed], return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            self.killed.append(command)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            await child.wait()
            work.cancel()
            return
        closed.cancel()
        stdout, stderr = work.result()
        with contextlib.suppress(OSError, asyncssh.Error):
            process.stdout.write(stdout)
            process.stderr.write(stderr)
            process.exit(child.returncode if child.returncode >= 0 else 255)

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
