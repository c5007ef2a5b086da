from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from caredesk.lib import clock

from .models import (
    WEEKDAYS,
    CheckResult,
    HourlyRollup,
    Incident,
    MaintenanceWindow,
    Monitor,
    Outage,
    Probe,
    ProbeToken,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the probe writes: people look, they do not edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RoughCountPaginator(Paginator):
    # COUNT(*) over tens of millions of results would make the list crawl;
    # a page of recent rows is what anyone wants from it.
    @cached_property
    def count(self) -> int:
        return 10_000


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin):
    list_display = ("__str__", "site", "kind", "target", "interval_seconds", "state", "enabled")
    list_filter = ("state", "kind", "enabled", "allow_private")
    search_fields = ("name", "url", "host", "site__name", "site__organisation__name")
    autocomplete_fields = ("site", "depends_on")
    list_select_related = ("site",)
    actions = ("enable", "disable")
    readonly_fields = (
        "state",
        "state_since",
        "failure_cause",
        "failing_regions",
        "last_checked_at",
        "next_check_at",
        "is_default",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("site", "name", "kind", "enabled", "depends_on")}),
        ("Target", {"fields": ("url", "host", "port", "allow_private")}),
        (
            "HTTP",
            {
                "fields": (
                    "method",
                    "expected_status",
                    "keyword",
                    "keyword_absent",
                    "max_response_ms",
                    "follow_redirects",
                )
            },
        ),
        ("TLS", {"fields": ("tls_min_days",)}),
        (
            "Schedule and confirmation",
            {
                "fields": (
                    "interval_seconds",
                    "timeout_seconds",
                    "failures_to_down",
                    "recoveries_to_up",
                    "quorum",
                )
            },
        ),
        ("Health", {"fields": readonly_fields}),
    )

    @admin.action(description="Enable the selected monitors")
    def enable(self, request, queryset) -> None:
        for monitor in queryset.filter(enabled=False):
            monitor.enabled = True
            monitor.save(update_fields=["enabled"])

    @admin.action(description="Disable the selected monitors")
    def disable(self, request, queryset) -> None:
        for monitor in queryset.filter(enabled=True):
            monitor.enabled = False
            monitor.save(update_fields=["enabled"])


@admin.register(CheckResult)
class CheckResultAdmin(ReadOnlyAdmin):
    list_display = (
        "checked_at",
        "monitor",
        "region",
        "ok",
        "status_code",
        "error_kind",
        "total_ms",
        "cert_days",
    )
    list_filter = ("ok", "error_kind", "region")
    list_select_related = ("monitor__site",)
    raw_id_fields = ("monitor",)
    show_full_result_count = False
    paginator = RoughCountPaginator
    ordering = ("-id",)


class OutageInline(admin.TabularInline):
    model = Outage
    extra = 0
    fields = ("started_at", "ended_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ("monitor", "started_at", "confirmed_at", "resolved_at", "cause", "reopened")
    list_filter = ("resolved_at",)
    search_fields = ("monitor__site__name", "cause")
    list_select_related = ("monitor__site",)
    date_hierarchy = "started_at"
    inlines = [OutageInline]


@admin.register(HourlyRollup)
class HourlyRollupAdmin(ReadOnlyAdmin):
    list_display = (
        "hour",
        "monitor",
        "checks",
        "failures",
        "up_seconds",
        "down_seconds",
        "p50_ms",
        "p95_ms",
    )
    list_select_related = ("monitor__site",)
    raw_id_fields = ("monitor",)
    show_full_result_count = False


@admin.register(Probe)
class ProbeAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "region",
        "alive",
        "remote",
        "version",
        "started_at",
        "last_seen_at",
        "stopped_at",
    )
    list_filter = ("region", "remote")

    @admin.display(boolean=True, description="counts toward quorums")
    def alive(self, obj: Probe) -> bool:
        return obj.is_alive()


class ProbeTokenForm(forms.ModelForm):
    class Meta:
        model = ProbeToken
        fields = ("name", "region")


def _is_agency_admin(request) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


@admin.register(ProbeToken)
class ProbeTokenAdmin(admin.ModelAdmin):
    """Keys for remote probes: agency admins only (a token can report any site down)."""

    list_display = ("region", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("region", "revoked_at")
    search_fields = ("name", "region", "prefix")
    actions = ["revoke"]

    def has_module_permission(self, request) -> bool:
        return _is_agency_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_agency_admin(request)

    def has_add_permission(self, request) -> bool:
        return _is_agency_admin(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return _is_agency_admin(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return _is_agency_admin(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ProbeTokenForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("name", "region", "prefix", "created_at", "last_used_at")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, secret = ProbeToken.issue(form.cleaned_data["name"], form.cleaned_data["region"])
        obj.pk = token.pk
        messages.warning(
            request,
            f"Probe token for {token.region} created. Copy it now, it will not be shown "
            f"again: {secret}",
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at=None).update(revoked_at=clock.now())
        messages.success(request, f"{count} token(s) revoked.")


class MaintenanceWindowForm(forms.ModelForm):
    weekdays = forms.MultipleChoiceField(
        choices=[(code, code.title()) for code in WEEKDAYS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Weekly windows: the days it starts on.",
    )

    class Meta:
        model = MaintenanceWindow
        fields = [
            "site",
            "monitor",
            "reason",
            "recurrence",
            "day",
            "weekdays",
            "start_time",
            "duration_minutes",
            "enabled",
        ]
        help_texts = {
            "start_time": "Local time in the client's time zone (its SLA calendar's), e.g. 02:00.",
        }


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    form = MaintenanceWindowForm
    list_display = ("site", "monitor", "reason", "when", "duration_minutes", "enabled")
    list_filter = ("recurrence", "enabled")
    search_fields = ("site__name", "site__organisation__name", "reason")
    autocomplete_fields = ("site", "monitor")
    list_select_related = ("site", "monitor__site")

    @admin.display(description="When")
    def when(self, obj: MaintenanceWindow) -> str:
        start = obj.start_time.strftime("%H:%M")
        if obj.recurrence == "weekly":
            return f"every {', '.join(d.title() for d in obj.weekdays)} at {start}"
        return f"{obj.day:%a %d %b %Y} at {start}" if obj.day else start
