"""Set up Django for a benchmark: its own data directory, SQLite unless BENCH_DATABASE_URL."""

import os
import sys
import tempfile
from pathlib import Path


def setup(name: str) -> Path:
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    data = Path(tempfile.mkdtemp(prefix=f"caredesk-bench-{name}-"))
    os.environ["CAREDESK_DATA_DIR"] = str(data)
    os.environ["CAREDESK_ENV_FILE"] = str(data / "none.env")
    os.environ.pop("DATABASE_URL", None)
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caredesk.settings")
    os.environ.setdefault("CAREDESK_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0) if os.environ.get(
        "BENCH_DATABASE_URL"
    ) else None
    call_command("migrate", verbosity=0)
    return data
