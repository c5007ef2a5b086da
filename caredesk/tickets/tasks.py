from django_tasks import task

from . import sla_sweep


@task()
def sweep_sla_clocks() -> int:
    """Record SLA warnings and breaches that have fallen due."""
    return sla_sweep.sweep()
