"""Which knowledge-base articles a user may read.

- Agency staff: every article, drafts and staff-only ones included.
- A signed-in client contact: published articles that are public or for
  signed-in clients, and that are for every client or for its own organisation.
- Anyone else (anonymous, or a login with no active contact): published public
  articles that are not limited to an organisation.

Every kb page, the search and the suggestions load articles through here, so a
client never sees another client's article whatever the URL.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from caredesk.clients.access import contact_of, is_staff

from .models import Article, Category, Status, Visibility


def articles_for(user) -> QuerySet[Article]:
    articles = Article.objects.select_related("category", "organisation")
    if is_staff(user):
        return articles
    published = articles.filter(status=Status.PUBLISHED)
    contact = contact_of(user)
    if contact is None:
        return published.filter(visibility=Visibility.PUBLIC, organisation__isnull=True)
    return published.filter(
        Q(organisation__isnull=True) | Q(organisation_id=contact.organisation_id),
        visibility__in=[Visibility.PUBLIC, Visibility.PORTAL],
    )


def categories_for(user) -> QuerySet[Category]:
    """Categories with at least one article the user may read."""
    visible = articles_for(user).values("category_id")
    return Category.objects.filter(pk__in=visible)


def article_or_404(user, slug: str) -> Article:
    """One readable article; missing and forbidden look the same."""
    article = articles_for(user).filter(slug=slug).first()
    if article is None:
        raise Http404("No such article")
    return article
