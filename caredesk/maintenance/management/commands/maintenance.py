from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from caredesk.clients.models import Connection, Platform, Site
from caredesk.maintenance import actions, backups, connectors, jobs, restic, restores, updates
from caredesk.maintenance.backups import human
from caredesk.maintenance.connectors import ItemRef
from caredesk.maintenance.models import Backup, BackupRestore, JobState, LogEntry, UpdateRun


class Command(BaseCommand):
    help = (
        "WordPress maintenance: inventories, updates, the maintenance log, security scans, "
        "the vulnerability feed, auto-update rules, backups, restores."
    )

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
        backup = commands.add_parser(
            "backup",
            help="Full backups now (database and files): stored, verified, pruned.",
        )
        backup.add_argument("--site", action="append", default=[], help="ID or URL; repeatable")
        backup.add_argument(
            "--due", action="store_true", help="Only the sites whose scheduled backup is due."
        )
        backup.add_argument("--retry", type=int, metavar="BACKUP_ID", help="Retry a failed backup.")
        backup.add_argument(
            "--verify", type=int, metavar="BACKUP_ID", help="Verify a backup again."
        )
        backup.add_argument("--only", choices=["database", "files"], help="One part only.")
        listing = commands.add_parser("backups", help="List a site's backups.")
        listing.add_argument("--site", required=True, help="ID or URL")
        listing.add_argument("--limit", type=int, default=20)
        restore = commands.add_parser(
            "restore",
            help="Put a backup back on its site (backed up first), or on a staging copy.",
        )
        restore.add_argument("backup", type=int, nargs="?", metavar="BACKUP_ID")
        restore.add_argument(
            "--to-staging", metavar="SITE", help="A staging copy's ID or URL (a site in caredesk)."
        )
        restore.add_argument("--only", choices=["database", "files"], help="One part only.")
        restore.add_argument("--ticket", type=int, help="The backup restoration ticket's number.")
        restore.add_argument(
            "--no-safety-backup",
            action="store_true",
            help="Do not back up the target before overwriting it.",
        )
        restore.add_argument("--retry", type=int, metavar="RESTORE_ID", help="Retry a restore.")
        scan = commands.add_parser(
            "scan",
            help="Security scans now: installed versions against the feed, checks from outside.",
        )
        scan.add_argument("--site", action="append", default=[], help="ID or URL; repeatable")
        scan.add_argument(
            "--due", action="store_true", help="Only the sites whose scheduled scan is due."
        )
        feed = commands.add_parser(
            "import-feed",
            help="Import a vulnerability feed file (Wordfence Intelligence format).",
        )
        feed.add_argument("file", help="The feed: one JSON object of records keyed by id.")
        auto = commands.add_parser(
            "auto-updates",
            help="Apply the sites' auto-update rules now (what the schedule does).",
        )
        auto.add_argument("--site", action="append", default=[], help="ID or URL; repeatable")
        check = commands.add_parser(
            "check-repository", help="restic's check of the backup repository."
        )
        check.add_argument(
            "--read-data-subset", default="", help="Also read this much data, e.g. 5%%."
        )

    def handle(self, *args, action: str, **options):
        if action == "inventory":
            self._inventory(options["site"], options["due"])
        elif action == "update":
            self._update(options["site"], options["all_sites"], options["item"])
        elif action == "retry":
            self._retry(options["run"])
        elif action == "log":
            self._log(options["site"], options["limit"])
        elif action == "backup":
            self._backup(options)
        elif action == "backups":
            self._backups(options["site"], options["limit"])
        elif action == "restore":
            self._restore(options)
        elif action == "check-repository":
            self._check_repository(options["read_data_subset"])
        elif action == "scan":
            self._scan(options["site"], options["due"])
        elif action == "import-feed":
            self._import_feed(options["file"])
        elif action == "auto-updates":
            self._auto_updates(options["site"])

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

    # ---- backups and restores -------------------------------------------------------

    def _say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _backup(self, options) -> None:
        if options["retry"] or options["verify"]:
            backup = Backup.objects.filter(pk=options["retry"] or options["verify"]).first()
            if backup is None:
                raise CommandError(f"no backup #{options['retry'] or options['verify']}")
            try:
                if options["retry"]:
                    actions.do_retry_backup(backup, queue=False)
                else:
                    actions.do_request_verification(backup, queue=False)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            if not self._drive_backup(backup):
                raise CommandError(f"{backup} did not succeed")
            return
        if options["due"]:
            done = jobs.take_due_backups()
            self._say(f"{done} due site(s) backed up (see each backup's outcome in the admin).")
            return
        if not options["site"]:
            raise CommandError("name sites with --site, or say --due")
        parts = [options["only"]] if options["only"] else None
        failed = 0
        for site in self._sites(options["site"]):
            try:
                backup = actions.do_request_backup(site, parts=parts, queue=False)
            except ValidationError as error:
                raise CommandError(f"{site}: {' '.join(error.messages)}") from None
            failed += not self._drive_backup(backup)
        if failed:
            raise CommandError(f"{failed} backup(s) did not succeed")

    def _drive_backup(self, backup: Backup) -> bool:
        self._say(f"{backup}:")
        done = backups.execute(backup.pk, report=self._say)
        if done is None:
            self._say(f"{backup}: taken by a worker; follow it in the admin.")
            return True
        verified = {True: "verified", False: "NOT verified", None: "not verified"}[done.verified]
        self._say(
            f"{done}: {done.get_state_display()}"
            + (f", snapshot {done.snapshot_id[:8]}, {verified}" if done.snapshot_id else "")
        )
        return done.state == JobState.SUCCEEDED

    def _backups(self, wanted: str, limit: int) -> None:
        site = self._sites([wanted])[0]
        for b in Backup.objects.filter(site=site)[:limit]:
            when = f"{b.taken_at:%Y-%m-%d %H:%M}" if b.taken_at else "not taken"
            verified = {True: "verified", False: "verification failed", None: "unverified"}
            kept = "" if b.restorable or not b.snapshot_id else ", removed by retention"
            self._say(
                f"#{b.pk}  {when}  {b.get_trigger_display()}  {b.get_state_display()}  "
                f"{human(b.size)}  {verified[b.verified]}{kept}"
            )

    def _restore(self, options) -> None:
        if options["retry"]:
            restore = BackupRestore.objects.filter(pk=options["retry"]).first()
            if restore is None:
                raise CommandError(f"no restore #{options['retry']}")
            try:
                actions.do_retry_restore(restore, queue=False)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
        else:
            if options["backup"] is None:
                raise CommandError("name the backup to restore (see: maintenance backups --site)")
            backup = Backup.objects.filter(pk=options["backup"]).select_related("site").first()
            if backup is None:
                raise CommandError(f"no backup #{options['backup']}")
            target = backup.site
            if options["to_staging"]:
                target = self._sites([options["to_staging"]])[0]
                if target.pk == backup.site_id:
                    raise CommandError("--to-staging names the backup's own site")
            try:
                restore = actions.do_request_restore(
                    backup,
                    acting_user=None,
                    target=target,
                    parts=[options["only"]] if options["only"] else None,
                    ticket_number=options["ticket"],
                    safety_backup=not options["no_safety_backup"],
                    queue=False,
                )
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
        self._say(f"{restore}:")
        done = restores.execute(restore.pk, report=self._say)
        if done is None:
            self._say(f"{restore}: taken by a worker; follow it in the admin.")
            return
        self._say(f"{done}: {done.get_state_display()}")
        if done.state != JobState.SUCCEEDED:
            raise CommandError(f"the restore did not succeed: {done.error}")

    def _check_repository(self, subset: str) -> None:
        repo = restic.Repository.from_settings()
        try:
            repo.ensure()
            output = repo.check(subset or None)
        except restic.ResticError as error:
            raise CommandError(str(error)) from None
        self._say(output.strip() or "no errors were found")

    # ---- security scans -------------------------------------------------------------

    def _scan(self, wanted: list[str], due: bool) -> None:
        from caredesk.maintenance.scan.run import scan_site

        if due:
            done = jobs.run_due_scans(report=self._say)
            self._say(f"{done} due site(s) scanned.")
            return
        if not wanted:
            raise CommandError("name sites with --site, or say --due")
        for site in self._sites(wanted):
            self._say(f"{site} ({site.url}):")
            scan = scan_site(site, report=self._say)
            self._say(f"  {scan_summary(scan)}")
            for finding in scan.findings.order_by("-cvss_score", "title"):
                if finding.severity in ("high", "critical"):
                    fixed = f", fixed in {finding.fixed_in}" if finding.fixed_in else ""
                    cvss = f", CVSS {finding.cvss_score}" if finding.cvss_score is not None else ""
                    self._say(f"  [{finding.get_severity_display()}] {finding.title}{cvss}{fixed}")
            for note in filter(None, scan.notes.splitlines()):
                self._say(f"  note: {note}")

    def _import_feed(self, path: str) -> None:
        from caredesk.maintenance.scan import feed

        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror or error}") from None
        self._say(f"Reading {path} ({human(len(data))})…")
        try:
            report = feed.import_feed(
                data, progress=lambda done, total: self._say(f"  stored {done:,} of {total:,}")
            )
        except feed.FeedError as error:
            raise CommandError(str(error)) from None
        self._say(report.summary() + ".")
        for line in report.skipped[:20]:
            self._say(f"  skipped {line}")
        if len(report.skipped) > 20:
            self._say(f"  … and {len(report.skipped) - 20} more")

    # ---- auto-update rules ----------------------------------------------------------

    def _auto_updates(self, wanted: list[str]) -> None:
        from caredesk.maintenance import autoupdates

        sites = self._sites(wanted) if wanted else None
        requested = autoupdates.apply_rules(sites=sites, report=self._say)
        self._say(f"{len(requested)} update run(s) requested.")


def scan_summary(scan) -> str:
    """``3 findings: 1 critical, 2 low`` or ``no findings``."""
    from caredesk.maintenance.models import SEVERITY_ORDER

    levels = list(scan.findings.values_list("severity", flat=True))
    if not levels:
        return "no findings"
    counts = [
        f"{levels.count(level)} {level}" for level in reversed(SEVERITY_ORDER) if level in levels
    ]
    return f"{len(levels)} finding{'s' if len(levels) != 1 else ''}: {', '.join(counts)}"
