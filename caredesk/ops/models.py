from django.db import models


class SchedulerLease(models.Model):
    """Who runs the scheduler now. Held by renewing before ``expires_at``.

    A row in the database rather than a file lock, so it holds across machines
    sharing one PostgreSQL as well as for processes on one SQLite file.
    """

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.CharField(max_length=200)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class PeriodicJob(models.Model):
    """When a periodic job runs next, and what happened when it last ran."""

    name = models.CharField(max_length=100, unique=True)
    cron = models.CharField(max_length=100)
    next_run_at = models.DateTimeField(db_index=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["next_run_at"]

    def __str__(self) -> str:
        return self.name
