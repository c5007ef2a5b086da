"""Housekeeping jobs the scheduler enqueues."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from caredesk.lib import clock


@task()
def purge_expired_sessions() -> int:
    """Delete sign-in sessions past their expiry; returns how many went."""
    deleted, _ = Session.objects.filter(expire_date__lt=clock.now()).delete()
    return deleted


@task()
def prune_task_results() -> int:
    """Delete finished background-task records older than the retention period."""
    cutoff = clock.now() - timedelta(days=settings.CAREDESK_TASK_RESULT_DAYS)
    deleted, _ = DBTaskResult.objects.filter(finished_at__lt=cutoff).delete()
    return deleted
