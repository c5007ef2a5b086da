"""Sites, inventories, the maintenance log and update runs: lists, filters, the buttons that act."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from caredesk.clients.models import Connection
from caredesk.lib import clock

from .. import actions, connectors
from ..backups import human
from ..models import (
    Backup,
    LogEntry,
    MaintainedSite,
    SiteMaintenance,
    Snapshot,
    SnapshotItem,
    UpdateRun,
    UpdateStep,
)
from .common import ReadOnlyInline

MAX_AT_ONCE = 10  # inventories run inside the request; the schedule does the rest


class SettingsInline(admin.StackedInline):
    model = SiteMaintenance
    can_delete = False
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "allow_private",
                    "health_path",
                    "health_keyword",
                    "inventory_hours",
                    "last_inventory_at",
                    "next_inventory_at",
                    "last_error",
                    "last_error_at",
                    "scan_days",
                    "next_scan_at",
                )
            },
        ),
        (
            "Backups",
            {
                "fields": (
                    "backup_days",
                    "backup_keep_last",
                    "backup_keep_monthly",
                    "backup_before_updates",
                    "last_backup_at",
                    "next_backup_at",
                )
            },
        ),
        (
            "Auto-update rules",
            {
                "description": "Applied after each inventory; all off by default. Every run "
                "backs up, checks the site's health and rolls back on failure, like one "
                "started by hand.",
                "fields": (
                    "auto_minor_core",
                    "auto_security",
                    "auto_monthly",
                    "auto_window_day",
                    "auto_window_hour",
                    "auto_window_done_at",
                ),
            },
        ),
        (
            "WP-CLI over SSH",
            {
                "classes": ("collapse",),
                "fields": ("wp_cli", "wp_path", "ssh_host_key", "ssh_host_key_seen_at"),
            },
        ),
    )
    readonly_fields = (
        "last_inventory_at",
        "next_inventory_at",
        "last_error",
        "last_error_at",
        "next_scan_at",
        "last_backup_at",
        "next_backup_at",
        "auto_window_done_at",
        "ssh_host_key_seen_at",
    )


class LatestItemsInline(ReadOnlyInline):
    model = Snapshot
    fields = ("taken_at", "core_version", "php_version", "connection", "taken_by", "update_run")
    readonly_fields = fields
    show_change_link = True
    max_num = 5
    verbose_name_plural = "Latest inventories"


class LatestBackupsInline(ReadOnlyInline):
    model = Backup
    fk_name = "site"
    fields = ("created_at", "trigger", "state", "taken_at", "size_text", "verified", "removed_at")
    readonly_fields = fields
    show_change_link = True
    max_num = 5
    verbose_name_plural = "Latest backups"

    @admin.display(description="Size")
    def size_text(self, obj) -> str:
        return human(obj.size) if obj.taken_at else "–"


@admin.register(MaintainedSite)
class MaintainedSiteAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organisation",
        "connection",
        "core",
        "updates_available",
        "last_inventory",
        "last_backup",
        "problem",
    )
    list_filter = ("connection", "organisation", "maintenance__allow_private")
    search_fields = ("name", "url", "organisation__name")
    fields = ("organisation", "name", "url", "connection")
    readonly_fields = fields
    inlines = [SettingsInline, LatestItemsInline, LatestBackupsInline]
    actions = ("take_inventory_now", "run_updates", "back_up_now", "scan_now")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(platform="wordpress")
            .select_related("organisation", "maintenance")
        )

    def has_add_permission(self, request) -> bool:
        return False  # sites are added under Clients

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _latest(self, obj):
        if not hasattr(obj, "_latest_snapshot"):
            obj._latest_snapshot = Snapshot.objects.filter(site=obj).first()
        return obj._latest_snapshot

    @admin.display(description="WordPress")
    def core(self, obj) -> str:
        latest = self._latest(obj)
        return latest.core_version if latest and latest.core_version else "–"

    @admin.display(description="Updates")
    def updates_available(self, obj) -> str:
        latest = self._latest(obj)
        if latest is None:
            return "–"
        return str(latest.items.exclude(update_version="").count())

    @admin.display(description="Last inventory")
    def last_inventory(self, obj):
        settings = getattr(obj, "maintenance", None)
        return settings.last_inventory_at if settings else None

    @admin.display(description="Last good backup")
    def last_backup(self, obj):
        settings = getattr(obj, "maintenance", None)
        return settings.last_backup_at if settings else None

    @admin.display(description="Problem")
    def problem(self, obj) -> str:
        settings = getattr(obj, "maintenance", None)
        if settings is None or not settings.last_error:
            return ""
        return format_html('<span title="{}">⚠ {}</span>', settings.last_error, settings.last_error)

    @admin.action(description="Take inventory now")
    def take_inventory_now(self, request, queryset) -> None:
        sites = list(queryset.exclude(connection=Connection.NONE)[: MAX_AT_ONCE + 1])
        if len(sites) > MAX_AT_ONCE:
            self.message_user(
                request, f"Choose at most {MAX_AT_ONCE} sites at once.", messages.ERROR
            )
            return
        for site in sites:
            try:
                snapshot = actions.take_inventory(site, acting_user=request.user)
            except connectors.ConnectorError as error:
                self.message_user(request, f"{site}: {error}", messages.ERROR)
                continue
            changes = snapshot.log_entries.count()
            self.message_user(request, f"{site}: inventory taken, {changes} change(s) logged.")
        skipped = queryset.filter(connection=Connection.NONE).count()
        if skipped:
            self.message_user(request, f"{skipped} site(s) are not connected.", messages.WARNING)

    @admin.action(description="Run updates (everything with an update available)")
    def run_updates(self, request, queryset) -> None:
        for site in queryset:
            try:
                run = actions.do_request_update_run(
                    site, acting_user=request.user, reason="admin: all available"
                )
            except ValidationError as error:
                self.message_user(request, f"{site}: {' '.join(error.messages)}", messages.ERROR)
                continue
            self.message_user(request, f"{site}: update run #{run.pk} queued.")

    @admin.action(description="Scan now (security scan)")
    def scan_now(self, request, queryset) -> None:
        for site in queryset:
            actions.do_request_scan(site, acting_user=request.user)
            self.message_user(request, f"{site}: security scan queued (its findings: Scans).")

    @admin.action(description="Back up now (database and files)")
    def back_up_now(self, request, queryset) -> None:
        for site in queryset:
            try:
                backup = actions.do_request_backup(site, acting_user=request.user)
            except ValidationError as error:
                self.message_user(request, f"{site}: {' '.join(error.messages)}", messages.ERROR)
                continue
            self.message_user(request, f"{site}: backup #{backup.pk} queued.")


class SnapshotItemInline(ReadOnlyInline):
    model = SnapshotItem
    fields = ("kind", "name", "slug", "version", "update_version", "active")
    readonly_fields = fields


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ("site", "taken_at", "core_version", "php_version", "connection", "taken_by")
    list_filter = ("connection", "site__organisation")
    search_fields = ("site__name", "site__url")
    date_hierarchy = "taken_at"
    inlines = [SnapshotItemInline]
    readonly_fields = (
        "site",
        "taken_at",
        "connection",
        "core_version",
        "php_version",
        "connector_version",
        "taken_by",
        "update_run",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class LogWorkForm(forms.ModelForm):
    class Meta:
        model = LogEntry
        fields = ("site", "kind", "slug", "name", "from_version", "to_version", "at", "note")
        help_texts = {"at": "When the work was done."}


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):
    """The maintenance log: anyone may add a line of work done elsewhere; no one may edit one."""

    form = LogWorkForm
    list_display = ("at", "site", "kind", "name", "versions", "change", "source", "who")
    list_filter = ("source", "change", "kind", "site__organisation")
    search_fields = ("name", "slug", "site__name", "note")
    date_hierarchy = "at"
    autocomplete_fields = ("site",)
    list_select_related = ("site", "user", "update_run")

    @admin.display(description="From → to")
    def versions(self, obj) -> str:
        if not (obj.from_version or obj.to_version):
            return ""
        return f"{obj.from_version or '–'} → {obj.to_version or '–'}"

    @admin.display(description="By")
    def who(self, obj) -> str:
        if obj.update_run_id:
            return f"update run #{obj.update_run_id}"
        return str(obj.user) if obj.user else "inventory"

    def get_changeform_initial_data(self, request):
        return {"at": clock.now(), **super().get_changeform_initial_data(request)}

    def has_change_permission(self, request, obj=None) -> bool:
        # The add form only; a written line stays as it is.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        saved = actions.do_log_work(
            data["site"],
            acting_user=request.user,
            kind=data["kind"],
            slug=data["slug"],
            name=data["name"],
            from_version=data["from_version"],
            to_version=data["to_version"],
            at=data["at"],
            note=data["note"],
        )
        obj.pk = saved.pk
        obj._state.adding = False


class StepInline(ReadOnlyInline):
    model = UpdateStep
    fields = (
        "position",
        "attempt",
        "action",
        "item_name",
        "state",
        "from_version",
        "to_version",
        "detail",
        "finished_at",
    )
    readonly_fields = fields


@admin.register(UpdateRun)
class UpdateRunAdmin(admin.ModelAdmin):
    list_display = ("__str__", "site", "state", "created_at", "finished_at", "requested_by")
    list_filter = ("state", "site__organisation")
    search_fields = ("site__name", "error")
    inlines = [StepInline]
    actions = ("retry",)
    readonly_fields = (
        "site",
        "state",
        "all_items",
        "items",
        "requested_by",
        "reason",
        "created_at",
        "started_at",
        "finished_at",
        "attempt",
        "heartbeat_at",
        "backup_id",
        "error",
    )

    def has_add_permission(self, request) -> bool:
        return False  # runs start from the sites list or the command

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Retry (finished steps are not redone)")
    def retry(self, request, queryset) -> None:
        for run in queryset:
            try:
                actions.do_retry_update_run(run, acting_user=request.user)
            except ValidationError as error:
                self.message_user(request, f"{run}: {' '.join(error.messages)}", messages.ERROR)
                continue
            self.message_user(request, f"{run}: queued again.")
