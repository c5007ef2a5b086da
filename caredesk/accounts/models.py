import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models

from caredesk.lib import clock


class Role(models.TextChoices):
    ADMIN = "admin", "Agency admin"
    AGENT = "agent", "Agent"
    ACCOUNT_MANAGER = "account_manager", "Account manager"
    CLIENT = "client", "Client contact"


STAFF_ROLES = frozenset({Role.ADMIN, Role.AGENT, Role.ACCOUNT_MANAGER})

# Apps whose records every staff member may view and edit in the admin.
# Users, roles and tokens of others stay with the agency admin.
_STAFF_EDITABLE_APPS = frozenset(
    {
        "clients",
        "plans",
        "sla",
        "tickets",
        "mail",
        "billing",
        "monitoring",
        "kb",
        "desk",
        "maintenance",
        "reports",
    }
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("a user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str) -> "User":
        # Addresses are stored lower-cased; people type them however they like.
        return self.get(email__iexact=username.strip())

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("role", Role.ADMIN)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: agency staff and client contacts alike.

    The role decides what they may do; ``is_staff`` and ``is_superuser`` follow
    from it so that the admin site and the rest of caredesk agree.
    """

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, editable=False)
    date_joined = models.DateTimeField(default=clock.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        self.is_staff = self.role in STAFF_ROLES
        self.is_superuser = self.role == Role.ADMIN
        super().save(*args, **kwargs)

    @property
    def is_agency_staff(self) -> bool:
        return self.is_active and self.role in STAFF_ROLES

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def has_perm(self, perm: str, obj: object = None) -> bool:
        if super().has_perm(perm, obj):
            return True
        return self.is_agency_staff and perm.split(".", 1)[0] in _STAFF_EDITABLE_APPS

    def has_module_perms(self, app_label: str) -> bool:
        if super().has_module_perms(app_label):
            return True
        return self.is_agency_staff and app_label in _STAFF_EDITABLE_APPS


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def authenticate(self, presented: str) -> "ApiToken | None":
        """The live token matching ``presented``, or None. Compares hashes only."""
        prefix, _, _ = presented.partition(".")
        if not prefix or len(presented) > 200 or not presented.isprintable():
            return None
        token = (
            self.select_related("user")
            .filter(prefix=prefix, revoked_at=None, user__is_active=True)
            .first()
        )
        if token is None or not secrets.compare_digest(token.key_hash, _hash(presented)):
            return None
        return token


class ApiToken(models.Model):
    """A bearer token for the API. Only its hash is stored; it is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'accounting export'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user: User, name: str) -> tuple["ApiToken", str]:
        """Create a token and return it with the secret to show once."""
        prefix = "cd" + secrets.token_hex(6)
        secret = f"{prefix}.{secrets.token_urlsafe(32)}"
        token = cls.objects.create(user=user, name=name, prefix=prefix, key_hash=_hash(secret))
        return token, secret
