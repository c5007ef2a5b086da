"""A minimal HTTP/1.1 client for checks: one request per fresh connection.

Why not a client library: a check needs the timing of each phase of one
connection (DNS, connect, TLS, first byte) and a new connection every time.
Pooled clients hide both behind their pool; the pieces of HTTP a check needs
(a request, a status line, headers, a body up to a cap, chunked or
content-length, redirects) fit in this module. docs/monitoring.md has the
longer argument.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

from . import net
from .errors import ConnectFailed, ProtocolFailed, RedirectFailed, TlsFailed
from .spec import MonitorSpec, Phases

REDIRECTS = frozenset({301, 302, 303, 307, 308})
BODY_LIMIT = 1024 * 1024  # bytes read at most: enough for any keyword a page shows
MAX_HEADERS = 100
READ_SIZE = 64 * 1024
USER_AGENT = "caredesk-monitor/1 (uptime check)"
FORM = "application/x-www-form-urlencoded"  # a body's type unless a header says otherwise


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    cert_days: int | None = None  # soonest-expiring certificate met on the way
    url: str = ""


async def fetch(spec: MonitorSpec, context: net.CheckContext, phases: Phases) -> Response:
    """The final response for ``spec.url``, following redirects as the monitor says."""
    url, method = spec.url, spec.method
    home = parse_target(url).origin
    seen = {url}
    cert_days: int | None = None
    for _ in range(spec.max_redirects + 1):
        response = await exchange(method, url, spec, context, phases, home=home)
        if response.cert_days is not None:
            days = response.cert_days
            cert_days = days if cert_days is None else min(cert_days, days)
        response.cert_days = cert_days
        location = response.headers.get("location")
        if not (spec.follow_redirects and response.status in REDIRECTS and location):
            return response
        url = _redirect_target(url, location)
        if url in seen:
            raise RedirectFailed(f"redirect loop: {url} was already visited")
        seen.add(url)
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method = "GET"  # what browsers do
    raise RedirectFailed(f"more than {spec.max_redirects} redirects (last to {url})")


def _redirect_target(current: str, location: str) -> str:
    target = urljoin(current, location.strip())
    if urlsplit(target).scheme not in ("http", "https"):
        raise RedirectFailed(f"redirect to a non-web address: {location[:200]}")
    return target


@dataclass(frozen=True, slots=True)
class Target:
    tls: bool
    host: str
    port: int
    host_header: str
    path: str

    @property
    def origin(self) -> tuple[bool, str, int]:
        return self.tls, self.host, self.port


def parse_target(url: str) -> Target:
    """Where to connect and what to ask for; raises ProtocolFailed for an unusable URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ProtocolFailed(f"bad URL {url[:200]!r}: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ProtocolFailed(f"not an http(s) URL: {url[:200]!r}")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise ProtocolFailed(f"bad host name in {url[:200]!r}") from None
    default_port = 443 if scheme == "https" else 80
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port in (None, default_port) else f"{shown}:{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~-._")
    if parts.query:
        path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=~-._?")
    return Target(scheme == "https", host, port or default_port, host_header, path)


async def exchange(
    method: str,
    url: str,
    spec: MonitorSpec,
    context: net.CheckContext,
    phases: Phases,
    *,
    home: tuple[bool, str, int] | None = None,
) -> Response:
    """One request and its response, on a connection of its own.

    The monitor's headers, basic auth and body go only to ``home``, the origin
    of its own URL: a redirect to another host must not carry its credentials.
    """
    target = parse_target(url)
    own = home is None or target.origin == home
    reader, writer = await net.open_stream(
        target.host,
        target.port,
        context=context,
        phases=phases,
        allow_private=spec.allow_private,
        tls=target.tls,
    )
    try:
        response = Response(status=0, url=url)
        if target.tls:
            response.cert_days = net.cert_days_left(writer, context.wall())
        writer.write(_request(method, target, spec if own else None))
        phases.begin("first_byte")
        response.status = await _status(reader)
        phases.end("first_byte")
        phases.current = "response"
        while 100 <= response.status < 200 and response.status != 101:
            await _headers(reader)  # an interim answer (100 Continue); the real one follows
            response.status = await _status(reader)
        response.headers = await _headers(reader)
        keep = BODY_LIMIT if spec.keyword else 0
        response.body = await _body(reader, method, response, keep)
        return response
    except ConnectionError as error:
        raise ConnectFailed(f"connection lost during the response: {error}") from None
    except ssl.SSLError as error:
        raise TlsFailed(f"TLS failed during the response: {error.reason or error}") from None
    finally:
        net.close(writer)


def _request(method: str, target: Target, spec: MonitorSpec | None) -> bytes:
    """The request's bytes; ``spec`` brings the monitor's own headers, auth and body."""
    own = dict(spec.headers) if spec is not None else {}
    named = {name.lower() for name in own}
    lines = [f"{method} {target.path} HTTP/1.1", f"Host: {target.host_header}"]
    if "user-agent" not in named:
        lines.append(f"User-Agent: {USER_AGENT}")
    if "accept" not in named:
        lines.append("Accept: */*")
    if "accept-encoding" not in named:
        lines.append("Accept-Encoding: identity")  # a keyword is looked for in plain bytes
    lines += [f"{name}: {value}" for name, value in own.items()]
    if spec is not None and spec.auth_user and "authorization" not in named:
        pair = f"{spec.auth_user}:{spec.auth_password}".encode()
        lines.append(f"Authorization: Basic {base64.b64encode(pair).decode('ascii')}")
    body = b""
    if method == "POST":
        body = spec.body.encode() if spec is not None else b""
        if body and "content-type" not in named:
            lines.append(f"Content-Type: {FORM}")
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    # Header values are Latin-1 on the wire; anything else is sent as UTF-8 bytes.
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            raise ProtocolFailed("the server closed the connection without answering") from None
        raise ProtocolFailed("the response ended in the middle of a line") from None
    except asyncio.LimitOverrunError:
        raise ProtocolFailed(f"a response line is longer than {net.LINE_LIMIT} bytes") from None


async def _status(reader: asyncio.StreamReader) -> int:
    line = await _line(reader)
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise ProtocolFailed(f"not an HTTP response: {line[:60]!r}")
    status = int(parts[1])
    if not 100 <= status <= 599:
        raise ProtocolFailed(f"impossible HTTP status {status}")
    return status


async def _headers(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        line = await _line(reader)
        if line in (b"\r\n", b"\n"):
            return headers
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise ProtocolFailed(f"malformed header line: {line[:60]!r}")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise ProtocolFailed(f"more than {MAX_HEADERS} response headers")


async def _body(reader: asyncio.StreamReader, method: str, response: Response, keep: int) -> bytes:
    """Read the body up to BODY_LIMIT (a visitor waits for the page); keep ``keep`` bytes."""
    if method == "HEAD" or response.status in (204, 304) or response.status < 200:
        return b""
    headers = response.headers
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _chunked(reader, keep)
    length_text = headers.get("content-length")
    if length_text is not None:
        return await _sized(reader, _content_length(length_text), keep)
    return await _until_close(reader, keep)


def _content_length(text: str) -> int:
    values = {v.strip() for v in text.split(",")}
    if len(values) != 1 or not next(iter(values)).isdigit():
        raise ProtocolFailed(f"bad Content-Length: {text[:40]!r}")
    return int(values.pop())


async def _sized(reader: asyncio.StreamReader, length: int, keep: int) -> bytes:
    wanted = min(length, BODY_LIMIT)
    try:
        data = await reader.readexactly(wanted)
    except asyncio.IncompleteReadError as error:
        raise ProtocolFailed(
            f"the response ended after {len(error.partial)} of {length} bytes"
        ) from None
    return data[:keep]


async def _chunked(reader: asyncio.StreamReader, keep: int) -> bytes:
    parts: list[bytes] = []
    read = 0
    while read < BODY_LIMIT:
        size_line = await _line(reader)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ProtocolFailed(f"bad chunk size: {size_line[:40]!r}") from None
        if size == 0:
            break  # trailers, if any, are not worth waiting for
        try:
            chunk = await reader.readexactly(size + 2)
        except asyncio.IncompleteReadError:
            raise ProtocolFailed("the response ended inside a chunk") from None
        if read < keep:
            parts.append(chunk[:size])
        read += size
    return b"".join(parts)[:keep]


async def _until_close(reader: asyncio.StreamReader, keep: int) -> bytes:
    parts: list[bytes] = []
    read = 0
    while read < BODY_LIMIT:
        try:
            data = await reader.read(READ_SIZE)
        except ssl.SSLError:
            break  # servers often end such bodies without a TLS close_notify
        if not data:
            break
        if read < keep:
            parts.append(data)
        read += len(data)
    return b"".join(parts)[:keep]
