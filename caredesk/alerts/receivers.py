"""The one bridge from incidents (and probes) to alerts and tickets.

The receivers run on the probe's database thread right after its commit, so
they only record (deliveries, ticket, timeline) and return; the delivery job
does the network part.
"""

from django.dispatch import receiver

from caredesk.monitoring.models import Incident, MonitorWarning, Probe
from caredesk.monitoring.signals import (
    incident_confirmed,
    incident_resolved,
    probe_network_back,
    probe_network_lost,
    warning_raised,
)

from .actions import do_record_down, do_record_up, do_record_warning
from .probes import do_record_probe_network


@receiver(incident_confirmed, dispatch_uid="alerts.incident_confirmed")
def incident_down(sender, incident: Incident, reopened: bool = False, **kwargs) -> None:
    do_record_down(incident.pk, reopened=reopened)


@receiver(incident_resolved, dispatch_uid="alerts.incident_resolved")
def incident_up(sender, incident: Incident, **kwargs) -> None:
    do_record_up(incident.pk)


@receiver(warning_raised, dispatch_uid="alerts.warning_raised")
def warning_opened(sender, warning: MonitorWarning, **kwargs) -> None:
    do_record_warning(warning.pk)


@receiver(probe_network_lost, dispatch_uid="alerts.probe_network_lost")
def probe_lost(sender, probe: Probe, detail: str = "", **kwargs) -> None:
    do_record_probe_network(probe.pk, lost=True, detail=detail)


@receiver(probe_network_back, dispatch_uid="alerts.probe_network_back")
def probe_back(sender, probe: Probe, lost_at=None, **kwargs) -> None:
    do_record_probe_network(probe.pk, lost=False, lost_at=lost_at)
