"""Full-text search of the articles a user may read, on PostgreSQL or SQLite.

One function, :func:`search`, whatever the database: PostgreSQL ranks its
``search_vector`` (websearch syntax); SQLite ranks the FTS5 table with bm25.
Both read the query the same way (see :mod:`caredesk.kb.query`) and both run
it against :func:`caredesk.kb.access.articles_for`, so visibility is decided
before ranking and limiting. Query text never raises: what cannot be searched
finds nothing.
"""

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, FloatField, QuerySet
from django.db.models.expressions import RawSQL

from . import fts, query
from .access import articles_for
from .models import Article, Status

MAX_LIMIT = 50


def search(
    text: str,
    *,
    user_or_none,
    limit: int = 20,
    any_word: bool = False,
    published_only: bool = False,
) -> list[Article]:
    """The best matches for ``text`` among the articles the user may read, best first.

    Each article carries a ``rank`` (higher is better). ``any_word`` matches
    articles that have any of the words, the last one as a prefix: for
    suggestions while someone types. ``published_only`` leaves out the drafts
    that staff would otherwise find.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    parsed = query.any_of(text) if any_word else query.parse(text)
    if not parsed:
        return []
    visible = articles_for(user_or_none)
    if published_only:
        visible = visible.filter(status=Status.PUBLISHED)
    if connection.vendor == "postgresql":
        found = _postgres(visible, text, parsed, any_word)
    elif connection.vendor == "sqlite":
        found = _sqlite(visible, parsed)
    else:  # pragma: no cover - caredesk runs on these two only
        raise NotImplementedError(connection.vendor)
    return list(found.order_by("-rank", "title")[:limit])


def _postgres(visible: QuerySet[Article], text: str, parsed, any_word: bool) -> QuerySet[Article]:
    if any_word:
        search_query = SearchQuery(
            query.to_tsquery(parsed), search_type="raw", config=fts.PG_CONFIG
        )
    else:
        search_query = SearchQuery(query.clean(text), search_type="websearch", config=fts.PG_CONFIG)
    return visible.filter(search_vector=search_query).annotate(
        rank=SearchRank(F("search_vector"), search_query)
    )


def _sqlite(visible: QuerySet[Article], parsed) -> QuerySet[Article]:
    match = query.to_fts5(parsed)
    if not match:
        return visible.none()
    weights = ", ".join(str(w) for w in fts.SQLITE_WEIGHTS)
    # bm25 is lower for better matches; negate it so both engines sort "-rank".
    # The SQL is constant; the user's text is only ever the MATCH parameter.
    rank = RawSQL(  # noqa: S611
        f"SELECT -bm25(kb_article_fts, {weights}) FROM kb_article_fts "  # noqa: S608
        "WHERE kb_article_fts MATCH %s AND kb_article_fts.rowid = kb_article.id",
        (match,),
        output_field=FloatField(),
    )
    matching = RawSQL("SELECT rowid FROM kb_article_fts WHERE kb_article_fts MATCH %s", (match,))
    return visible.filter(pk__in=matching).annotate(rank=rank)
