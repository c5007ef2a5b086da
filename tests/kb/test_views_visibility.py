"""Every kb URL against the four personas: nobody reaches an article they may not read."""

import pytest

from caredesk.kb.models import Category, Feedback, SuggestionShown

from .conftest import SEES

PERSONAS = list(SEES)


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_article_pages_open_only_for_readers(persona, matrix, client_for):
    name, user = persona
    client = client_for(user)
    for key, article in matrix.items():
        response = client.get(f"/kb/articles/{article.slug}/")
        assert response.status_code == (200 if key in SEES[name] else 404), (name, key)


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_feedback_is_accepted_only_on_readable_articles(persona, matrix, client_for):
    name, user = persona
    client = client_for(user)
    for key, article in matrix.items():
        response = client.post(f"/kb/articles/{article.slug}/feedback", {"helpful": "yes"})
        assert response.status_code == (302 if key in SEES[name] else 404), (name, key)
    voted = set(Feedback.objects.values_list("article__slug", flat=True))
    assert voted == {matrix[key].slug for key in SEES[name]}


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_index_lists_only_readable_titles(persona, matrix, client_for):
    name, user = persona
    page = client_for(user).get("/kb/").content.decode()
    for key, article in matrix.items():
        listed = f'href="/kb/articles/{article.slug}/"' in page
        if key not in SEES[name]:
            assert not listed, key
        elif len(SEES[name]) <= 6:  # a shelf on the index shows six titles
            assert listed, key


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_search_finds_only_readable_articles(persona, matrix, client_for):
    name, user = persona
    page = client_for(user).get("/kb/search", {"q": "zebra crossing"}).content.decode()
    for key, article in matrix.items():
        assert (f'href="/kb/articles/{article.slug}/"' in page) == (key in SEES[name]), key


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_suggestions_offer_only_readable_articles(persona, matrix, client_for):
    name, user = persona
    response = client_for(user).get("/kb/suggest", {"q": "zebra"})
    assert response.status_code == 200
    page = response.content.decode()
    expected = {matrix[key].slug for key in SEES[name]} - {"draft-article"}
    shown = {a.slug for a in matrix.values() if f"/kb/articles/{a.slug}/" in page}
    # Suggestions are capped at five; those shown are all readable ones.
    assert shown and shown <= expected
    assert set(SuggestionShown.objects.values_list("article__slug", flat=True)) == shown


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_category_page_lists_readable_articles_and_hides_empty_shelves(
    persona, matrix, client_for, make_article
):
    name, user = persona
    client = client_for(user)
    page = client.get("/kb/category/getting-help/").content.decode()
    for key, article in matrix.items():
        assert (f'href="/kb/articles/{article.slug}/"' in page) == (key in SEES[name]), key
    internal = Category.objects.create(name="Internal", slug="internal")
    make_article("staff-runbook", category=internal, visibility="staff")
    expected = 200 if name == "staff" else 404
    assert client.get("/kb/category/internal/").status_code == expected


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_staff_pages_do_not_exist_for_others(persona, matrix, client_for):
    name, user = persona
    client = client_for(user)
    lookup = client.get("/kb/staff/lookup", {"q": "zebra"})
    stats = client.get("/kb/staff/stats")
    if name == "staff":
        assert lookup.status_code == 200
        assert stats.status_code == 200
        for article in matrix.values():
            assert article.slug in lookup.content.decode()
    else:
        assert lookup.status_code == 404
        assert stats.status_code == (302 if user is None else 404)


def test_unknown_article_and_category_are_404(client_for, matrix):
    client = client_for(None)
    assert client.get("/kb/articles/nope/").status_code == 404
    assert client.get("/kb/category/nope/").status_code == 404
    assert client.post("/kb/articles/nope/feedback", {"helpful": "yes"}).status_code == 404


def test_opening_another_clients_article_through_a_suggestion_link_is_404(
    matrix, client_for, contact_b
):
    response = client_for(contact_b).get("/kb/articles/alpha-howto/", {"s": "x" * 24})
    assert response.status_code == 404
