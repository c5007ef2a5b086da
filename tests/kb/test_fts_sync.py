"""The search index follows every change to articles, whatever path makes it."""

from django.db import connection

from caredesk.kb import actions, fts
from caredesk.kb.models import Article
from caredesk.kb.search import search


def slugs(text, user=None):
    return [a.slug for a in search(text, user_or_none=user)]


def test_the_database_side_of_search_is_installed(db):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            triggers = {row[0] for row in cursor.fetchall()}
            assert set(fts.SQLITE_TRIGGERS) <= triggers
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'kb_article_fts'")
            assert cursor.fetchone()
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'kb_article'::regclass "
                "AND NOT tgisinternal"
            )
            assert ("kb_article_search_vector",) in cursor.fetchall()
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'kb_article'")
            assert ("kb_article_search_gin",) in cursor.fetchall()


def test_new_article_is_found(make_article):
    make_article("kettle", title="Descaling the kettle")
    assert slugs("descaling") == ["kettle"]


def test_edited_article_is_found_by_its_new_words_only(make_article, staff):
    article = make_article("kettle", title="Descaling the kettle")
    actions.do_save_article(article, acting_user=staff, title="Cleaning the toaster")
    assert slugs("toaster") == ["kettle"]
    assert slugs("descaling") == []


def test_body_edit_is_followed(make_article, staff):
    article = make_article("kettle", body="Use vinegar.")
    actions.do_save_article(article, acting_user=staff, body="Use citric acid.")
    assert slugs("citric") == ["kettle"]
    assert slugs("vinegar") == []


def test_deleted_article_is_gone_from_the_index(make_article, staff):
    article = make_article("kettle", title="Descaling the kettle")
    actions.do_delete_article(article, acting_user=staff)
    assert slugs("descaling") == []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM kb_article_fts WHERE kb_article_fts MATCH 'descaling'"
            )
            assert cursor.fetchone() == (0,)


def test_bulk_update_and_bulk_delete_are_followed(make_article):
    make_article("one", title="Alpha words")
    make_article("two", title="Alpha words too")
    Article.objects.filter(slug="one").update(title="Gamma words")
    assert slugs("gamma") == ["one"]
    assert slugs("alpha") == ["two"]
    Article.objects.all().delete()
    assert slugs("words") == []


def test_deleting_a_client_removes_its_articles_from_search(make_article, org_a, manager_a):
    make_article("alpha-only", title="Alpha kiln settings", visibility="portal", organisation=org_a)
    assert slugs("kiln", manager_a) == ["alpha-only"]
    org_a.delete()
    assert Article.objects.count() == 0
    assert slugs("kiln") == []


def test_recreated_slug_is_indexed_afresh(make_article, staff):
    first = make_article("kettle", title="Descaling the kettle")
    actions.do_delete_article(first, acting_user=staff)
    make_article("kettle", title="Polishing the kettle")
    assert slugs("kettle") == ["kettle"]
    assert slugs("descaling") == []
