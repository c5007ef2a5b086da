"""Connectors to WordPress sites: one interface (:mod:`.base`), one module per kind.

Adding a kind is a module and a line in :data:`KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import (
    AuthRefused,
    Backup,
    BadAnswer,
    Connector,
    ConnectorError,
    HealthTest,
    HostKeyChanged,
    Inventory,
    Item,
    ItemRef,
    Job,
    JobGone,
    NotConfigured,
    RemoteFailed,
    SitePart,
    TimedOut,
    Unreachable,
    Unsupported,
    UpdateOutcome,
)
from .companion import CompanionConnector
from .config import ConnectionConfig
from .wp_cli import WpCliConnector
from .wp_rest import RestConnector

KINDS: dict[str, Callable[[ConnectionConfig], Connector]] = {
    "companion": CompanionConnector,
    "wp_rest": RestConnector,
    "wp_cli_ssh": WpCliConnector,
}


def connect(config: ConnectionConfig) -> Connector:
    """The connector for ``config.kind``; raises :class:`NotConfigured` for none or unknown."""
    factory = KINDS.get(config.kind)
    if factory is None:
        if config.kind == "none":
            raise NotConfigured("the site is not connected: choose a connection and add its secret")
        raise NotConfigured(f"connections of kind {config.kind!r} are not available yet")
    return factory(config)


__all__ = [
    "KINDS",
    "AuthRefused",
    "Backup",
    "BadAnswer",
    "ConnectionConfig",
    "Connector",
    "ConnectorError",
    "HealthTest",
    "HostKeyChanged",
    "Inventory",
    "Item",
    "ItemRef",
    "Job",
    "JobGone",
    "NotConfigured",
    "RemoteFailed",
    "SitePart",
    "TimedOut",
    "Unreachable",
    "Unsupported",
    "UpdateOutcome",
    "connect",
]
