"""Suggestions while a client types a ticket subject, and how the session ends."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from caredesk.kb import actions, stats
from caredesk.kb.models import SuggestionSession, SuggestionShown
from caredesk.lib import clock


@pytest.fixture
def library(make_article):
    return {
        "restore": make_article("backup-restore", title="How to request a backup restore"),
        "down": make_article("site-down", title="My website is down", summary="Report it."),
        "password": make_article("reset-password", title="Reset your WordPress password"),
    }


def token_in(html: str) -> str | None:
    match = re.search(r'name="kb_suggestion" value="([^"]+)"', html)
    return match.group(1) if match else None


def test_matching_subject_lists_articles_and_starts_a_session(library):
    response = Client().get("/kb/suggest", {"q": "need a backup restored"})
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert "How to request a backup restore" in html
    token = token_in(html)
    session = SuggestionSession.objects.get(token=token)
    assert list(session.shown.values_list("article__slug", flat=True)) == ["backup-restore"]
    assert f"/kb/articles/backup-restore/?s={token}" in html


def test_the_portals_subject_field_name_works_too(library):
    html = Client().get("/kb/suggest", {"subject": "website down"}).content.decode()
    assert "My website is down" in html


def test_typing_on_keeps_one_session_and_adds_what_is_shown(library):
    client = Client()
    token = token_in(client.get("/kb/suggest", {"q": "backup"}).content.decode())
    html = client.get("/kb/suggest", {"q": "backup and password", "kb_suggestion": token})
    assert token_in(html.content.decode()) == token
    assert SuggestionSession.objects.count() == 1
    shown = set(SuggestionShown.objects.values_list("article__slug", flat=True))
    assert shown == {"backup-restore", "reset-password"}


def test_nothing_matching_leaves_no_row_but_keeps_a_running_session(library):
    client = Client()
    html = client.get("/kb/suggest", {"q": "quantum chromodynamics"}).content.decode()
    assert token_in(html) is None and "<li>" not in html
    assert SuggestionSession.objects.count() == 0
    token = token_in(client.get("/kb/suggest", {"q": "backup"}).content.decode())
    html = client.get("/kb/suggest", {"q": "quantum", "kb_suggestion": token}).content.decode()
    assert token_in(html) == token


def test_short_text_is_not_searched(library):
    html = Client().get("/kb/suggest", {"q": "my"}).content.decode()
    assert "<li>" not in html
    assert SuggestionSession.objects.count() == 0


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "\x00\x00"},
        {"q": '"' * 50},
        {"q": "backup " * 400},
        {"q": "backup", "kb_suggestion": "not a token!"},
        {"q": "backup", "kb_suggestion": "x" * 500},
        {"q": "backup", "kb_suggestion": "A" * 24},
    ],
)
def test_odd_input_never_fails(library, params):
    response = Client().get("/kb/suggest", params)
    assert response.status_code == 200


def test_an_unknown_token_starts_a_new_session(library):
    html = Client().get("/kb/suggest", {"q": "backup", "kb_suggestion": "A" * 24}).content
    assert token_in(html.decode()) not in (None, "A" * 24)


def test_opening_a_suggested_article_is_recorded_once(library):
    client = Client()
    token = token_in(client.get("/kb/suggest", {"q": "backup"}).content.decode())
    assert client.get("/kb/articles/backup-restore/", {"s": token}).status_code == 200
    shown = SuggestionShown.objects.get()
    first = shown.opened_at
    assert first is not None
    client.get("/kb/articles/backup-restore/", {"s": token})
    shown.refresh_from_db()
    assert shown.opened_at == first


def test_opening_an_article_that_was_not_suggested_records_nothing(library):
    client = Client()
    token = token_in(client.get("/kb/suggest", {"q": "backup"}).content.decode())
    client.get("/kb/articles/reset-password/", {"s": token})
    client.get("/kb/articles/reset-password/", {"s": "garbage"})
    assert not SuggestionShown.objects.filter(opened_at__isnull=False).exists()


def test_session_that_led_to_a_ticket_is_marked_once(library):
    token = token_in(Client().get("/kb/suggest", {"q": "backup"}).content.decode())
    assert actions.do_suggestion_led_to_ticket(token, 42) is True
    assert actions.do_suggestion_led_to_ticket(token, 43) is False
    session = SuggestionSession.objects.get()
    assert session.ticket_id == 42 and session.ticket_at is not None


@pytest.mark.parametrize("token", [None, "", "short", "x" * 500, "no such token 123", "A" * 24])
def test_marking_a_bad_token_is_ignored(db, token):
    assert actions.do_suggestion_led_to_ticket(token, 1) is False


def test_marking_needs_a_ticket_number(library):
    token = token_in(Client().get("/kb/suggest", {"q": "backup"}).content.decode())
    assert actions.do_suggestion_led_to_ticket(token, "12") is False
    assert actions.do_suggestion_led_to_ticket(token, True) is False


def test_typing_again_after_a_ticket_starts_a_new_session(library):
    client = Client()
    token = token_in(client.get("/kb/suggest", {"q": "backup"}).content.decode())
    actions.do_suggestion_led_to_ticket(token, 7)
    html = client.get("/kb/suggest", {"q": "password", "kb_suggestion": token}).content.decode()
    assert token_in(html) not in (None, token)
    assert SuggestionSession.objects.count() == 2


def test_a_session_holds_a_bounded_number_of_articles(make_article):
    articles = [make_article(f"a-{n}", title=f"Kiln {n}") for n in range(40)]
    token = actions.do_record_suggestions(None, articles[:25])
    actions.do_record_suggestions(token, articles[25:])
    assert SuggestionShown.objects.count() == actions.MAX_SHOWN_PER_SESSION


def test_suggestions_are_published_articles_only(make_article, staff):
    make_article("draft-kiln", title="Kiln draft", status="draft")
    client = Client()
    client.force_login(staff)
    assert "Kiln draft" not in client.get("/kb/suggest", {"q": "kiln"}).content.decode()


def test_deflection_counts_sessions_that_ended_without_a_ticket(library):

    start = clock.now()
    with time_machine.travel(start - timedelta(days=2), tick=False):
        client = Client()
        tokens = [
            token_in(client.get("/kb/suggest", {"q": q}).content.decode())
            for q in ("backup", "password", "website down", "restore backup")
        ]
        client.get("/kb/articles/reset-password/", {"s": tokens[1]})
        client.get("/kb/articles/backup-restore/", {"s": tokens[3]})
        actions.do_suggestion_led_to_ticket(tokens[0], 1001)
        actions.do_suggestion_led_to_ticket(tokens[3], 1002)
    figures = stats.deflection(30)
    assert (figures.sessions, figures.with_ticket, figures.without_ticket) == (4, 2, 2)
    assert figures.rate == 0.5
    assert (figures.opened, figures.opened_without_ticket) == (2, 1)
    assert stats.deflection(1).sessions == 0


def test_a_fresh_session_is_not_counted_yet(library):

    Client().get("/kb/suggest", {"q": "backup"})
    assert stats.deflection(30).sessions == 0
    assert stats.deflection(30).rate is None
