"""Signals for what happens after an incident changes: alerts, tickets, status pages.

Both are sent once the transaction that recorded the change has committed,
from the probe's database thread. Receivers must be quick (enqueue a task,
do not send mail inline): the probe writes its next batch of results only
after they return. A receiver that raises is logged and does not stop the
others or the probe.

- ``incident_confirmed(sender=Incident, incident=..., reopened=bool)``: a
  monitor was confirmed down. ``reopened`` is True when flapping brought back
  an incident resolved within the quiet period (same incident, same ticket).
- ``incident_resolved(sender=Incident, incident=...)``: its recovery was
  confirmed; ``incident.recovered_at`` is the first good check.
"""

from django.dispatch import Signal

incident_confirmed = Signal()
incident_resolved = Signal()
