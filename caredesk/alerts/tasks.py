"""The alert delivery job.

Enqueued by the receivers with ``run_after`` at the end of the grouping
window, so an alert goes out seconds after its incident is confirmed; the
scheduler also runs it every minute as a safety net for retries and for a
worker that was away.
"""

from django_tasks import task

from . import delivery, probes


@task()
def deliver_alerts() -> int:
    """Send every channel's due alerts and due probe alerts; returns how many went."""
    return delivery.run() + probes.run()
