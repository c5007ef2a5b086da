"""A site's maintenance settings and the connector built from them."""

from __future__ import annotations

from django.conf import settings as django_settings

from caredesk.clients.models import Site
from caredesk.lib import clock

from . import connectors
from .models import SiteMaintenance


def settings_for(site: Site) -> SiteMaintenance:
    """The site's maintenance settings, made with defaults on first use."""
    try:
        return site.maintenance
    except SiteMaintenance.DoesNotExist:
        found, _ = SiteMaintenance.objects.get_or_create(site=site)
        site.maintenance = found
        return found


def pin_host_key(settings: SiteMaintenance, key: str) -> None:
    """Record the SSH host key a site showed the first time (never replaces a pinned one)."""
    SiteMaintenance.objects.filter(pk=settings.pk, ssh_host_key="").update(
        ssh_host_key=key, ssh_host_key_seen_at=clock.now()
    )
    settings.ssh_host_key = key


def config_for(site: Site) -> connectors.ConnectionConfig:
    settings = settings_for(site)
    return connectors.ConnectionConfig(
        kind=site.connection,
        url=site.url,
        user=site.connection_user,
        secret=site.connection_secret or "",
        allow_private=settings.allow_private,
        ssh_host=site.ssh_host,
        ssh_port=site.ssh_port,
        ssh_host_key=settings.ssh_host_key.strip(),
        on_host_key=lambda key: pin_host_key(settings, key),
        wp_cli=settings.wp_cli,
        wp_path=settings.wp_path,
        # Optional settings (seconds): how long a site may take to answer.
        timeout=float(getattr(django_settings, "CAREDESK_MAINTENANCE_TIMEOUT", 30)),
        update_timeout=float(getattr(django_settings, "CAREDESK_MAINTENANCE_UPDATE_TIMEOUT", 300)),
    )


def connector_for(site: Site) -> connectors.Connector:
    """The site's connector; raises :class:`connectors.NotConfigured` if it has none."""
    return connectors.connect(config_for(site))
