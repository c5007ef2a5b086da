"""WordPress maintenance: what is installed, what changed, update runs, scans, backups.

The maintenance log is the record the monthly report reads ("plugin X
updated from 1.0.0 to 1.1.0"): rows are only ever added, never changed or
deleted, whether they come from comparing two inventories, from an update
run or from a person logging work done elsewhere.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from caredesk.clients.models import Site
from caredesk.lib import clock


class ItemKind(models.TextChoices):
    CORE = "core", "WordPress core"
    PLUGIN = "plugin", "Plugin"
    THEME = "theme", "Theme"
    PHP = "php", "PHP"
    OTHER = "other", "Other"


class SiteMaintenance(models.Model):
    """Per-site maintenance settings and the state of its connection."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="maintenance")
    allow_private = models.BooleanField(
        "allow private addresses",
        default=False,
        help_text="Let caredesk reach this site on loopback or private addresses "
        "(a site on the agency's own network).",
    )
    health_path = models.CharField(
        max_length=300, default="/", help_text="The page checked after updates."
    )
    health_keyword = models.CharField(
        max_length=200,
        blank=True,
        help_text="Text that page must contain after an update (e.g. the site's name). "
        "Empty: HTTP 200 is enough.",
    )
    inventory_hours = models.PositiveIntegerField(
        "inventory every (hours)", default=24, help_text="0 turns scheduled inventories off."
    )
    next_inventory_at = models.DateTimeField(null=True, blank=True, db_index=True)
    inventory_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_inventory_at = models.DateTimeField(null=True, blank=True, editable=False)
    scan_days = models.PositiveIntegerField(
        "security scan every (days)", default=30, help_text="0 turns scheduled scans off."
    )
    next_scan_at = models.DateTimeField(null=True, blank=True, db_index=True)
    backup_days = models.PositiveIntegerField(
        "back up every (days)",
        default=30,
        help_text="Database and files, through the companion plugin. 0 turns scheduled "
        "backups off.",
    )
    next_backup_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_backup_at = models.DateTimeField(
        "last good backup",
        null=True,
        blank=True,
        editable=False,
        help_text="When the site made its last backup that was stored and verified.",
    )
    backup_keep_last = models.PositiveIntegerField(
        "keep the last", default=3, help_text="Backups kept whatever their age."
    )
    backup_keep_monthly = models.PositiveIntegerField(
        "and monthly ones for (months)",
        default=12,
        help_text="Besides those, the last backup of each month is kept this many months. "
        "With both at 0 nothing is ever removed.",
    )
    backup_before_updates = models.BooleanField(
        "full backup before updates",
        default=True,
        help_text="Update runs take a full backup first, unless one was made in the last 24 hours.",
    )
    # Auto-update rules: all off by default, a person turns each on per site.
    auto_minor_core = models.BooleanField(
        "minor WordPress releases at once",
        default=False,
        help_text="After an inventory offers a minor release of WordPress (6.4.2 → 6.4.3: "
        "the same x.y branch), update it at once.",
    )
    auto_security = models.BooleanField(
        "security releases at once",
        default=False,
        help_text="After an inventory, update at once every item with an open vulnerability "
        "finding whose fixed-in version WordPress now offers.",
    )
    auto_monthly = models.BooleanField(
        "everything else in the monthly window",
        default=False,
        help_text="Every other update, once a month, from the window's day and hour on.",
    )
    auto_window_day = models.PositiveSmallIntegerField(
        "window day of month",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="1 to 28, so every month has it.",
    )
    auto_window_hour = models.PositiveSmallIntegerField(
        "window hour",
        default=3,
        validators=[MaxValueValidator(23)],
        help_text="0 to 23, in caredesk's time zone (CAREDESK_TIME_ZONE).",
    )
    auto_window_done_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the last monthly window ran."
    )
    auto_checked_snapshot = models.ForeignKey(
        "Snapshot",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        help_text="The inventory the rules were last applied to.",
    )
    wp_cli = models.CharField(
        "WP-CLI command",
        max_length=300,
        default="wp",
        help_text="WP-CLI over SSH: the wp command on the server (a path if it is not on the "
        "PATH, e.g. /usr/local/bin/wp or php ~/wp-cli.phar).",
    )
    wp_path = models.CharField(
        "WordPress folder",
        max_length=500,
        blank=True,
        help_text="WP-CLI over SSH: the WordPress folder on the server (--path). Empty: the SSH "
        "user's home folder or its wp-cli.yml decides.",
    )
    ssh_host_key = models.TextField(
        "pinned SSH host key",
        blank=True,
        help_text="WP-CLI over SSH: the server's host key (OpenSSH format), recorded at the "
        "first connection; a server showing another key is refused. Clear it only when the "
        "host really changed its key.",
    )
    ssh_host_key_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=1000, blank=True, editable=False)
    last_error_kind = models.CharField(max_length=30, blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "site maintenance settings"
        verbose_name_plural = "site maintenance settings"

    def __str__(self) -> str:
        return f"Maintenance of {self.site}"


class Snapshot(models.Model):
    """One inventory of a site: core, PHP, plugins and themes at that moment."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(default=clock.now, db_index=True)
    connection = models.CharField(max_length=20)
    core_version = models.CharField(max_length=64, blank=True)
    php_version = models.CharField(max_length=64, blank=True)
    connector_version = models.CharField(max_length=64, blank=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    update_run = models.ForeignKey(
        "UpdateRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    health = models.JSONField(
        default=list,
        blank=True,
        help_text="WordPress's own site health tests, where the connection gives them: "
        '[{"test": …, "label": …, "status": "good" | "recommended" | "critical"}].',
    )

    class Meta:
        ordering = ["-taken_at", "-id"]
        get_latest_by = ["taken_at", "id"]

    def __str__(self) -> str:
        return f"{self.site} at {self.taken_at:%Y-%m-%d %H:%M}"


class SnapshotItem(models.Model):
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    slug = models.CharField(max_length=200)
    name = models.CharField(max_length=300)
    version = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=False)
    update_version = models.CharField("update available", max_length=64, blank=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "kind", "slug"], name="snapshot_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class Change(models.TextChoices):
    UPDATED = "updated", "Updated"
    DOWNGRADED = "downgraded", "Downgraded"
    INSTALLED = "installed", "Installed"
    REMOVED = "removed", "Removed"
    DONE = "done", "Work done"


class Source(models.TextChoices):
    INVENTORY = "inventory", "Inventory"
    UPDATE = "update", "Update run"
    MANUAL = "manual", "Logged by hand"


class AppendOnly(Exception):
    """A maintenance log row cannot be changed or deleted once written."""


class LogEntry(models.Model):
    """One line of a site's maintenance log: what changed, from → to, when, by what or whom."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="maintenance_log")
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    slug = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=300)
    change = models.CharField(max_length=12, choices=Change.choices)
    from_version = models.CharField(max_length=64, blank=True)
    to_version = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(db_index=True, help_text="When the change happened.")
    source = models.CharField(max_length=10, choices=Source.choices)
    snapshot = models.ForeignKey(
        Snapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="log_entries"
    )
    update_run = models.ForeignKey(
        "UpdateRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="log_entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "maintenance log entry"
        verbose_name_plural = "maintenance log"

    def __str__(self) -> str:
        if self.from_version or self.to_version:
            return f"{self.name}: {self.from_version or '–'} → {self.to_version or '–'}"
        return f"{self.name}: {self.get_change_display()}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnly("maintenance log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("maintenance log entries cannot be deleted")


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    ROLLED_BACK = "rolled_back", "Failed, rolled back"
    FAILED = "failed", "Failed"


class UpdateRun(models.Model):
    """Updates of chosen items (or of all with an update) on one site, step by step."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="update_runs")
    state = models.CharField(
        max_length=12, choices=RunState.choices, default=RunState.QUEUED, db_index=True
    )
    all_items = models.BooleanField(
        "everything with an update", default=False, help_text="Resolved when the run starts."
    )
    items = models.JSONField(default=list, blank=True, help_text='[{"kind": "plugin", "slug": …}]')
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Last sign of life of its worker."
    )
    attempt = models.PositiveIntegerField(default=0)
    backup_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Update run #{self.pk} on {self.site}"

    @property
    def is_finished(self) -> bool:
        return self.state in (RunState.SUCCEEDED, RunState.ROLLED_BACK, RunState.FAILED)


class StepAction(models.TextChoices):
    BACKUP = "backup", "Backup"
    FULL_BACKUP = "full_backup", "Full backup"
    UPDATE = "update", "Update"
    HEALTH = "health", "Health check"
    ROLLBACK = "rollback", "Roll back"
    INVENTORY = "inventory", "Inventory"


class StepState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class UpdateStep(models.Model):
    """One step of a run with its outcome; steps are added, never rewritten, across retries."""

    run = models.ForeignKey(UpdateRun, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    attempt = models.PositiveIntegerField(default=1)
    action = models.CharField(max_length=20, choices=StepAction.choices)
    item_kind = models.CharField(max_length=10, choices=ItemKind.choices, blank=True)
    item_slug = models.CharField(max_length=200, blank=True)
    item_name = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=10, choices=StepState.choices, default=StepState.PENDING)
    from_version = models.CharField(max_length=64, blank=True)
    to_version = models.CharField(max_length=64, blank=True)
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="update_step_position_once")
        ]

    def __str__(self) -> str:
        what = f" {self.item_name or self.item_slug}" if self.item_slug else ""
        return f"{self.get_action_display()}{what}: {self.get_state_display()}"


class Vulnerability(models.Model):
    """One record of an imported vulnerability feed (Wordfence Intelligence format)."""

    feed_id = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=500)
    cve = models.CharField("CVE", max_length=30, blank=True)
    cvss_score = models.DecimalField("CVSS", max_digits=3, decimal_places=1, null=True, blank=True)
    cvss_rating = models.CharField(max_length=20, blank=True)
    cvss_vector = models.CharField(max_length=200, blank=True)
    informational = models.BooleanField(default=False)
    references = models.JSONField(default=list, blank=True)
    published = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-published", "feed_id"]
        verbose_name_plural = "vulnerabilities"

    def __str__(self) -> str:
        return self.title


class AffectedSoftware(models.Model):
    """A plugin, theme or core release line a vulnerability affects, with its version ranges."""

    vulnerability = models.ForeignKey(
        Vulnerability, on_delete=models.CASCADE, related_name="software"
    )
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    slug = models.CharField(max_length=200, db_index=True)
    name = models.CharField(max_length=300, blank=True)
    # [{"from": "*", "from_inclusive": true, "to": "1.2.3", "to_inclusive": true}, ...]
    ranges = models.JSONField(default=list)
    patched_versions = models.JSONField(default=list, blank=True)
    remediation = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "affected software"

    def __str__(self) -> str:
        return f"{self.kind} {self.slug}"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


SEVERITY_ORDER = ["info", "low", "medium", "high", "critical"]


class ScanRun(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="scans")
    started_at = models.DateTimeField(default=clock.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    snapshot = models.ForeignKey(
        Snapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checks_done = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True, help_text="Checks that could not be made, and why.")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Scan of {self.site} at {self.started_at:%Y-%m-%d %H:%M}"


class Finding(models.Model):
    """Something a scan found, with how bad it is and what to do about it."""

    scan = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="findings")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="findings")
    key = models.CharField(max_length=300, help_text="The same problem has the same key.")
    category = models.CharField(max_length=20)
    severity = models.CharField(max_length=10, choices=Severity.choices, db_index=True)
    title = models.CharField(max_length=500)
    detail = models.TextField(blank=True)
    advice = models.TextField(blank=True)
    item_kind = models.CharField(max_length=10, blank=True)
    item_slug = models.CharField(max_length=200, blank=True)
    installed_version = models.CharField(max_length=64, blank=True)
    fixed_in = models.CharField(max_length=64, blank=True)
    cvss_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    vulnerability = models.ForeignKey(
        Vulnerability, null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )

    class Meta:
        ordering = ["scan", "-cvss_score", "title"]

    def __str__(self) -> str:
        return f"[{self.get_severity_display()}] {self.title}"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


ACTIVE_STATES = [JobState.QUEUED, JobState.RUNNING]


class Part(models.TextChoices):
    DATABASE = "database", "Database"
    FILES = "files", "Files"


PART_FILES = {Part.DATABASE: "database.sql", Part.FILES: "files.tar"}


def all_parts() -> list[str]:
    return [Part.DATABASE.value, Part.FILES.value]


def new_job_key() -> str:
    """Names a backup or restore on the site and in the repository; never reused."""
    return secrets.token_hex(12)


class StepRun(models.Model):
    """What backups and restores share: a state, claimed by one worker, step by step."""

    key = models.CharField(max_length=32, unique=True, default=new_job_key, editable=False)
    state = models.CharField(
        max_length=10, choices=JobState.choices, default=JobState.QUEUED, db_index=True
    )
    parts = models.JSONField(default=all_parts)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Last sign of life of its worker."
    )
    attempt = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)


class BackupTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "By hand"
    UPDATE_RUN = "update_run", "Before updates"
    RESTORE = "restore", "Before a restore"


class Backup(StepRun):
    """A full backup of a site (database and files) stored in the restic repository."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="backups")
    trigger = models.CharField(max_length=12, choices=BackupTrigger.choices)
    update_run = models.ForeignKey(
        UpdateRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="full_backups"
    )
    taken_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the site finished making it."
    )
    database_size = models.BigIntegerField(null=True, blank=True)
    database_sha256 = models.CharField("database SHA-256", max_length=64, blank=True)
    database_tables = models.JSONField(
        default=dict, blank=True, help_text="Rows per table, as the site counted them."
    )
    files_size = models.BigIntegerField(null=True, blank=True)
    files_sha256 = models.CharField("files SHA-256", max_length=64, blank=True)
    files_count = models.PositiveIntegerField(null=True, blank=True)
    files_skipped = models.PositiveIntegerField(
        default=0, help_text="Files the site could not read (listed in the archive)."
    )
    snapshot_id = models.CharField("restic snapshot", max_length=64, blank=True, db_index=True)
    snapshot_path = models.CharField(max_length=500, blank=True)
    stored_at = models.DateTimeField(null=True, blank=True)
    stored_new_bytes = models.BigIntegerField(
        null=True, blank=True, help_text="What the repository had to add (the rest it had)."
    )
    verify_round = models.PositiveIntegerField(default=1, editable=False)
    verified = models.BooleanField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verification = models.TextField(blank=True)
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="When retention removed it from the repository."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site"],
                condition=models.Q(state__in=ACTIVE_STATES),
                name="one_active_backup_per_site",
            )
        ]

    def __str__(self) -> str:
        return f"Backup #{self.pk} of {self.site}"

    @property
    def size(self) -> int:
        return (self.database_size or 0) + (self.files_size or 0)

    @property
    def restorable(self) -> bool:
        return bool(self.snapshot_id) and self.removed_at is None


class BackupRestore(StepRun):
    """A backup put back on its site, or on a staging copy of it."""

    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="restores")
    target = models.ForeignKey(
        Site,
        on_delete=models.CASCADE,
        related_name="restores_received",
        help_text="The backup's own site, or a staging copy of it (a site of the same client "
        "with the companion plugin).",
    )
    ticket_number = models.PositiveIntegerField(
        null=True,
        blank=True,
        db_index=True,
        help_text="The backup restoration ticket this answers; its SLA target applies there.",
    )
    safety_backup = models.BooleanField(
        "back up the target first",
        default=True,
        help_text="Take a full backup of the target before overwriting it.",
    )
    safety = models.ForeignKey(
        Backup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "backup restore"
        constraints = [
            models.UniqueConstraint(
                fields=["target"],
                condition=models.Q(state__in=ACTIVE_STATES),
                name="one_active_restore_per_site",
            )
        ]

    def __str__(self) -> str:
        return f"Restore #{self.pk} of backup #{self.backup_id} to {self.target}"

    @property
    def to_staging(self) -> bool:
        return self.target_id != self.backup.site_id


class JobStep(models.Model):
    """One step of a backup or restore with its outcome and progress; kept across retries."""

    position = models.PositiveIntegerField()
    attempt = models.PositiveIntegerField(default=1)
    action = models.CharField(max_length=20)
    state = models.CharField(max_length=10, choices=StepState.choices, default=StepState.PENDING)
    detail = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def progress(self) -> str:
        if self.state != StepState.RUNNING or not self.total:
            return ""
        return f"{min(100, round(100 * self.done / self.total))} %"


class BackupAction(models.TextChoices):
    PREPARE = "prepare", "Site makes the backup"
    DOWNLOAD_DATABASE = "download_database", "Download the database"
    DOWNLOAD_FILES = "download_files", "Download the files"
    STORE = "store", "Store in the repository"
    CLEAN_SITE = "clean_site", "Remove the site's copy"
    CHECK = "check", "Read back and compare"
    TEST_RESTORE = "test_restore", "Test restore of the database"
    RETENTION = "retention", "Retention"


class BackupStep(JobStep):
    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(max_length=20, choices=BackupAction.choices)

    class Meta:
        ordering = ["backup", "position"]
        constraints = [
            models.UniqueConstraint(fields=["backup", "position"], name="backup_step_position_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.get_state_display()}"


class RestoreAction(models.TextChoices):
    SAFETY_BACKUP = "safety_backup", "Back up the target first"
    UPLOAD_DATABASE = "upload_database", "Upload the database"
    UPLOAD_FILES = "upload_files", "Upload the files"
    APPLY = "apply", "Restore on the site"
    HEALTH = "health", "Health check"
    CLEAN_SITE = "clean_site", "Remove the uploads from the site"
    INVENTORY = "inventory", "Inventory"


class RestoreStep(JobStep):
    restore = models.ForeignKey(BackupRestore, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField(max_length=20, choices=RestoreAction.choices)

    class Meta:
        ordering = ["restore", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["restore", "position"], name="restore_step_position_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.get_state_display()}"


class TicketLink(models.Model):
    """A ticket opened about a maintenance matter of a site (a finding, a failed run…).

    The maintenance app cannot open tickets (layers); the receivers above it do,
    and record here which ticket answers which matter, so the same matter adds a
    note to its open ticket instead of opening another. ``topic`` names the matter:
    ``finding:<finding key>``, ``update-run:<id>``, ``backup-failed``.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="ticket_links")
    topic = models.CharField(max_length=320)
    ticket_number = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "topic"], name="ticket_link_topic")]

    def __str__(self) -> str:
        return f"#{self.ticket_number}: {self.topic}"


class MaintainedSite(Site):
    """Sites as the maintenance admin lists them (inventory, updates, scans)."""

    class Meta:
        proxy = True
        verbose_name = "WordPress site"
        verbose_name_plural = "WordPress sites"
