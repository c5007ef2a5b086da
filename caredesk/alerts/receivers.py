"""The one bridge from incidents to alerts and tickets.

Both receivers run on the probe's database thread right after its commit, so
they only record (deliveries, ticket, timeline) and return; the delivery job
does the network part.
"""

from django.dispatch import receiver

from caredesk.monitoring.models import Incident
from caredesk.monitoring.signals import incident_confirmed, incident_resolved

from .actions import do_record_down, do_record_up


@receiver(incident_confirmed, dispatch_uid="alerts.incident_confirmed")
def incident_down(sender, incident: Incident, reopened: bool = False, **kwargs) -> None:
    do_record_down(incident.pk, reopened=reopened)


@receiver(incident_resolved, dispatch_uid="alerts.incident_resolved")
def incident_up(sender, incident: Incident, **kwargs) -> None:
    do_record_up(incident.pk)
