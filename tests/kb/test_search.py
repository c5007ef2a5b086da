"""search() on whichever database the suite runs on (SQLite FTS5 or PostgreSQL)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caredesk.kb.models import Status, Visibility
from caredesk.kb.search import search


@pytest.fixture
def library(make_article):
    return {
        "password": make_article(
            "reset-password",
            title="How to reset your WordPress password",
            summary="Locked out? Reset it from the login page.",
            keywords="login, locked out",
            body="Go to the login page and click Lost your password.",
        ),
        "users": make_article(
            "add-user",
            title="Adding a colleague to WordPress",
            body="Give each person a user. Never share a password between people.",
        ),
        "restore": make_article(
            "backup-restore",
            title="How to request a backup restore",
            body="A restore puts the whole site back to the day of the backup.",
        ),
        "report": make_article(
            "monthly-report",
            title="What your monthly report contains",
            body="Uptime, updates, backups and tickets of the month.",
            visibility=Visibility.PORTAL,
        ),
    }


def slugs(results):
    return [a.slug for a in results]


def test_all_words_must_match(library):
    assert slugs(search("backup restore", user_or_none=None)) == ["backup-restore"]


def test_title_match_outranks_body_match(library):
    results = search("password", user_or_none=None)
    assert slugs(results) == ["reset-password", "add-user"]
    assert results[0].rank > results[1].rank


def test_words_are_stemmed(library):
    assert "backup-restore" in slugs(search("restoring backups", user_or_none=None))


def test_keywords_are_searched(library):
    assert slugs(search("locked out", user_or_none=None)) == ["reset-password"]


def test_phrase_or_and_exclusion(library):
    assert slugs(search('"whole site"', user_or_none=None)) == ["backup-restore"]
    assert set(slugs(search("colleague or restore", user_or_none=None))) == {
        "add-user",
        "backup-restore",
    }
    assert slugs(search("password -colleague", user_or_none=None)) == ["reset-password"]


def test_visibility_is_applied_before_the_limit(library, make_article, manager_a):
    for n in range(5):
        make_article(f"staff-note-{n}", title="Uptime runbook", visibility=Visibility.STAFF)
    assert slugs(search("uptime", user_or_none=None, limit=3)) == []
    assert slugs(search("uptime", user_or_none=manager_a, limit=3)) == ["monthly-report"]


def test_drafts_are_found_by_staff_unless_published_only(make_article, staff):
    make_article("draft-one", title="Draft about invoices", status=Status.DRAFT)
    assert slugs(search("invoices", user_or_none=staff)) == ["draft-one"]
    assert slugs(search("invoices", user_or_none=staff, published_only=True)) == []
    assert slugs(search("invoices", user_or_none=None)) == []


def test_any_word_mode_matches_some_words_and_a_typed_prefix(library):
    found = slugs(search("my site needs a restor", user_or_none=None, any_word=True))
    assert found[0] == "backup-restore"
    assert "reset-password" in slugs(search("wordpress passw", user_or_none=None, any_word=True))


def test_limit_is_bounded(library):
    assert len(search("wordpress", user_or_none=None, limit=1)) == 1
    assert len(search("wordpress", user_or_none=None, limit=0)) == 1
    assert len(search("wordpress", user_or_none=None, limit=10**9)) == 2


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        '"',
        '"""',
        "'",
        "-",
        "--password",
        "or",
        "password or",
        "AND OR NOT",
        "NEAR(password restore, 2)",
        "title:password",
        "password*",
        "*",
        "^password",
        "(password",
        "password)",
        "pass\x00word",
        "\x00",
        "!password & restore | :*",
        "password:* & !restore",
        "\\",
        "{}[]<>;",
        "ünïcödé pässwörd",
        "密码 重置",
        "😀 password",
        "word " * 500,
        "x" * 10_000,
    ],
)
def test_bad_query_text_never_raises(library, text):
    for any_word in (False, True):
        results = search(text, user_or_none=None, any_word=any_word)
        assert isinstance(results, list)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=300))
def test_arbitrary_query_text_never_raises(library, text):
    search(text, user_or_none=None)
    search(text, user_or_none=None, any_word=True)
