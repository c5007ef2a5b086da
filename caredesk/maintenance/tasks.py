"""Background jobs of maintenance: scheduled inventories, scans and backups; runs on demand."""

from django_tasks import task

from . import backups, jobs, restic, restores, updates


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


@task()
def take_due_backups() -> int:
    """Full backups of the sites whose monthly (or other) backup is due, a few a run."""
    return jobs.take_due_backups()


@task()
def run_backup(backup_id: int) -> str:
    """Drive one backup (or its verification) to its end."""
    backup = backups.execute(backup_id)
    return backup.state if backup is not None else "not claimed"


@task()
def run_restore(restore_id: int) -> str:
    """Drive one restore to its end."""
    restore = restores.execute(restore_id)
    return restore.state if restore is not None else "not claimed"


@task()
def check_backup_repository(read_data_subset: str = "") -> str:
    """restic's check of the whole repository (weekly, say); raises when it finds damage."""
    repo = restic.Repository.from_settings()
    repo.ensure()
    output = repo.check(read_data_subset or None)
    return output.strip().splitlines()[-1] if output.strip() else "no errors were found"
