"""Articles of every kind, written through the actions as staff would."""

import pytest
from django.test import Client

from caredesk.kb import actions
from caredesk.kb.models import Article, Category, Status, Visibility


@pytest.fixture
def category(db) -> Category:
    return Category.objects.create(name="Getting help", slug="getting-help")


@pytest.fixture
def make_article(staff, category):
    """Create an article through ``do_save_article``; published and public unless told."""

    def make(slug: str, **fields) -> Article:
        values = {
            "title": slug.replace("-", " ").capitalize(),
            "body": f"Text of {slug}. Every article mentions the zebra crossing.",
            "category": category,
            "status": Status.PUBLISHED,
            "visibility": Visibility.PUBLIC,
            "slug": slug,
            **fields,
        }
        return actions.do_save_article(Article(), acting_user=staff, **values)

    return make


@pytest.fixture
def matrix(make_article, org_a, org_b) -> dict[str, Article]:
    """One article of each kind: who may read which is the point of the kb tests."""
    return {
        "public": make_article("public-article"),
        "portal": make_article("portal-article", visibility=Visibility.PORTAL),
        "staff": make_article("staff-article", visibility=Visibility.STAFF),
        "draft": make_article("draft-article", status=Status.DRAFT),
        "for_a": make_article("alpha-howto", visibility=Visibility.PORTAL, organisation=org_a),
        "for_b": make_article("beta-howto", visibility=Visibility.PORTAL, organisation=org_b),
        "staff_a": make_article(
            "alpha-staff-notes", visibility=Visibility.STAFF, organisation=org_a
        ),
    }


# Which matrix articles each persona reads.
SEES = {
    "anonymous": {"public"},
    "staff": {"public", "portal", "staff", "draft", "for_a", "for_b", "staff_a"},
    "manager_a": {"public", "portal", "for_a"},
    "requester_a": {"public", "portal", "for_a"},
    "contact_b": {"public", "portal", "for_b"},
}


@pytest.fixture
def persona(request, staff, manager_a, requester_a, contact_b):
    """(name, user or None) for the persona named by the test's parameter."""
    users = {
        "anonymous": None,
        "staff": staff,
        "manager_a": manager_a,
        "requester_a": requester_a,
        "contact_b": contact_b,
    }
    return request.param, users[request.param]


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make
