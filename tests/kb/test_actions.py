"""Authoring through the actions: checks, the audit trail, publishing."""

import pytest
from django.core.exceptions import ValidationError

from caredesk.kb import actions
from caredesk.kb.models import Article, ArticleEvent, Status, Visibility


def test_creating_records_who_and_an_event(make_article, staff):
    article = make_article("one", status=Status.DRAFT)
    assert article.updated_by == staff
    assert article.published_at is None
    event = ArticleEvent.objects.get()
    assert (event.kind, event.actor, event.article) == ("created", staff, article)


def test_publishing_stamps_the_date_once_and_says_so(make_article, staff):
    article = make_article("one", status=Status.DRAFT)
    actions.do_set_status(article, Status.PUBLISHED, acting_user=staff)
    first = Article.objects.get().published_at
    assert first is not None
    actions.do_set_status(article, Status.DRAFT, acting_user=staff)
    actions.do_set_status(article, Status.PUBLISHED, acting_user=staff)
    assert Article.objects.get().published_at == first
    kinds = list(ArticleEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["created", "published", "withdrawn", "published"]


def test_an_edit_lists_the_changed_fields(make_article, staff):
    article = make_article("one")
    actions.do_save_article(article, acting_user=staff, title="New", body="New body")
    event = ArticleEvent.objects.latest("id")
    assert event.kind == "edited"
    assert event.data["fields"] == ["body", "title"]


def test_deleting_keeps_the_trail(make_article, staff):
    article = make_article("one", title="Gone soon")
    actions.do_delete_article(article, acting_user=staff)
    event = ArticleEvent.objects.latest("id")
    assert (event.kind, event.title, event.article) == ("deleted", "Gone soon", None)


def test_clients_and_strangers_cannot_author(make_article, manager_a):
    for user in (manager_a, None):
        with pytest.raises(ValidationError):
            actions.do_save_article(Article(), acting_user=user, title="x", slug="x", body="y")
    article = make_article("one")
    with pytest.raises(ValidationError):
        actions.do_delete_article(article, acting_user=manager_a)
    assert Article.objects.count() == 1


def test_an_article_for_one_client_cannot_be_public(make_article, org_a):
    with pytest.raises(ValidationError) as error:
        make_article("alpha", visibility=Visibility.PUBLIC, organisation=org_a)
    assert "visibility" in error.value.message_dict
    assert Article.objects.count() == 0


def test_fields_are_checked(make_article):
    with pytest.raises(ValidationError) as error:
        make_article("Not a slug!", title="")
    assert {"slug", "title"} <= set(error.value.message_dict)


def test_unknown_status_is_refused(make_article, staff):
    article = make_article("one")
    with pytest.raises(ValidationError):
        actions.do_set_status(article, "archived", acting_user=staff)


def test_feedback_needs_a_visitor_and_a_short_comment(make_article):
    article = make_article("one")
    with pytest.raises(ValidationError):
        actions.do_give_feedback(article, visitor="", helpful=True)
    with pytest.raises(ValidationError):
        actions.do_give_feedback(article, visitor="v", helpful=True, comment="x" * 1001)
    feedback = actions.do_give_feedback(article, visitor="v", helpful=True, comment=" ok\x00 ")
    assert feedback.comment == "ok"
