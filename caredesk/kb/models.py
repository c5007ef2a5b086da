from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from caredesk.clients.models import Organisation
from caredesk.lib import clock, markdown

SLUG_HELP = "Part of the address: lower-case letters, digits and hyphens."


class Category(models.Model):
    """A shelf of the knowledge base, e.g. "Getting help" or "Backups"."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=80, unique=True, help_text=SLUG_HELP)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Lower comes first.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("kb:category", args=[self.slug])


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public (anyone)"
    PORTAL = "portal", "Signed-in clients"
    STAFF = "staff", "Staff only"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Article(models.Model):
    """A help article written in Markdown.

    Who may read it is decided in :mod:`caredesk.kb.access` from ``status``,
    ``visibility`` and ``organisation``; ``search_vector`` is kept by a
    PostgreSQL trigger (it stays empty on SQLite, where an FTS5 table is used).
    """

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True, help_text=SLUG_HELP)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    summary = models.CharField(
        max_length=300, blank=True, help_text="One or two sentences shown in lists and search."
    )
    keywords = models.CharField(
        max_length=300,
        blank=True,
        help_text="Other words people use for this, e.g. 'login, sign in, locked out'. "
        "Searched, never shown.",
    )
    body = models.TextField(help_text="Markdown. Raw HTML is shown as text.")
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        # Deleting a client deletes its own how-tos; they must never fall back to everyone.
        on_delete=models.CASCADE,
        related_name="kb_articles",
        help_text="Only this client's contacts (and staff) see the article. "
        "Leave empty for every client.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    position = models.PositiveIntegerField(default=0, help_text="Order within the category.")
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["position", "title"]
        indexes = [models.Index(fields=["status", "visibility"], name="kb_article_seen_by")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("kb:article", args=[self.slug])

    def clean(self) -> None:
        if self.organisation_id and self.visibility == Visibility.PUBLIC:
            raise ValidationError(
                {
                    "visibility": "An article for one client cannot be public: choose "
                    "'Signed-in clients' (that client's contacts) or 'Staff only'."
                }
            )

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    @property
    def body_html(self) -> SafeString:
        # Sanitised by caredesk.lib.markdown (raw HTML off, then an allow-list).
        return mark_safe(markdown.render(self.body))

    @property
    def excerpt(self) -> str:
        return self.summary or markdown.plain_text(self.body, 180)


class ArticleEvent(models.Model):
    """The audit trail of authoring: who created, changed, published or deleted what."""

    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    # Kept so the trail still reads after the article is deleted.
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20)
    at = models.DateTimeField(default=clock.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"


class Feedback(models.Model):
    """One visitor's answer to "Did this answer your question?" for one article.

    ``visitor`` is a random id kept in the visitor's session, so a vote can be
    changed from the same browser and counts once; nothing else about the
    visitor is stored.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    visitor = models.CharField(max_length=64)
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["article", "visitor"], name="kb_one_vote_per_visitor")
        ]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return f"{'yes' if self.helpful else 'no'} on {self.article_id}"


class SuggestionSession(models.Model):
    """Articles suggested while someone typed a ticket's subject, and how it ended.

    Stores no query text and no person: only which articles were shown and
    opened, and whether a ticket followed (``ticket_id``; kb sits below tickets
    in the layers, so this is a plain number, not a foreign key).
    """

    token = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)
    updated_at = models.DateTimeField(default=clock.now)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    ticket_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.token


class SuggestionShown(models.Model):
    session = models.ForeignKey(SuggestionSession, on_delete=models.CASCADE, related_name="shown")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="suggested")
    shown_at = models.DateTimeField(default=clock.now)
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "article"], name="kb_shown_once")]

    def __str__(self) -> str:
        return f"article {self.article_id} in session {self.session_id}"
