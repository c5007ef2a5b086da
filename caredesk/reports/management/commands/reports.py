import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from caredesk.billing.periods import local_today
from caredesk.billing.statements import parse_period
from caredesk.reports.models import Report
from caredesk.reports.tasks import last_month


class Command(BaseCommand):
    help = "Monthly reports: build a month's reports, send the built ones, export one as PDF."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("build", help="Collect and render each client's report for a month.")
        build.add_argument("--month", required=True, help="The month, e.g. 2026-10.")
        build.add_argument(
            "--organisation", type=int, action="append", help="A client id (repeatable)."
        )
        build.add_argument(
            "--site",
            type=int,
            action="append",
            help="A site id (repeatable): builds the whole report of the site's client.",
        )
        send = sub.add_parser("send", help="Send the built reports that are not held or sent.")
        send.add_argument("--month", help="The month, e.g. 2026-10 (default: last month).")
        export = sub.add_parser("export", help="Write one report's archived PDF to a file.")
        export.add_argument("id", type=int, help="The report's id (see the admin).")
        export.add_argument("--pdf", type=Path, required=True, help="Write the PDF here.")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None

    def _say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _build(self, month: str, organisation: list[int] | None, site: list[int] | None, **_):
        from caredesk.reports.actions import do_build_reports

        year, number = parse_period(month)
        began = time.monotonic()
        built = do_build_reports(
            year, number, organisations=organisation, sites=site, progress=self._say
        )
        sites = sum(len(r.facts.get("sites", [])) for r in built)
        self._say(f"{len(built)} report(s), {sites} site(s) in {time.monotonic() - began:.1f} s")

    def _send(self, month: str | None, **_):
        from caredesk.reports.actions import send_month

        year, number = parse_period(month) if month else last_month(local_today())
        counts = send_month(year, number, progress=self._say)
        self._say(
            f"sent {counts['sent']}, held {counts['held']}, "
            f"without recipients {counts['no_recipients']}, already taken {counts['skipped']}"
        )

    def _export(self, id: int, pdf: Path, **_):
        report = Report.objects.select_related("organisation").filter(pk=id).first()
        if report is None or not report.pdf:
            raise CommandError(f"no built report with id {id}")
        pdf.write_bytes(bytes(report.pdf))
        self._say(f"wrote {pdf}")
