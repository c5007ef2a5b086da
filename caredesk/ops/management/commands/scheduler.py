import signal
import threading

from django.core.management.base import BaseCommand

from caredesk.ops.scheduler import Scheduler


class Command(BaseCommand):
    help = "Enqueue periodic jobs on their schedule. Only one scheduler runs at a time."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Do one round and exit.")

    def handle(self, *args, once: bool = False, **options):
        scheduler = Scheduler()
        stopping = threading.Event()

        def stop(signum, frame):
            stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"scheduler {scheduler.holder} starting")
        try:
            while not stopping.is_set():
                pause = scheduler.step()
                if once:
                    break
                stopping.wait(max(0.5, pause))
        finally:
            scheduler.stop()
            self.stdout.write("scheduler stopped")
