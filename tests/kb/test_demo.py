"""The demo articles: useful, mixed, idempotent."""

from caredesk.clients.models import Organisation
from caredesk.kb.demo import load_demo_articles
from caredesk.kb.models import Article, Category, Status, Visibility
from caredesk.kb.search import search


def test_demo_articles_load_once(db):
    Organisation.objects.create(name="Harbour Bakery Ltd")
    assert load_demo_articles() > 0
    counts = (Category.objects.count(), Article.objects.count())
    assert load_demo_articles() == 0
    assert (Category.objects.count(), Article.objects.count()) == counts
    assert 3 <= counts[0] <= 4 and 8 <= counts[1] <= 12


def test_demo_mixes_visibility_and_has_one_draft(db):
    Organisation.objects.create(name="Harbour Bakery Ltd")
    load_demo_articles()
    kinds = set(Article.objects.values_list("visibility", flat=True))
    assert kinds == {Visibility.PUBLIC, Visibility.PORTAL, Visibility.STAFF}
    assert Article.objects.filter(status=Status.DRAFT).count() == 1
    assert Article.objects.filter(organisation__name="Harbour Bakery Ltd").count() == 1


def test_client_specific_article_is_skipped_without_its_client(db):
    load_demo_articles()
    assert not Article.objects.filter(organisation__isnull=False).exists()
    assert not Article.objects.filter(slug="harbour-bakery-opening-hours").exists()


def test_demo_articles_answer_likely_questions(db):
    load_demo_articles()
    assert search("reset password", user_or_none=None)[0].slug == "reset-wordpress-password"
    assert search("site down", user_or_none=None)[0].slug == "emergencies-and-downtime"
    assert search("business hours", user_or_none=None)[0].slug == "how-response-times-are-counted"
