"""The staff account automatic notes are written as.

Ticket actions take the acting staff member; for what monitoring writes on its
own there is none, so one account stands for it. It has no usable password
(nobody signs in as it) and its address is on the reserved .invalid domain
(nothing is ever delivered to it).
"""

from django.contrib.auth.hashers import make_password

from caredesk.accounts.models import Role, User

EMAIL = "uptime-monitoring@caredesk.invalid"
NAME = "Uptime monitoring"


def monitoring_user() -> User:
    user, _ = User.objects.get_or_create(
        email=EMAIL,
        defaults={"full_name": NAME, "role": Role.AGENT, "password": make_password(None)},
    )
    return user
