from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from caredesk.lib import clock

from .models import (
    WEEKDAYS,
    CheckResult,
    DailyRollup,
    HourlyRollup,
    Incident,
    Kind,
    MaintenanceWindow,
    Monitor,
    MonitorWarning,
    Outage,
    Probe,
    ProbeToken,
    StatusPage,
    new_ping_token,
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


class MonitorForm(forms.ModelForm):
    auth_password = forms.CharField(
        label="Basic auth password",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again: leave empty to keep the stored one. "
        "To stop sending basic auth, empty the user name.",
    )

    class Meta:
        model = Monitor
        fields = [
            "site",
            "name",
            "kind",
            "enabled",
            "depends_on",
            "key",
            "url",
            "host",
            "port",
            "allow_private",
            "method",
            "expected_status",
            "keyword",
            "keyword_absent",
            "max_response_ms",
            "follow_redirects",
            "body",
            "request_headers",
            "auth_user",
            "auth_password",
            "tls_min_days",
            "record_type",
            "expected_values",
            "nameserver",
            "grace_seconds",
            "interval_seconds",
            "timeout_seconds",
            "failures_to_down",
            "recoveries_to_up",
            "quorum",
        ]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 3}),
            "request_headers": forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
            "expected_values": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("auth_user"):
            data["auth_password"] = ""
        elif not data.get("auth_password") and self.instance.pk:
            data["auth_password"] = self.instance.auth_password
        self.instance.auth_password = data.get("auth_password", "")
        return data


class OpenWarningFilter(admin.SimpleListFilter):
    title = "warning"
    parameter_name = "warning"

    def lookups(self, request, model_admin):
        return [("open", "Has an open warning")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            with_open = queryset.filter(warnings__isnull=False, warnings__cleared_at__isnull=True)
            return with_open.distinct()
        return queryset


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin):
    form = MonitorForm
    list_display = (
        "__str__",
        "site",
        "kind",
        "target",
        "interval_seconds",
        "state",
        "open_warning",
        "enabled",
    )
    list_filter = ("state", "kind", OpenWarningFilter, "enabled", "allow_private")
    search_fields = ("name", "url", "host", "site__name", "site__organisation__name")
    autocomplete_fields = ("site", "depends_on")
    list_select_related = ("site",)
    actions = ("enable", "disable", "new_ping_address")
    readonly_fields = (
        "state",
        "state_since",
        "failure_cause",
        "failing_regions",
        "last_checked_at",
        "next_check_at",
        "is_default",
        "updated_at",
        "warnings_now",
    )
    heartbeat_fields = ("ping_address", "last_ping_at", "last_ping_source", "recent_pings")
    fieldsets = (
        (None, {"fields": ("site", "name", "kind", "enabled", "depends_on", "key")}),
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
                    "body",
                    "request_headers",
                    "auth_user",
                    "auth_password",
                )
            },
        ),
        ("TLS", {"fields": ("tls_min_days",)}),
        ("DNS", {"fields": ("record_type", "expected_values", "nameserver")}),
        ("Heartbeat", {"fields": ("grace_seconds", *heartbeat_fields)}),
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

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, *self.heartbeat_fields)

    def get_queryset(self, request):
        open_warnings = MonitorWarning.objects.filter(monitor=OuterRef("pk"), cleared_at=None)
        return (
            super()
            .get_queryset(request)
            .annotate(warning_detail=Subquery(open_warnings.values("detail")[:1]))
        )

    @admin.display(description="warning", ordering="warning_detail")
    def open_warning(self, obj: Monitor) -> str:
        return getattr(obj, "warning_detail", None) or "—"

    @admin.display(description="open warnings")
    def warnings_now(self, obj: Monitor) -> str:
        found = [w.detail for w in obj.warnings.filter(cleared_at=None)]
        return "; ".join(found) or "—"

    @admin.display(description="ping address")
    def ping_address(self, obj: Monitor) -> str:
        if not obj.ping_url:
            return "— (saved heartbeats get one)"
        return format_html(
            "<code>{}</code><br>GET or POST it, e.g. <code>curl -fsS -m 10 {}</code> at the end "
            "of the job. Keep it secret: whoever has it can report the job done.",
            obj.ping_url,
            obj.ping_url,
        )

    @admin.display(description="recent pings")
    def recent_pings(self, obj: Monitor) -> str:
        if obj.pk is None:
            return "—"
        pings = list(obj.pings.order_by("-at", "-id")[:10])
        if not pings:
            return "none yet"
        return format_html_join(
            "",
            "{}<br>",
            ((f"{p.at:%Y-%m-%d %H:%M:%S} UTC from {p.source}",) for p in pings),
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

    @admin.action(description="Give the selected heartbeats a new ping address")
    def new_ping_address(self, request, queryset) -> None:
        count = 0
        for monitor in queryset.filter(kind=Kind.HEARTBEAT):
            monitor.ping_token = new_ping_token()
            monitor.save(update_fields=["ping_token"])
            count += 1
        messages.success(
            request,
            f"{count} heartbeat(s) have a new address; the old one answers 404 from now on. "
            "Update the jobs that call them.",
        )


@admin.register(MonitorWarning)
class MonitorWarningAdmin(ReadOnlyAdmin):
    list_display = ("monitor", "kind", "detail", "opened_at", "cleared_at", "alerted_at")
    list_filter = ("kind", ("cleared_at", admin.EmptyFieldListFilter))
    search_fields = ("monitor__site__name", "detail")
    list_select_related = ("monitor__site",)
    date_hierarchy = "opened_at"


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


@admin.register(DailyRollup)
class DailyRollupAdmin(ReadOnlyAdmin):
    list_display = (
        "day",
        "monitor",
        "checks",
        "failures",
        "up_seconds",
        "down_seconds",
        "p50_ms",
        "p95_ms",
    )
    exclude = ("hours",)  # packed; the hourly figures are read through history.hours()
    list_select_related = ("monitor__site",)
    raw_id_fields = ("monitor",)
    show_full_result_count = False


@admin.register(Probe)
class ProbeAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "region",
        "alive",
        "network",
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

    @admin.display(description="network")
    def network(self, obj: Probe) -> str:
        if obj.network_lost_at is None:
            return "ok"
        detail = (obj.status or {}).get("network_detail", "")
        return f"lost since {obj.network_lost_at:%Y-%m-%d %H:%M:%S}" + (
            f": {detail}" if detail else ""
        )


@admin.register(StatusPage)
class StatusPageAdmin(admin.ModelAdmin):
    """Public status pages: off until staff turn one on for a client."""

    list_display = ("organisation", "enabled", "address", "title", "show_incidents")
    list_filter = ("enabled",)
    search_fields = ("organisation__name", "key", "title")
    autocomplete_fields = ("organisation",)
    list_select_related = ("organisation",)
    fields = ("organisation", "enabled", "key", "title", "show_incidents")
    actions = ("publish", "unpublish")

    @admin.display(description="Address")
    def address(self, obj: StatusPage):
        url = reverse("status:page", args=[obj.key])
        if not obj.enabled:
            return format_html('<span class="muted">{}</span> (off)', url)
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @admin.action(description="Make the selected pages public")
    def publish(self, request, queryset):
        count = queryset.update(enabled=True, updated_at=clock.now())
        messages.success(request, f"{count} status page(s) public.")

    @admin.action(description="Switch the selected pages off")
    def unpublish(self, request, queryset):
        count = queryset.update(enabled=False, updated_at=clock.now())
        messages.success(request, f"{count} status page(s) switched off.")


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
