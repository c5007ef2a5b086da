"""Real web servers on 127.0.0.1 that behave like the sites a probe meets.

One server answers on every path with the behaviour registered for it:
``server.route("/shop", status=500)`` turns the shop "down" until changed back.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEYWORD_PAGE = b"<html><body><h1>Welcome to the Alpha shop</h1></body></html>"


@dataclass
class Route:
    status: int = 200
    body: bytes = KEYWORD_PAGE
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # accept the request, never answer
    delay: float = 0.0  # answer after this many seconds
    chunked: bool = False
    no_length: bool = False  # no Content-Length: the body ends when the connection does
    drop: bool = False  # close the connection without a word


@dataclass
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: TargetServer

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.seen.append(Seen(self.command, self.path, headers, body))
        route = self.server.routes.get(self.path.split("?")[0], Route(status=404, body=b"nope"))
        if route.hang:
            self.server.release.wait(30)
            return
        if route.drop:
            self.close_connection = True
            return
        if route.delay:
            time.sleep(route.delay)
        self._answer(route)

    do_HEAD = do_GET
    do_POST = do_GET

    def _answer(self, route: Route) -> None:
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        body = b"" if self.command == "HEAD" else route.body
        if route.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif not route.no_length:
            self.send_header("Content-Length", str(len(route.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if route.chunked:
            for start in range(0, len(body), 7):
                piece = body[start : start + 7]
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass  # a test run need not list every request


class TargetServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self.seen: list[Seen] = []
        self.connections = 0
        self.release = threading.Event()
        self.tls = tls

    @property
    def port(self) -> int:
        return self.server_address[1]

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        self.connections += 1
        if self.tls is not None:
            # The handshake happens in the handler's thread: a client that gives
            # up halfway must not stall the accepting loop.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address) -> None:
        pass  # refused handshakes and dropped clients are what these tests are about

    def route(self, path: str, **behaviour) -> None:
        self.routes[path] = Route(**behaviour)

    def start(self) -> TargetServer:
        threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Relay:
    """A TCP relay on 127.0.0.1 in front of another server, to take that server "away".

    ``stop()`` closes the port (connections are refused, as from a server that
    is down) and ``start()`` opens the same port again. With ``drop_answers``
    set, requests reach the server but its answers are thrown away: the client
    sees the connection close, as after a timeout, though the server did the work.
    """

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self.drop_answers = False
        self.dropped = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Relay:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not,
            # and the port would go on taking connections.
            _close(listener)
        with self._lock:
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by stop()
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            drop = self.drop_answers
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, drop), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, drop: bool) -> None:
        try:
            while data := source.recv(65536):
                if not drop:
                    target.sendall(data)
        except OSError:
            pass
        finally:
            if drop:
                self.dropped += 1
            for sock in (source, target):
                _close(sock)
                with self._lock:
                    self._open.discard(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
