"""``caredesk probe --region NAME``: check every enabled monitor until stopped."""

import asyncio
import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from caredesk.monitoring.engine import Engine, EngineConfig
from caredesk.monitoring.engine.limits import concurrency_budget, raise_fd_limit
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

    def handle(self, *args, region: str, concurrency: int, **options):
        fd_limit = raise_fd_limit()
        config = EngineConfig(
            region=region[:32], concurrency=concurrency_budget(concurrency, fd_limit)
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
