import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve caredesk over HTTP with uvicorn (put a reverse proxy in front in production)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)

    def handle(self, *args, host: str, port: int, workers: int, **options):
        if not 0 < port < 65536:
            raise CommandError(f"--port {port} is not a TCP port")
        uvicorn.run(
            "caredesk.asgi:application",
            host=host,
            port=port,
            workers=workers,
            lifespan="off",
            proxy_headers=settings.PRODUCTION,
            log_level="info" if options["verbosity"] >= 1 else "warning",
            access_log=options["verbosity"] >= 2,
        )
