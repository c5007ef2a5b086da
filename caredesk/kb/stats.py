"""Figures for staff: how useful articles are and how often suggestions deflect a ticket.

Read-only. Every figure is a count of stored rows (feedback, suggestion
sessions and the articles shown in them), so each can be traced back.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet

from caredesk.lib import clock

from .models import Article, Feedback, SuggestionSession

# A session this fresh may still turn into a ticket: it is not counted yet.
SETTLE = timedelta(hours=1)


@dataclass(frozen=True)
class Deflection:
    days: int
    sessions: int
    with_ticket: int
    opened: int
    opened_without_ticket: int

    @property
    def without_ticket(self) -> int:
        return self.sessions - self.with_ticket

    @property
    def rate(self) -> float | None:
        """Share of sessions that ended without a ticket (None when there were none)."""
        return self.without_ticket / self.sessions if self.sessions else None


def deflection(days: int) -> Deflection:
    now = clock.now()
    sessions = SuggestionSession.objects.filter(
        created_at__gte=now - timedelta(days=days), updated_at__lt=now - SETTLE
    )
    opened = sessions.filter(shown__opened_at__isnull=False).distinct()
    return Deflection(
        days=days,
        sessions=sessions.count(),
        with_ticket=sessions.filter(ticket_id__isnull=False).count(),
        opened=opened.count(),
        opened_without_ticket=opened.filter(ticket_id__isnull=True).count(),
    )


def with_counts(articles: QuerySet[Article], days: int | None = None) -> QuerySet[Article]:
    """``articles`` with helpful/unhelpful votes, comments, times suggested and opened.

    Votes are all-time (an article's standing); suggestions count the last
    ``days`` when given.
    """
    shown = Q()
    if days is not None:
        shown = Q(suggested__shown_at__gte=clock.now() - timedelta(days=days))
    return articles.annotate(
        yes=Count("feedback", filter=Q(feedback__helpful=True), distinct=True),
        no=Count("feedback", filter=Q(feedback__helpful=False), distinct=True),
        comments=Count("feedback", filter=~Q(feedback__comment=""), distinct=True),
        times_suggested=Count("suggested", filter=shown, distinct=True),
        times_opened=Count(
            "suggested", filter=shown & Q(suggested__opened_at__isnull=False), distinct=True
        ),
    )


def recent_comments(limit: int = 20) -> QuerySet[Feedback]:
    return Feedback.objects.exclude(comment="").select_related("article")[:limit]
