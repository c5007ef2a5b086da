"""Who reads which article: staff, a client's manager and requester, another client, anyone."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from caredesk.accounts.models import Role, User
from caredesk.kb.access import article_or_404, articles_for, categories_for
from caredesk.kb.models import Category

from .conftest import SEES


@pytest.mark.parametrize("persona", SEES, indirect=True)
def test_each_persona_reads_exactly_its_articles(persona, matrix):
    name, user = persona
    readable = set(articles_for(user).values_list("slug", flat=True))
    assert readable == {matrix[key].slug for key in SEES[name]}


def test_anonymous_user_object_is_treated_like_no_user(matrix):
    assert set(articles_for(AnonymousUser()).values_list("slug", flat=True)) == {"public-article"}


def test_login_without_a_contact_reads_public_articles_only(matrix):
    stray = User.objects.create_user("stray@else.example", "pw-123456789", role=Role.CLIENT)
    assert list(articles_for(stray).values_list("slug", flat=True)) == ["public-article"]


def test_deactivated_contact_reads_public_articles_only(matrix, manager_a):
    manager_a.contact.is_active = False
    manager_a.contact.save()
    assert list(articles_for(manager_a).values_list("slug", flat=True)) == ["public-article"]


def test_contact_of_deactivated_organisation_reads_public_articles_only(matrix, manager_a, org_a):
    org_a.is_active = False
    org_a.save()
    assert list(articles_for(manager_a).values_list("slug", flat=True)) == ["public-article"]


def test_article_of_another_client_is_404_like_a_missing_one(matrix, contact_b):
    with pytest.raises(Http404):
        article_or_404(contact_b, "alpha-howto")
    with pytest.raises(Http404):
        article_or_404(contact_b, "no-such-article")
    assert article_or_404(contact_b, "beta-howto").slug == "beta-howto"


def test_categories_with_nothing_readable_are_hidden(make_article, manager_a):
    hidden = Category.objects.create(name="Internal", slug="internal")
    make_article("runbook", category=hidden, visibility="staff")
    make_article("open", visibility="public")
    assert "internal" not in set(categories_for(None).values_list("slug", flat=True))
    assert "internal" not in set(categories_for(manager_a).values_list("slug", flat=True))
