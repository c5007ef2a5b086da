"""Signals for what happens after an incident or a probe changes: alerts, tickets, status pages.

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
- ``probe_network_lost(sender=Probe, probe=..., detail=str)``: a probe says
  (nearly) every check it makes fails with network errors: it has lost its
  own network, and its failures count for nothing until it is back. Sent once
  per loss (``probe.network_lost_at`` is when the server heard of it).
- ``probe_network_back(sender=Probe, probe=..., lost_at=datetime)``: its
  checks pass again.
- ``warning_raised(sender=MonitorWarning, warning=...)``: trouble coming but
  no outage (a certificate close to expiry, a heartbeat late within its
  grace). Sent when a warning opens, not when one cleared within the quiet
  period comes back, so it is alerted once.
- ``warning_cleared(sender=MonitorWarning, warning=...)``: its cause is gone.
"""

from django.dispatch import Signal

incident_confirmed = Signal()
incident_resolved = Signal()
probe_network_lost = Signal()
probe_network_back = Signal()
warning_raised = Signal()
warning_cleared = Signal()
