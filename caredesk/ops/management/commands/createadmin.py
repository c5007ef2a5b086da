import os
import secrets

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from caredesk.accounts.models import Role, User


class Command(BaseCommand):
    help = (
        "Create the first agency admin if there is none. The password comes from "
        "CAREDESK_ADMIN_PASSWORD, or is generated and printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", default=os.environ.get("CAREDESK_ADMIN_EMAIL", ""))

    def handle(self, *args, email: str, **options):
        email = (email or "admin@example.com").strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address") from None
        if User.objects.filter(role=Role.ADMIN, is_active=True).exists():
            self.stdout.write("An admin already exists; nothing to do.")
            return
        password = os.environ.get("CAREDESK_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_user(email, password, role=Role.ADMIN, full_name="Agency admin")
        if os.environ.get("CAREDESK_ADMIN_PASSWORD"):
            self.stdout.write(f"Admin {email} created with the password from the environment.")
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Admin {email} created. Password (shown once, change it after "
                    f"signing in): {password}"
                )
            )
