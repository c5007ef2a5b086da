"""Outbound HTTP for maintenance: guarded addresses, a hard deadline, a size cap.

Site URLs are typed by people, so every request goes through the address
guard (:mod:`caredesk.lib.netguard`): the host is resolved once, private
addresses are refused unless the site's maintenance settings allow them, and
the connection goes to the address that was checked, never to the name again.

The deadline is a whole-request deadline, not a per-read timeout: a site that
trickles one byte a second would otherwise hold a worker for as long as it
liked. A timer shuts the socket when the time is up. Redirects are not
followed: a connector's endpoint does not move, and the scan wants to see them.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from caredesk.lib import netguard

from .base import BadAnswer, TimedOut, Unreachable

DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
CHUNK = 64 * 1024
USER_AGENT = "caredesk-maintenance/1"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case; a repeated header's values joined by ", "
    body: bytes
    url: str

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent on the request line


def split_url(url: str) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise Unreachable(f"not a usable address: {url} ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unreachable(f"not an http(s) address: {url}")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname, port or default, path)


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses of ``host`` that may be contacted; raises :class:`Unreachable`."""
    literal = netguard.ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise Unreachable(f"cannot resolve {host}: {error}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise Unreachable(f"cannot resolve {host}: no address")
    try:
        return netguard.allowed_addresses(host, addresses, allow_private=allow_private)
    except netguard.AddressRefused as error:
        raise Unreachable(
            f"{error}; allow private addresses in the site's maintenance settings "
            "if this site really is on the agency's own network"
        ) from None


class _Connection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _TLSConnection(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, *, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_private: bool = False,
    ssl_context: ssl.SSLContext | None = None,
) -> Response:
    """Send one request and read the whole answer, or raise.

    Raises :class:`Unreachable` (no connection), :class:`BadAnswer` (not HTTP,
    too large) or :class:`TimedOut` (the deadline passed).
    """
    target = split_url(url)
    addresses = resolve(target.host, target.port, allow_private=allow_private)
    deadline = time.monotonic() + timeout
    failure: BaseException | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimedOut(f"no answer from {target.host} within {timeout:g} s")
        try:
            return _exchange(
                target, address, method, headers or {}, body, remaining, max_bytes, ssl_context, url
            )
        except _ConnectFailed as error:
            failure = error.__cause__ or error
    raise Unreachable(f"cannot connect to {target.host} port {target.port}: {_reason(failure)}")


class _ConnectFailed(Exception):
    pass


def _exchange(
    target: Target,
    address: str,
    method: str,
    headers: dict[str, str],
    body: bytes,
    timeout: float,
    max_bytes: int,
    ssl_context: ssl.SSLContext | None,
    url: str,
) -> Response:
    if target.scheme == "https":
        context = ssl_context or ssl.create_default_context()
        connection: http.client.HTTPConnection = _TLSConnection(
            target.host, target.port, address=address, timeout=timeout, context=context
        )
    else:
        connection = _Connection(target.host, target.port, address=address, timeout=timeout)
    expired = threading.Event()
    # http.client lets go of connection.sock once a "Connection: close" answer starts;
    # the timer needs the socket itself to cut a body that trickles in.
    opened: list[socket.socket] = []

    def cut() -> None:
        expired.set()
        for sock in opened:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(timeout, cut)
    timer.daemon = True
    timer.start()
    try:
        try:
            connection.connect()
        except ssl.SSLError as error:
            raise Unreachable(f"TLS failed with {target.host}: {error.reason or error}") from None
        except TimeoutError:
            raise TimedOut(f"no connection to {target.host} within {timeout:g} s") from None
        except OSError as error:
            if expired.is_set():
                raise TimedOut(f"no connection to {target.host} within {timeout:g} s") from None
            raise _ConnectFailed() from error
        if connection.sock is not None:
            opened.append(connection.sock)
        answer = _send_and_read(connection, target, method, headers, body, max_bytes, url)
        if expired.is_set():
            # The timer cut the socket; what arrived before that is not the whole answer.
            raise TimedOut(f"no whole answer from {target.host} within {timeout:g} s")
        return answer
    except (TimeoutError, OSError, http.client.HTTPException) as error:
        if expired.is_set() or isinstance(error, TimeoutError):
            raise TimedOut(f"no whole answer from {target.host} within {timeout:g} s") from None
        if isinstance(error, http.client.HTTPException):
            raise BadAnswer(f"{target.host} did not answer in HTTP: {_describe(error)}") from None
        raise Unreachable(f"connection to {target.host} failed: {_reason(error)}") from None
    finally:
        timer.cancel()
        connection.close()


def _send_and_read(
    connection: http.client.HTTPConnection,
    target: Target,
    method: str,
    headers: dict[str, str],
    body: bytes,
    max_bytes: int,
    url: str,
) -> Response:
    sent = {"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close", **headers}
    if body or method in ("POST", "PUT"):
        sent["Content-Length"] = str(len(body))
    connection.request(method, target.path, body=body or None, headers=sent)
    answer = connection.getresponse()
    received: dict[str, str] = {}
    for name, value in answer.getheaders():
        key = name.lower()
        received[key] = f"{received[key]}, {value}" if key in received else value
    declared = answer.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise BadAnswer(f"{target.host} sent {int(declared):,} bytes; at most {max_bytes:,} taken")
    chunks: list[bytes] = []
    size = 0
    if method != "HEAD":
        while chunk := answer.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise BadAnswer(f"{target.host} sent more than {max_bytes:,} bytes")
            chunks.append(chunk)
        if declared and declared.isdigit() and size < int(declared):
            raise http.client.IncompleteRead(b"", int(declared) - size)
    return Response(answer.status, received, b"".join(chunks), url)


def _reason(error: BaseException | None) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error or "failed").lower()


def _describe(error: http.client.HTTPException) -> str:
    text = str(error) or type(error).__name__
    return text[:120]
