"""``caredesk probe --server URL``: a remote probe, with no database and no Django.

It runs the same engine as the embedded probe against the API store
(:mod:`.api`). ``caredesk`` hands the command line here before it loads any
settings, so a probe machine needs nothing but the server's address, a probe
token and a region name (as options, or ``CAREDESK_PROBE_SERVER``,
``CAREDESK_PROBE_TOKEN`` and ``CAREDESK_PROBE_REGION``: the token is better
kept out of the process list).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence

from .api import ApiStore
from .limits import concurrency_budget, raise_fd_limit
from .netwatch import NetworkConfig
from .runner import Engine, EngineConfig
from .store import StoreRefused, caredesk_version

logger = logging.getLogger("caredesk.probe")


def wants_remote(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether ``caredesk probe`` arguments ask for a remote probe."""
    return any(a == "--server" or a.startswith("--server=") for a in argv) or bool(
        environ.get("CAREDESK_PROBE_SERVER")
    )


def _parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caredesk probe",
        description="Run a remote probe: check the monitors the caredesk server lists and "
        "send it the results, until SIGTERM or Ctrl-C.",
    )
    parser.add_argument(
        "--server",
        default=environ.get("CAREDESK_PROBE_SERVER", ""),
        help="The caredesk server, e.g. https://desk.example.com (CAREDESK_PROBE_SERVER).",
    )
    parser.add_argument(
        "--token",
        default=environ.get("CAREDESK_PROBE_TOKEN", ""),
        help="The probe token made for this region (CAREDESK_PROBE_TOKEN; keeps it out of ps).",
    )
    parser.add_argument(
        "--region",
        default=environ.get("CAREDESK_PROBE_REGION", "local"),
        help="The token's region (CAREDESK_PROBE_REGION; default %(default)s).",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(environ.get("CAREDESK_PROBE_CONCURRENCY") or 500),
        help="Checks in flight at once (default %(default)s).",
    )
    return parser


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Run until stopped; the exit status (0 after a clean stop, 2 when refused)."""
    environ = os.environ if environ is None else environ
    parser = _parser(environ)
    args = parser.parse_args(list(argv))
    if not args.server or not args.token:
        parser.error("a remote probe needs --server and --token (or CAREDESK_PROBE_SERVER/_TOKEN)")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    logging.basicConfig(
        level=environ.get("CAREDESK_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    fd_limit = raise_fd_limit()
    region = args.region[:32]
    config = EngineConfig(
        region=region,
        concurrency=concurrency_budget(args.concurrency, fd_limit),
        network=NetworkConfig(canary_url=environ.get("CAREDESK_PROBE_CANARY_URL", "")),
    )
    try:
        store = ApiStore(args.server, args.token, region, version=caredesk_version())
    except ValueError as error:
        parser.error(str(error))
    try:
        asyncio.run(serve(Engine(store, config)))
    except StoreRefused as error:
        print(f"caredesk probe: the server refused this probe: {error}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


async def serve(engine: Engine) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await engine.run(stop)
