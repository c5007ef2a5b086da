""" "Did this answer your question?": one vote per visitor session per article, changeable."""

import pytest
from django.test import Client

from caredesk.kb.models import Feedback


@pytest.fixture
def article(make_article):
    return make_article("reset-password", title="Reset your password")


def vote(client, article, **data):
    return client.post(f"/kb/articles/{article.slug}/feedback", data)


def test_anonymous_visitor_votes_and_is_sent_back_to_the_box(article):
    response = vote(Client(), article, helpful="yes")
    assert response.status_code == 302
    assert response["Location"] == "/kb/articles/reset-password/#feedback"
    feedback = Feedback.objects.get()
    assert feedback.helpful is True and feedback.comment == ""


def test_the_same_session_changes_its_vote_instead_of_adding_one(article):
    client = Client()
    vote(client, article, helpful="yes")
    vote(client, article, helpful="no")
    assert Feedback.objects.count() == 1
    assert Feedback.objects.get().helpful is False


def test_two_visitors_count_twice(article):
    vote(Client(), article, helpful="yes")
    vote(Client(), article, helpful="no")
    assert sorted(Feedback.objects.values_list("helpful", flat=True)) == [False, True]


def test_one_visitor_votes_once_per_article(article, make_article):
    other = make_article("other")
    client = Client()
    vote(client, article, helpful="yes")
    vote(client, other, helpful="yes")
    assert Feedback.objects.count() == 2
    assert len(set(Feedback.objects.values_list("visitor", flat=True))) == 1


def test_comment_is_added_and_kept_when_the_vote_changes(article):
    client = Client()
    vote(client, article, helpful="no")
    vote(client, article, helpful="no", comment="It did not say where the login page is.")
    vote(client, article, helpful="yes")
    feedback = Feedback.objects.get()
    assert feedback.helpful is True
    assert feedback.comment == "It did not say where the login page is."


def test_an_empty_comment_clears_it(article):
    client = Client()
    vote(client, article, helpful="no", comment="Too short.")
    vote(client, article, helpful="no", comment="")
    assert Feedback.objects.get().comment == ""


def test_htmx_gets_the_feedback_box_with_the_comment_field(article):
    client = Client()
    response = client.post(
        f"/kb/articles/{article.slug}/feedback", {"helpful": "yes"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="feedback"')
    assert 'aria-pressed="true">Yes' in html
    assert 'name="comment"' in html
    response = client.post(
        f"/kb/articles/{article.slug}/feedback",
        {"helpful": "yes", "comment": "Clear, thanks"},
        HTTP_HX_REQUEST="true",
    )
    assert "your comment was sent" in response.content.decode()


def test_the_article_page_shows_the_visitors_own_vote(article):
    client = Client()
    assert 'aria-pressed="true"' not in client.get("/kb/articles/reset-password/").content.decode()
    vote(client, article, helpful="no", comment="Missing a step")
    html = client.get("/kb/articles/reset-password/").content.decode()
    assert 'aria-pressed="true">No' in html
    assert "Missing a step" in html


@pytest.mark.parametrize(
    "data",
    [{}, {"helpful": "maybe"}, {"helpful": "yes", "comment": "x" * 1001}, {"helpful": "\x00"}],
)
def test_bad_feedback_is_refused_with_a_message(article, data):
    client = Client()
    response = client.post(f"/kb/articles/{article.slug}/feedback", data)
    assert response.status_code == 400
    assert "Did this answer your question?" in response.content.decode()
    response = client.post(f"/kb/articles/{article.slug}/feedback", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert Feedback.objects.count() == 0


def test_a_nul_byte_in_the_comment_is_refused(article):
    response = vote(Client(), article, helpful="yes", comment="a\x00b")
    assert response.status_code == 400
    assert Feedback.objects.count() == 0


def test_feedback_needs_post(article):
    assert Client().get(f"/kb/articles/{article.slug}/feedback").status_code == 405


def test_feedback_needs_the_csrf_token(article):
    client = Client(enforce_csrf_checks=True)
    assert vote(client, article, helpful="yes").status_code == 403


def test_a_vote_survives_signing_in(article, manager_a):
    client = Client()
    vote(client, article, helpful="no")
    client.force_login(manager_a)
    vote(client, article, helpful="yes")
    assert Feedback.objects.count() == 1
