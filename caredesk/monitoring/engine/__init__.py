"""The probe engine: pure asyncio, no Django, no ORM.

It talks to the outside only through a :class:`~.store.Store`, so it runs the
same against the database (the embedded probe), memory (tests, benchmarks)
or the API (a remote probe, :mod:`.api`; started by :mod:`.remote`).
"""

from .checks import run_check
from .memory import MemoryStore
from .net import CheckContext, default_ssl_context
from .runner import Engine, EngineConfig
from .spec import Kind, MonitorSpec, Outcome, parse_status_ranges
from .store import MonitorChanges, ProbeStatus, Store, StoreRefused

__all__ = [
    "CheckContext",
    "Engine",
    "EngineConfig",
    "Kind",
    "MemoryStore",
    "MonitorChanges",
    "MonitorSpec",
    "Outcome",
    "ProbeStatus",
    "Store",
    "StoreRefused",
    "default_ssl_context",
    "parse_status_ranges",
    "run_check",
]
