"""The staff lookup fragment for linking an article into a reply."""

import pytest
from django.test import Client

from caredesk.kb.models import Status, Visibility


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def test_matching_articles_come_with_address_and_markdown_link(
    staff_client, make_article, settings
):
    settings.CAREDESK_BASE_URL = "https://help.agency.example"
    make_article("backup-restore", title="Backup [restore] guide")
    html = staff_client.get("/kb/staff/lookup", {"q": "backup"}).content.decode()
    assert "https://help.agency.example/kb/articles/backup-restore/" in html
    assert (
        'data-kb-insert="[Backup \\[restore\\] guide]'
        '(https://help.agency.example/kb/articles/backup-restore/)"'
    ) in html


def test_every_visibility_is_listed_but_unreadable_ones_cannot_be_inserted(
    staff_client, make_article, org_a
):
    make_article("pub", title="Kiln public")
    make_article("mine", title="Kiln for alpha", visibility=Visibility.PORTAL, organisation=org_a)
    make_article("inside", title="Kiln runbook", visibility=Visibility.STAFF)
    make_article("wip", title="Kiln draft", status=Status.DRAFT)
    html = staff_client.get("/kb/staff/lookup", {"q": "kiln"}).content.decode()
    for title in ("Kiln public", "Kiln for alpha", "Kiln runbook", "Kiln draft"):
        assert title in html
    items = html.split("<li>")[1:]
    disabled = {i.split("</a>")[0].rsplit(">", 1)[1] for i in items if "disabled" in i}
    assert disabled == {"Kiln runbook", "Kiln draft"}


def test_empty_query_lists_recent_articles(staff_client, make_article):
    make_article("one", title="First")
    assert "First" in staff_client.get("/kb/staff/lookup").content.decode()


def test_no_match_says_so(staff_client, make_article):
    make_article("one", title="First")
    html = staff_client.get("/kb/staff/lookup", {"q": "zzzz"}).content.decode()
    assert "No articles match" in html


def test_odd_queries_never_fail(staff_client, make_article):
    make_article("one", title="First")
    for q in ('"', "\x00", "-", "x" * 5000, "a or or -b"):
        assert staff_client.get("/kb/staff/lookup", {"q": q}).status_code == 200
