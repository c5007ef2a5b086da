from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from caredesk.monitoring.imports import REQUIRED, import_monitors


class Command(BaseCommand):
    help = "Manage uptime monitors."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        importing = actions.add_parser(
            "import",
            help=(
                f"Import monitors from a CSV file (columns {', '.join(REQUIRED)} and optional "
                "ones, see docs/monitoring.md). The whole file is checked first; if any row "
                "is bad, every error is listed and nothing is imported."
            ),
        )
        importing.add_argument("file", type=Path)
        importing.add_argument("--dry-run", action="store_true", help="Check and report only.")

    def handle(self, *args, action: str, **options):
        if action == "import":
            self._import(options["file"], options["dry_run"])

    def _import(self, file: Path, dry_run: bool) -> None:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        report = import_monitors(data, dry_run=dry_run)
        for line, message in report.errors:
            where = f"line {line}" if line else "file"
            self.stderr.write(f"{file}:{where}: {message}")
        if report.errors:
            raise CommandError(report.summary())
        self.stdout.write(("Dry run: " if dry_run else "") + report.summary())
