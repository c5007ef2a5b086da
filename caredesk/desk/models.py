"""What the desk itself stores: canned replies, and who is on a ticket right now."""

from django.conf import settings
from django.db import models

from caredesk.lib import clock

from . import canned


class CannedReply(models.Model):
    """A saved answer staff insert into the reply box; placeholders are filled per ticket."""

    title = models.CharField(max_length=120, unique=True)
    body = models.TextField(
        max_length=20_000,
        validators=[canned.validate],
        help_text="Placeholders: "
        + ", ".join("{{ " + name + " }}" for name in canned.PLACEHOLDERS)
        + ". Template tags are not allowed.",
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["position", "title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.updated_at = clock.now()
        super().save(*args, **kwargs)


class Presence(models.Model):
    """A staff member looking at (or typing on) a ticket, as of their last heartbeat.

    One row per ticket and person, overwritten by an upsert every few seconds; a
    row older than ``presence.FRESH`` means they left. Kept in the database, not
    in a process's memory, so agents served by different web processes see each other.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    replying = models.BooleanField(default=False)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="desk_presence_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.ticket_id} at {self.seen_at:%H:%M:%S}"
