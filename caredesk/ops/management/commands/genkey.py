import secrets

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Print new values for CAREDESK_SECRET_KEY, CAREDESK_ENCRYPTION_KEYS and "
        "CAREDESK_RESTIC_PASSWORD."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"CAREDESK_SECRET_KEY={secrets.token_urlsafe(50)}")
        self.stdout.write(f"CAREDESK_ENCRYPTION_KEYS={Fernet.generate_key().decode()}")
        self.stdout.write(f"CAREDESK_RESTIC_PASSWORD={secrets.token_urlsafe(32)}")
