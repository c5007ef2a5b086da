from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from caredesk.ops.imports import KINDS, import_csv


class Command(BaseCommand):
    help = (
        "Import organisations, contacts or sites from a CSV file. The file is checked "
        "whole first; if any row is bad, every error is listed and nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check and report only.")

    def handle(self, *args, kind: str, file: Path, dry_run: bool, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        report = import_csv(kind, data, dry_run=dry_run)
        for line, message in report.errors:
            where = f"line {line}" if line else "file"
            self.stderr.write(f"{file}:{where}: {message}")
        if report.errors:
            raise CommandError(report.summary())
        self.stdout.write(("Dry run: " if dry_run else "") + report.summary())
