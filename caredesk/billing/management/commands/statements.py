from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from caredesk.billing.models import Statement


class Command(BaseCommand):
    help = "Statements: build (and finalise) a month's statements; export one as CSV or PDF."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("build", help="Build the drafts of the periods starting in a month.")
        build.add_argument("--period", required=True, help="The month, e.g. 2026-10.")
        build.add_argument(
            "--organisation", type=int, action="append", help="A client id (repeatable)."
        )
        build.add_argument(
            "--finalise", action="store_true", help="Number and freeze them (ended periods only)."
        )
        export = sub.add_parser("export", help="Write one statement as CSV and/or PDF.")
        export.add_argument("id", type=int, help="The statement's id (see the admin).")
        export.add_argument("--csv", type=Path, help="Write the CSV to this file.")
        export.add_argument("--pdf", type=Path, help="Write the PDF to this file.")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None

    def _build(self, period: str, organisation: list[int] | None, finalise: bool, **options):
        from caredesk.billing import statements

        year, month = statements.parse_period(period)
        built = statements.build(
            year,
            month,
            organisations=organisation,
            finalise=finalise,
            progress=lambda text: self.stdout.write(text),
        )
        for statement in built:
            self.stdout.write(
                f"{statement.pk:>6}  {statement.reference:<9} {statement.organisation.name:<40.40} "
                f"{statement.period_label:<24} {statement.currency} {statement.total:>10,.2f}"
                f"  {statement.get_status_display()}"
            )
        self.stdout.write(f"{len(built)} statement(s)")

    def _export(self, id: int, csv: Path | None, pdf: Path | None, **options):
        from caredesk.billing import export

        if csv is None and pdf is None:
            raise CommandError("say where to write it: --csv FILE and/or --pdf FILE")
        statement = Statement.objects.select_related("organisation").filter(pk=id).first()
        if statement is None:
            raise CommandError(f"no statement with id {id}")
        if csv is not None:
            csv.write_text(export.statement_csv(statement), encoding="utf-8")
            self.stdout.write(f"wrote {csv}")
        if pdf is not None:
            pdf.write_bytes(export.statement_pdf(statement))
            self.stdout.write(f"wrote {pdf}")
