"""The public pages read well: index, category, article, search."""

import pytest
from django.test import Client


@pytest.fixture
def client():
    return Client()


def test_index_groups_articles_by_category(client, make_article, category):
    make_article("reset-password", title="Reset your password", summary="From the login page.")
    html = client.get("/kb/").content.decode()
    assert "How can we help?" in html
    assert f'href="/kb/category/{category.slug}/">{category.name}</a>' in html
    assert "Reset your password" in html
    assert "desk.css" in html and "kb/kb.css" in html


def test_visitors_see_no_staff_navigation(client, make_article, manager_a):
    make_article("one")
    html = client.get("/kb/articles/one/").content.decode()
    assert "Edit articles" not in html and "KB stats" not in html and "Sign out" not in html
    client.force_login(manager_a)
    html = client.get("/kb/articles/one/").content.decode()
    assert "Edit articles" not in html and "Sign out" in html


def test_staff_see_their_navigation_and_badges(client, staff, make_article):
    make_article("wip", status="draft")
    client.force_login(staff)
    html = client.get("/kb/articles/wip/").content.decode()
    assert "Edit articles" in html and "KB stats" in html
    assert '<span class="tag draft">draft</span>' in html
    assert 'name="robots" content="noindex"' in html


def test_article_body_is_rendered_and_sanitised(client, make_article):
    make_article(
        "steps",
        body="## Steps\n\n1. Open\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2))",
    )
    html = client.get("/kb/articles/steps/").content.decode()
    body = html.split('<div class="kb-body">', 1)[1].split("</div>", 1)[0]
    assert "<h2>Steps</h2>" in body
    assert "<script" not in body and 'href="javascript' not in body


def test_title_and_summary_are_escaped(client, make_article):
    make_article("x", title="<b>Bold</b> title", summary="<img src=x onerror=alert(1)>")
    html = client.get("/kb/").content.decode() + client.get("/kb/articles/x/").content.decode()
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt;" in html
    assert "<img src=x" not in html


def test_related_articles_and_support_address(client, make_article, settings):
    settings.CAREDESK_SUPPORT_ADDRESS = "help@agency.example"
    make_article("one", title="First one")
    make_article("two", title="Second one")
    html = client.get("/kb/articles/one/").content.decode()
    assert "Second one" in html.split("Related articles", 1)[1]
    assert "mailto:help@agency.example" in html


def test_search_page_says_what_it_found(client, make_article):
    make_article("restore", title="Request a backup restore")
    html = client.get("/kb/search", {"q": "backup restore"}).content.decode()
    assert "1 article for “backup restore”" in html
    html = client.get("/kb/search", {"q": "backup kiln"}).content.decode()
    assert "none has every word" in html and "Request a backup restore" in html
    html = client.get("/kb/search", {"q": "kiln"}).content.decode()
    assert "No articles match “kiln”" in html
    html = client.get("/kb/search").content.decode()
    assert "Type a few words" in html


@pytest.mark.parametrize("q", ['"', "\x00", "a" * 100_00, "-x", "<script>alert(1)</script>"])
def test_search_page_takes_any_text(client, make_article, q):
    make_article("one")
    response = client.get("/kb/search", {"q": q})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_pages_refuse_other_methods(client, make_article):
    make_article("one")
    for url in ("/kb/", "/kb/search", "/kb/articles/one/", "/kb/suggest"):
        assert client.post(url).status_code == 405
