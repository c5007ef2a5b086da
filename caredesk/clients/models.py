import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.text import slugify

from caredesk.lib import clock
from caredesk.lib.crypto import EncryptedTextField


def clean_domains(value: str) -> list[str]:
    """A typed list of email domains ("@a.example; b.example") as clean names."""
    return [d.strip().lower().lstrip("@") for d in value.replace(";", ",").split(",") if d.strip()]


class Organisation(models.Model):
    """A client of the agency."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True, blank=True)
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_organisations",
        limit_choices_to={"role__in": ["admin", "agent", "account_manager"]},
    )
    email_domains = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated; mail from these domains is filed under this client.",
    )
    phone = models.CharField(max_length=50, blank=True)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = self._free_slug()
        super().save(*args, **kwargs)

    def _free_slug(self) -> str:
        # "Acme Ltd" and "Acme, Ltd." slugify alike; both are real clients.
        base = slugify(self.name)[:72] or "client"
        taken = set(
            Organisation.objects.filter(slug__startswith=base)
            .exclude(pk=self.pk)
            .values_list("slug", flat=True)
        )
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        return slug

    def clean(self) -> None:
        self.email_domains = ", ".join(clean_domains(self.email_domains))
        if self.account_manager_id and not self.account_manager.is_agency_staff:
            raise ValidationError({"account_manager": "The account manager must be agency staff."})

    @property
    def domains(self) -> list[str]:
        return clean_domains(self.email_domains)


class Contact(models.Model):
    """A person at a client. The email address is the identity."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=50, blank=True)
    is_manager = models.BooleanField(
        "manager", default=False, help_text="Sees all of the organisation's tickets and reports."
    )
    is_report_recipient = models.BooleanField("receives reports", default=False)
    is_billing = models.BooleanField("billing contact", default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
        help_text="The portal login of this contact, once they have signed in.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    ROLE_NAMES = ("requester", "manager", "report_recipient", "billing")

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="contact_email_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def roles(self) -> list[str]:
        roles = ["requester"]
        if self.is_manager:
            roles.append("manager")
        if self.is_report_recipient:
            roles.append("report_recipient")
        if self.is_billing:
            roles.append("billing")
        return roles

    def set_roles(self, roles: list[str]) -> None:
        unknown = set(roles) - set(self.ROLE_NAMES)
        if unknown:
            raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))}")
        self.is_manager = "manager" in roles
        self.is_report_recipient = "report_recipient" in roles
        self.is_billing = "billing" in roles


class Platform(models.TextChoices):
    WORDPRESS = "wordpress", "WordPress"
    OTHER = "other", "Other"


class Connection(models.TextChoices):
    NONE = "none", "Not connected"
    WP_REST = "wp_rest", "WordPress REST (application password)"
    COMPANION = "companion", "caredesk companion plugin"
    WP_CLI_SSH = "wp_cli_ssh", "WP-CLI over SSH"


def validate_site_url(value: str) -> None:
    URLValidator(schemes=["http", "https"])(value)


def new_widget_key() -> str:
    """A site's public widget key: unguessable, so keys cannot be walked one by one."""
    return secrets.token_urlsafe(18)


def origin_of(url: str) -> str | None:
    """'https://www.alpha.example:8443/shop/' -> 'https://www.alpha.example:8443', or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    try:
        # Browsers send an international name in its ASCII (punycode) form.
        host = parts.hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def split_origins(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


def validate_widget_origins(value: str) -> None:
    bad = [o for o in split_origins(value) if origin_of(o) is None]
    if bad:
        raise ValidationError(
            "Not an origin (like https://www.example.com): %(bad)s", params={"bad": ", ".join(bad)}
        )


class Site(models.Model):
    """A client website that the agency looks after."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500, validators=[validate_site_url])
    platform = models.CharField(max_length=20, choices=Platform.choices, default=Platform.WORDPRESS)
    hosting_note = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    connection = models.CharField(
        max_length=20, choices=Connection.choices, default=Connection.NONE
    )
    connection_user = models.CharField(max_length=200, blank=True)
    connection_secret = EncryptedTextField(
        blank=True, help_text="Application password, companion key or SSH key; encrypted at rest."
    )
    ssh_host = models.CharField(max_length=200, blank=True)
    ssh_port = models.PositiveIntegerField(default=22)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    widget_enabled = models.BooleanField(
        "widget on",
        default=False,
        help_text="Accept tickets from the help widget placed on this site.",
    )
    widget_key = models.CharField(
        max_length=40,
        unique=True,
        default=new_widget_key,
        editable=False,
        help_text="Public: it goes in the site's page source as data-site.",
    )
    widget_origins = models.TextField(
        "widget origins",
        blank=True,
        validators=[validate_widget_origins],
        help_text="Pages allowed to send the widget's form, one origin per line "
        "(https://www.example.com). Empty: only the site's own address.",
    )

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "url"], name="site_url_per_client"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.url = self.url.strip()
        super().save(*args, **kwargs)

    @property
    def widget_allowed_origins(self) -> set[str]:
        """Origins whose pages may post the widget's form (browsers send exactly these)."""
        typed = {origin_of(o) for o in split_origins(self.widget_origins)} - {None}
        if not typed:
            typed = {origin_of(self.url)} - {None}
        return typed
