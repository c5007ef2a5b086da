"""Background jobs of maintenance: scheduled inventories, scans, backups and auto-updates;
runs on demand."""

from django_tasks import task

from . import autoupdates, backups, jobs, restic, restores, updates


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
def apply_auto_updates() -> int:
    """The sites' auto-update rules after each inventory, and their monthly windows.

    Every 10 minutes is plenty (inventories come every few hours); the number of
    update runs it requested.
    """
    return len(autoupdates.apply_rules())


@task()
def reclaim_stale_update_runs() -> int:
    """Update runs whose worker died (no sign of life for 30 minutes), queued again."""
    return len(updates.reclaim_stale())


@task()
def run_due_scans() -> int:
    """Security scans of the sites whose monthly (or other) scan is due."""
    return jobs.run_due_scans()


@task()
def scan_site(site_id: int, user_id: int | None = None) -> str:
    """One security scan asked for by a person ("Scan now")."""
    from django.contrib.auth import get_user_model

    from caredesk.clients.models import Site

    from .scan.run import scan_site as scan

    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        return "no such site"
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    done = scan(site, acting_user=user)
    return f"{done.findings.count()} finding(s)"


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
