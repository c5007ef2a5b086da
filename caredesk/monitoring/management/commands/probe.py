"""``caredesk probe --region NAME``: check every enabled monitor until stopped.

With ``--server`` (or ``CAREDESK_PROBE_SERVER``) it is a remote probe instead,
which ``caredesk`` starts before loading any settings (see
:mod:`caredesk.monitoring.engine.remote`); the options are here for ``--help``.
"""

import asyncio
import logging
import os
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from caredesk.monitoring.engine import Engine, EngineConfig, remote
from caredesk.monitoring.engine.limits import concurrency_budget, raise_fd_limit
from caredesk.monitoring.engine.netwatch import NetworkConfig
from caredesk.monitoring.store import DbStore

logger = logging.getLogger("caredesk.probe")


class Command(BaseCommand):
    help = (
        "Run a probe: check the enabled monitors on schedule and record results and "
        "incidents, until SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--region",
            default=getattr(settings, "CAREDESK_PROBE_REGION", "local"),
            help="Name recorded with every result (default: %(default)s).",
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=getattr(settings, "CAREDESK_PROBE_CONCURRENCY", 500),
            help="Checks in flight at once (default: %(default)s).",
        )
        parser.add_argument(
            "--server",
            default="",
            help="Run as a remote probe of this caredesk server (no database): "
            "https://desk.example.com. Also CAREDESK_PROBE_SERVER.",
        )
        parser.add_argument(
            "--token",
            default="",
            help="A remote probe's token (better: CAREDESK_PROBE_TOKEN).",
        )

    def handle(self, *args, region: str, concurrency: int, server: str, token: str, **options):
        if server or os.environ.get("CAREDESK_PROBE_SERVER"):
            argv = ["--region", region, "--concurrency", str(concurrency)]
            argv += ["--server", server] if server else []
            argv += ["--token", token] if token else []
            sys.exit(remote.main(argv))
        fd_limit = raise_fd_limit()
        config = EngineConfig(
            region=region[:32],
            concurrency=concurrency_budget(concurrency, fd_limit),
            network=NetworkConfig(canary_url=settings.CAREDESK_PROBE_CANARY_URL or ""),
        )
        if config.concurrency < concurrency:
            logger.warning(
                "only %d checks at once: the open-file limit is %d", config.concurrency, fd_limit
            )
        store = DbStore(config.region)
        try:
            asyncio.run(self._serve(Engine(store, config)))
        finally:
            store.close()

    async def _serve(self, engine: Engine) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await engine.run(stop)
