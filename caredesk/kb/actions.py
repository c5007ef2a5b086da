"""Every change to the knowledge base: articles, feedback and suggestion sessions.

Authoring (create, edit, publish, delete) is for agency staff and leaves an
:class:`ArticleEvent`. Feedback and suggestions come from anyone, anonymous
included: they are their own records and store nothing about the person.
Views and the admin call these; nothing else writes kb rows.
"""

import re
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from caredesk.clients.access import is_staff
from caredesk.lib import clock

from .models import (
    Article,
    ArticleEvent,
    Feedback,
    Status,
    SuggestionSession,
    SuggestionShown,
)

MAX_COMMENT = 1000
MAX_SHOWN_PER_SESSION = 30  # a session is one ticket form; past this it is noise
TRACKED_FIELDS = (
    "title",
    "slug",
    "category_id",
    "summary",
    "keywords",
    "body",
    "visibility",
    "organisation_id",
    "status",
    "position",
)
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,32}")


def _require_staff(user) -> None:
    if not is_staff(user):
        raise ValidationError("Only agency staff can change knowledge-base articles.")


def _event(article: Article | None, kind: str, *, acting_user, title: str = "", **data) -> None:
    ArticleEvent.objects.create(
        article=article,
        title=title or (article.title if article else ""),
        kind=kind,
        at=clock.now(),
        actor=acting_user,
        data=data,
    )


@transaction.atomic
def do_save_article(article: Article, *, acting_user, **changes: Any) -> Article:
    """Create (unsaved ``article``) or change an article; checks every field first.

    Publishing for the first time stamps ``published_at``; the event says
    whether the article was created, edited, published or withdrawn.
    """
    _require_staff(acting_user)
    creating = article.pk is None
    before = None if creating else Article.objects.filter(pk=article.pk).first()
    for field, value in changes.items():
        setattr(article, field, value)
    article.full_clean()
    now = clock.now()
    article.updated_at = now
    article.updated_by = acting_user
    if article.status == Status.PUBLISHED and article.published_at is None:
        article.published_at = now
    article.save()
    if creating:
        _event(article, "created", acting_user=acting_user, status=article.status)
        return article
    changed = (
        sorted(f for f in TRACKED_FIELDS if getattr(before, f) != getattr(article, f))
        if before
        else []
    )
    kind = "edited"
    if before and before.status != article.status:
        kind = "published" if article.status == Status.PUBLISHED else "withdrawn"
    _event(article, kind, acting_user=acting_user, fields=changed)
    return article


def do_set_status(article: Article, status: str, *, acting_user) -> Article:
    """Publish an article or take it back to draft."""
    if status not in Status.values:
        raise ValidationError({"status": f"unknown status {status!r}"})
    return do_save_article(article, acting_user=acting_user, status=status)


@transaction.atomic
def do_delete_article(article: Article, *, acting_user) -> None:
    _require_staff(acting_user)
    _event(article, "deleted", acting_user=acting_user, slug=article.slug)
    article.delete()


def new_visitor_id() -> str:
    return secrets.token_urlsafe(16)


@transaction.atomic
def do_give_feedback(
    article: Article, *, visitor: str, helpful: bool, comment: str | None = None
) -> Feedback:
    """Record or change one visitor's answer for one article.

    ``comment=None`` keeps a comment given earlier; the visitor id comes from
    the visitor's session, so the same browser changes its vote, never adds one.
    """
    if not visitor or len(visitor) > 64:
        raise ValidationError("A vote needs a visitor id.")
    if comment is not None:
        comment = comment.replace("\x00", "").strip()
        if len(comment) > MAX_COMMENT:
            raise ValidationError({"comment": f"Keep the comment under {MAX_COMMENT} characters."})
    now = clock.now()
    feedback = Feedback.objects.select_for_update().filter(article=article, visitor=visitor).first()
    if feedback is None:
        try:
            with transaction.atomic():
                return Feedback.objects.create(
                    article=article,
                    visitor=visitor,
                    helpful=helpful,
                    comment=comment or "",
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            # The same visitor's second click raced the first one; change that vote.
            feedback = Feedback.objects.select_for_update().get(article=article, visitor=visitor)
    feedback.helpful = helpful
    if comment is not None:
        feedback.comment = comment
    feedback.updated_at = now
    feedback.save(update_fields=["helpful", "comment", "updated_at"])
    return feedback


def valid_token(token: str | None) -> str | None:
    """``token`` if it has the shape of a suggestion token, else None."""
    if token and TOKEN_PATTERN.fullmatch(token):
        return token
    return None


@transaction.atomic
def do_record_suggestions(token: str | None, articles: list[Article]) -> str | None:
    """Note which articles were suggested in the session ``token`` (started if needed).

    Returns the session's token, or None when nothing was shown and no session
    was going: a subject that matches nothing leaves no row behind.
    """
    token = valid_token(token)
    session = SuggestionSession.objects.filter(token=token).first() if token else None
    if session is None and not articles:
        return None
    now = clock.now()
    if session is None:
        session = SuggestionSession.objects.create(
            token=secrets.token_urlsafe(18), created_at=now, updated_at=now
        )
    elif session.ticket_id is not None:
        # That form already became a ticket; typing again is a new question.
        if not articles:
            return None
        session = SuggestionSession.objects.create(
            token=secrets.token_urlsafe(18), created_at=now, updated_at=now
        )
    already = set(session.shown.values_list("article_id", flat=True))
    room = MAX_SHOWN_PER_SESSION - len(already)
    fresh = [a for a in articles if a.pk not in already][: max(room, 0)]
    if fresh:
        SuggestionShown.objects.bulk_create(
            [SuggestionShown(session=session, article=a, shown_at=now) for a in fresh],
            ignore_conflicts=True,
        )
        SuggestionSession.objects.filter(pk=session.pk).update(updated_at=now)
    return session.token


@transaction.atomic
def do_record_suggestion_open(token: str | None, article: Article) -> bool:
    """Note that a suggested article was opened; False if it was not suggested there."""
    token = valid_token(token)
    if token is None:
        return False
    now = clock.now()
    opened = SuggestionShown.objects.filter(
        session__token=token, article=article, opened_at__isnull=True
    ).update(opened_at=now)
    return opened > 0


@transaction.atomic
def do_suggestion_led_to_ticket(token: str | None, ticket_id: int) -> bool:
    """Mark that the suggestion session ``token`` ended in ticket ``ticket_id``.

    For the portal and the widget when a ticket form is sent. An unknown or
    malformed token (it comes from the client's form) is ignored: returns False.
    The first ticket counts; sending the same token again changes nothing.
    """
    token = valid_token(token)
    if token is None or isinstance(ticket_id, bool) or not isinstance(ticket_id, int):
        return False
    updated = SuggestionSession.objects.filter(token=token, ticket_id__isnull=True).update(
        ticket_id=ticket_id, ticket_at=clock.now()
    )
    return updated > 0
