"""Staff author in the Django admin: every agent may, saves go through the actions."""

import pytest
from django.test import Client

from caredesk.kb import actions
from caredesk.kb.models import Article, ArticleEvent, Category


@pytest.fixture
def agent_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def article_form(category, **overrides):
    return {
        "title": "Reset your password",
        "slug": "reset-password",
        "category": category.pk,
        "position": 0,
        "summary": "",
        "keywords": "",
        "body": "Click **Lost your password?** <script>alert(1)</script>",
        "status": "draft",
        "visibility": "public",
        "organisation": "",
        **overrides,
    }


def test_an_agent_creates_an_article_through_the_actions(agent_client, staff, category):
    response = agent_client.post("/admin/kb/article/add/", article_form(category))
    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get()
    assert article.updated_by == staff
    assert ArticleEvent.objects.get().kind == "created"


def test_the_change_page_previews_the_rendered_sanitised_body(agent_client, make_article):
    article = make_article("one", body="## Steps\n\n<script>alert(1)</script>")
    html = agent_client.get(f"/admin/kb/article/{article.pk}/change/").content.decode()
    assert "<h2>Steps</h2>" in html
    assert "<script>alert(1)</script>" not in html
    assert "View on site" in html


def test_publish_action_goes_through_the_actions(agent_client, make_article):
    article = make_article("one", status="draft")
    response = agent_client.post(
        "/admin/kb/article/", {"action": "publish", "_selected_action": [article.pk]}
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == "published" and article.published_at is not None
    assert ArticleEvent.objects.filter(kind="published").exists()


def test_public_article_for_one_client_is_refused_in_the_form(agent_client, category, org_a):
    response = agent_client.post(
        "/admin/kb/article/add/", article_form(category, organisation=org_a.pk)
    )
    assert response.status_code == 200
    assert "cannot be public" in response.content.decode()
    assert Article.objects.count() == 0


def test_list_shows_vote_counts(agent_client, make_article):
    article = make_article("one", title="Counted article")
    actions.do_give_feedback(article, visitor="a", helpful=True)
    actions.do_give_feedback(article, visitor="b", helpful=False)
    actions.do_give_feedback(article, visitor="c", helpful=False)
    html = agent_client.get("/admin/kb/article/").content.decode()
    row = html.split("Counted article", 1)[1].split("</tr>", 1)[0]
    assert 'class="field-helpful_yes">1<' in row
    assert 'class="field-helpful_no">2<' in row


def test_deleting_in_the_admin_leaves_an_event(agent_client, make_article):
    article = make_article("one")
    agent_client.post(f"/admin/kb/article/{article.pk}/delete/", {"post": "yes"})
    assert not Article.objects.exists()
    assert ArticleEvent.objects.filter(kind="deleted").exists()


def test_clients_cannot_reach_the_kb_admin(manager_a, make_article):
    client = Client()
    client.force_login(manager_a)
    assert client.get("/admin/kb/article/").status_code == 302  # to the admin login
    assert Category.objects.count() == 1
