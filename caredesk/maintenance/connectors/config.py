"""What a connector needs to reach one site, read from the database by the caller."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True)
class ConnectionConfig:
    kind: str  # caredesk.clients.models.Connection values
    url: str
    user: str = ""
    secret: str = field(default="", repr=False)
    allow_private: bool = False
    ssh_host: str = ""
    ssh_port: int = 22
    # WP-CLI over SSH: the pinned host key ("ssh-ed25519 AAAA…"; empty: not seen yet),
    # told to ``on_host_key`` the first time; the wp command and the WordPress folder.
    ssh_host_key: str = ""
    on_host_key: Callable[[str], None] | None = field(default=None, repr=False, compare=False)
    wp_cli: str = "wp"
    wp_path: str = ""
    timeout: float = 30.0
    update_timeout: float = 300.0  # an update downloads and unpacks a package
    ssl_context: ssl.SSLContext | None = None

    def rest_url(self, route: str) -> str:
        """``route`` through ``?rest_route=``, which works without pretty permalinks."""
        parts = urlsplit(self.url)
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        return urlunsplit((parts.scheme, parts.netloc, path, f"rest_route={route}", ""))
