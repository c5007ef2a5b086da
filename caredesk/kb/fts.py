"""The database side of full-text search: what the migrations install, per engine.

SQLite: an FTS5 table over ``kb_article`` (external content, so the text is
stored once) and three triggers that keep it in step with every insert,
update and delete, whichever code path or raw query makes them.

PostgreSQL: a trigger that fills ``kb_article.search_vector`` (title and
keywords weigh most, then summary, then body) and a GIN index on it.

Django rebuilds a SQLite table to alter it, which drops its triggers: a later
migration that alters ``kb_article`` must call :func:`install` again
(``tests/kb/test_fts_sync.py`` fails if the triggers are missing).
"""

COLUMNS = ("title", "keywords", "summary", "body")
# Column weights for bm25, in COLUMNS order: a title hit beats a body hit.
SQLITE_WEIGHTS = (10.0, 6.0, 3.0, 1.0)
PG_CONFIG = "english"

_cols = ", ".join(COLUMNS)
_new = ", ".join(f"new.{c}" for c in COLUMNS)
_old = ", ".join(f"old.{c}" for c in COLUMNS)

SQLITE_INSTALL = [
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS kb_article_fts USING fts5(
        {_cols}, content='kb_article', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER IF NOT EXISTS kb_article_fts_insert AFTER INSERT ON kb_article BEGIN
        INSERT INTO kb_article_fts(rowid, {_cols}) VALUES (new.id, {_new});
    END""",  # noqa: S608 - built from the constant COLUMNS, no input
    f"""CREATE TRIGGER IF NOT EXISTS kb_article_fts_delete AFTER DELETE ON kb_article BEGIN
        INSERT INTO kb_article_fts(kb_article_fts, rowid, {_cols})
        VALUES ('delete', old.id, {_old});
    END""",  # noqa: S608 - built from the constant COLUMNS, no input
    f"""CREATE TRIGGER IF NOT EXISTS kb_article_fts_update AFTER UPDATE ON kb_article BEGIN
        INSERT INTO kb_article_fts(kb_article_fts, rowid, {_cols})
        VALUES ('delete', old.id, {_old});
        INSERT INTO kb_article_fts(rowid, {_cols}) VALUES (new.id, {_new});
    END""",  # noqa: S608 - built from the constant COLUMNS, no input
    # Index whatever rows exist already (a table rebuilt by a later migration).
    "INSERT INTO kb_article_fts(kb_article_fts) VALUES ('rebuild')",
]
SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS kb_article_fts_insert",
    "DROP TRIGGER IF EXISTS kb_article_fts_delete",
    "DROP TRIGGER IF EXISTS kb_article_fts_update",
    "DROP TABLE IF EXISTS kb_article_fts",
]
SQLITE_TRIGGERS = ("kb_article_fts_insert", "kb_article_fts_delete", "kb_article_fts_update")

PG_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION kb_article_search_vector() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector :=
            setweight(to_tsvector('{PG_CONFIG}', coalesce(NEW.title, '')), 'A') ||
            setweight(to_tsvector('{PG_CONFIG}', coalesce(NEW.keywords, '')), 'A') ||
            setweight(to_tsvector('{PG_CONFIG}', coalesce(NEW.summary, '')), 'B') ||
            setweight(to_tsvector('{PG_CONFIG}', coalesce(NEW.body, '')), 'C');
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS kb_article_search_vector ON kb_article",
    """CREATE TRIGGER kb_article_search_vector BEFORE INSERT OR UPDATE ON kb_article
        FOR EACH ROW EXECUTE FUNCTION kb_article_search_vector()""",
    "CREATE INDEX IF NOT EXISTS kb_article_search_gin ON kb_article USING gin (search_vector)",
    # Fill the vector of rows that exist already (the trigger fires on update).
    "UPDATE kb_article SET title = title",
]
PG_UNINSTALL = [
    "DROP INDEX IF EXISTS kb_article_search_gin",
    "DROP TRIGGER IF EXISTS kb_article_search_vector ON kb_article",
    "DROP FUNCTION IF EXISTS kb_article_search_vector()",
]


def _statements(vendor: str, *, remove: bool = False) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_UNINSTALL if remove else SQLITE_INSTALL
    if vendor == "postgresql":
        return PG_UNINSTALL if remove else PG_INSTALL
    return []


def install(apps, schema_editor) -> None:
    """Create the search table or vector trigger for this database (a RunPython step)."""
    for sql in _statements(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor) -> None:
    for sql in _statements(schema_editor.connection.vendor, remove=True):
        schema_editor.execute(sql, params=None)
