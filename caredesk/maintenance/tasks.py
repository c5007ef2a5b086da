"""Background jobs of maintenance: scheduled inventories and update runs."""

from django_tasks import task

from . import jobs, updates


@task()
def take_due_inventories() -> int:
    """Inventories of the sites whose time has come (the scheduler runs this often)."""
    return jobs.take_due_inventories()


@task()
def run_update(run_id: int) -> str:
    """Drive one update run to its end; a run another worker holds is left alone."""
    run = updates.execute(run_id)
    return run.state if run is not None else "not claimed"


@task()
def run_due_scans() -> int:
    """Security scans of the sites whose monthly (or other) scan is due."""
    return jobs.run_due_scans()
