from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from caredesk.clients.models import Connection, Platform, Site
from caredesk.maintenance import actions, connectors, jobs, updates
from caredesk.maintenance.connectors import ItemRef
from caredesk.maintenance.models import LogEntry, UpdateRun


class Command(BaseCommand):
    help = "WordPress maintenance: inventories, updates, the maintenance log."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        inventory = commands.add_parser(
            "inventory", help="Take inventories now (every connected WordPress site by default)."
        )
        inventory.add_argument("--site", action="append", default=[], help="ID or URL; repeatable")
        inventory.add_argument(
            "--due", action="store_true", help="Only the sites whose scheduled time has come."
        )
        update = commands.add_parser(
            "update",
            help="Run updates now: backup, update, health check, roll back on failure.",
        )
        update.add_argument("--site", action="append", default=[], help="ID or URL; repeatable")
        update.add_argument("--all-sites", action="store_true", help="Every connected site.")
        update.add_argument(
            "--item",
            action="append",
            default=[],
            metavar="KIND:SLUG",
            help="plugin:akismet, theme:astra, core:wordpress; default: all with an update",
        )
        retry = commands.add_parser("retry", help="Retry a failed update run.")
        retry.add_argument("run", type=int)
        log = commands.add_parser("log", help="Print a site's maintenance log.")
        log.add_argument("--site", required=True, help="ID or URL")
        log.add_argument("--limit", type=int, default=50)

    def handle(self, *args, action: str, **options):
        if action == "inventory":
            self._inventory(options["site"], options["due"])
        elif action == "update":
            self._update(options["site"], options["all_sites"], options["item"])
        elif action == "retry":
            self._retry(options["run"])
        elif action == "log":
            self._log(options["site"], options["limit"])

    def _sites(self, wanted: list[str]) -> list[Site]:
        connected = Site.objects.filter(is_active=True, platform=Platform.WORDPRESS).exclude(
            connection=Connection.NONE
        )
        if not wanted:
            return list(connected.order_by("id"))
        found = []
        for key in wanted:
            query = Q(url=key) | Q(url=key.rstrip("/") + "/")
            if key.isdigit():
                query |= Q(pk=int(key))
            site = Site.objects.filter(query).first()
            if site is None:
                raise CommandError(f"no site {key!r}")
            found.append(site)
        return found

    def _inventory(self, wanted: list[str], due: bool) -> None:
        if due:
            done = jobs.take_due_inventories()
            self.stdout.write(f"{done} due site(s) visited.")
            return
        failures = 0
        for site in self._sites(wanted):
            try:
                snapshot = actions.take_inventory(site)
            except connectors.ConnectorError as error:
                failures += 1
                self.stderr.write(f"{site} ({site.url}): {error}")
                continue
            waiting = snapshot.items.exclude(update_version="").count()
            self.stdout.write(
                f"{site} ({site.url}): WordPress {snapshot.core_version or '?'}, "
                f"PHP {snapshot.php_version or '?'}, {snapshot.items.count()} items, "
                f"{waiting} update(s) available, {snapshot.log_entries.count()} change(s) logged"
            )
        if failures:
            raise CommandError(f"{failures} site(s) could not be read")

    def _update(self, wanted: list[str], all_sites: bool, items: list[str]) -> None:
        if not wanted and not all_sites:
            raise CommandError("name sites with --site, or say --all-sites")
        refs = [self._ref(item) for item in items] or None
        failed = 0
        for site in self._sites([] if all_sites else wanted):
            try:
                run = actions.do_request_update_run(site, items=refs, reason="command")
            except ValidationError as error:
                raise CommandError(f"{site}: {' '.join(error.messages)}") from None
            failed += not self._drive(run)
        if failed:
            raise CommandError(f"{failed} run(s) did not succeed")

    def _retry(self, run_id: int) -> None:
        run = UpdateRun.objects.filter(pk=run_id).first()
        if run is None:
            raise CommandError(f"no update run #{run_id}")
        try:
            actions.do_retry_update_run(run)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if not self._drive(run):
            raise CommandError("the run did not succeed")

    def _drive(self, run: UpdateRun) -> bool:
        """Run it here, printing each step as it ends (a worker may race us: it then wins)."""
        claimed = updates.claim(run.pk)
        if claimed is None:
            self.stdout.write(f"{run}: taken by a worker; follow it in the admin.")
            return True
        updates.plan(claimed)
        shown = set(claimed.steps.exclude(attempt=claimed.attempt).values_list("pk", flat=True))
        while True:
            more = updates.advance(claimed)
            for step in claimed.steps.exclude(pk__in=shown).exclude(state="pending"):
                if step.state == "running":
                    continue
                shown.add(step.pk)
                versions = f" {step.from_version} → {step.to_version}" if step.to_version else ""
                self.stdout.write(f"  {step}{versions} — {step.detail}")
            if not more:
                break
        claimed.refresh_from_db()
        self.stdout.write(f"{claimed}: {claimed.get_state_display()}")
        return claimed.state == "succeeded"

    def _ref(self, text: str) -> ItemRef:
        kind, _, slug = text.partition(":")
        if kind not in ("core", "plugin", "theme") or not slug:
            raise CommandError(f"--item {text!r}: write KIND:SLUG, e.g. plugin:akismet")
        return ItemRef(kind, slug)

    def _log(self, wanted: str, limit: int) -> None:
        site = self._sites([wanted])[0]
        for entry in LogEntry.objects.filter(site=site)[:limit]:
            by = f"run #{entry.update_run_id}" if entry.update_run_id else (entry.user or "")
            self.stdout.write(
                f"{entry.at:%Y-%m-%d %H:%M}  {entry}  ({entry.get_source_display()}"
                f"{', ' + str(by) if by else ''})"
            )
