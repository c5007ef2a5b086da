"""The staff statistics page: votes per article, suggestions, deflection."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from caredesk.kb import actions
from caredesk.lib import clock


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def test_counts_per_article_and_recent_comments(staff_client, make_article):
    article = make_article("reset-password", title="Reset your password")
    make_article("quiet", title="Quiet article")
    actions.do_give_feedback(article, visitor="v1", helpful=True)
    actions.do_give_feedback(article, visitor="v2", helpful=True)
    actions.do_give_feedback(article, visitor="v3", helpful=False, comment="Which login page?")
    html = staff_client.get("/kb/staff/stats").content.decode()
    row = html.split("Reset your password", 1)[1].split("</tr>", 1)[0]
    cells = [c.split("<", 1)[0] for c in row.split('<td class="num">')[1:]]
    assert cells == ["2", "1", "67 %", "1", "0", "0"]
    assert "Which login page?" in html


def test_deflection_figures_are_shown(staff_client, make_article):
    article = make_article("backup-restore", title="Backup restore")
    with time_machine.travel(clock.now() - timedelta(days=3), tick=False):
        first = actions.do_record_suggestions(None, [article])
        actions.do_record_suggestions(None, [article])
        actions.do_record_suggestion_open(first, article)
        actions.do_suggestion_led_to_ticket(first, 1001)
    html = staff_client.get("/kb/staff/stats").content.decode()
    assert '<span class="big">2</span> ticket forms were shown suggestions' in html
    assert '<span class="big">50 %</span> ended without a ticket (1)' in html


def test_period_choice_and_bad_period(staff_client, make_article):
    assert 'aria-current="page">Last 90 days' in staff_client.get(
        "/kb/staff/stats", {"days": "90"}
    ).content.decode().replace('class="active" ', "")
    for bad in ("7", "abc", "\x00", "9" * 50):
        response = staff_client.get("/kb/staff/stats", {"days": bad})
        assert response.status_code == 200


def test_no_sessions_show_a_dash_not_an_error(staff_client, db):
    html = staff_client.get("/kb/staff/stats").content.decode()
    assert '<span class="big">—</span> ended without a ticket' in html
