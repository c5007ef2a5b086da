from django.db import migrations

from caredesk.kb import fts


class Migration(migrations.Migration):
    """Full-text search: an FTS5 table and triggers on SQLite, a vector trigger and
    GIN index on PostgreSQL (see caredesk/kb/fts.py)."""

    dependencies = [("kb", "0001_initial")]

    operations = [migrations.RunPython(fts.install, fts.uninstall)]
