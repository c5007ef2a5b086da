from django.core.management.base import BaseCommand

from caredesk.ops.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo data (three agencies' plan catalogues, clients, sites). Safe to re-run."

    def handle(self, *args, **options):
        writes = load_demo()
        if writes:
            self.stdout.write(f"Demo data loaded ({writes} records created or updated).")
        else:
            self.stdout.write("Demo data already loaded; nothing changed.")
