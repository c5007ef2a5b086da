"""Every site gets an HTTP monitor of its own address, and it follows the site's URL.

A heartbeat whose settings change is judged again at once (its period may be shorter now).
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from caredesk.clients.models import Site
from caredesk.lib import clock

from . import heartbeats
from .models import Kind, Monitor


@receiver(post_save, sender=Site, dispatch_uid="monitoring.site_default_monitor")
def site_saved(sender, instance: Site, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return  # loading fixtures: their monitors come with them
    if created:
        Monitor.objects.create(site=instance, kind=Kind.HTTP, url=instance.url, is_default=True)
        return
    # An update, not save(): the site's other monitor settings are not touched.
    Monitor.objects.filter(site=instance, is_default=True).exclude(url=instance.url).update(
        url=instance.url, updated_at=clock.now()
    )


@receiver(post_save, sender=Monitor, dispatch_uid="monitoring.heartbeat_settings")
def monitor_saved(sender, instance: Monitor, created: bool, raw: bool = False, **kwargs) -> None:
    if not raw and not created:
        heartbeats.settings_changed(instance)
