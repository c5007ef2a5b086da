"""Security scans, their findings and the vulnerability feed: read-only lists with filters,
the feed's upload form (the feed's "add" page) and the sites list's "Scan now"."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, Subquery
from django.template.response import TemplateResponse
from django.utils.html import format_html_join

from ..models import SEVERITY_ORDER, AffectedSoftware, Finding, ScanRun, Vulnerability
from ..scan import feed
from .common import ReadOnlyInline

MAX_FEED_BYTES = 1 << 30  # the whole Wordfence feed is a few hundred MB


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def severity_badges(levels: list[str]) -> str:
    """``1 critical, 2 low`` (most severe first), or ``all clear``."""
    counts = [(levels.count(level), level) for level in reversed(SEVERITY_ORDER) if level in levels]
    if not counts:
        return "all clear"
    return format_html_join(", ", "{} {}", counts)


class FindingInline(ReadOnlyInline):
    model = Finding
    fields = ("severity", "title", "installed_version", "fixed_in", "cvss_score", "advice")
    readonly_fields = fields
    show_change_link = True


@admin.register(ScanRun)
class ScanRunAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "site", "started_at", "finished_at", "found", "requested_by")
    list_filter = ("site__organisation", "started_at")
    search_fields = ("site__name", "site__url")
    date_hierarchy = "started_at"
    list_select_related = ("site", "requested_by")
    inlines = [FindingInline]
    readonly_fields = (
        "site",
        "started_at",
        "finished_at",
        "snapshot",
        "requested_by",
        "checks_done",
        "notes",
    )

    @admin.display(description="Findings")
    def found(self, obj) -> str:
        return severity_badges(list(obj.findings.values_list("severity", flat=True)))


class OpenFilter(admin.SimpleListFilter):
    """A finding is open while the site's latest scan still has it."""

    title = "status"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open (in the site's latest scan)"), ("no", "From earlier scans")]

    def queryset(self, request, queryset):
        latest = ScanRun.objects.filter(site=OuterRef("site")).order_by("-started_at", "-id")
        latest_scan = Subquery(latest.values("pk")[:1])
        if self.value() == "yes":
            return queryset.filter(scan=latest_scan)
        if self.value() == "no":
            return queryset.exclude(scan=latest_scan)
        return queryset


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "site",
        "severity",
        "category",
        "installed_version",
        "fixed_in",
        "cvss_score",
        "scanned",
    )
    list_filter = (OpenFilter, "severity", "category", "item_kind", "site__organisation")
    search_fields = ("title", "key", "item_slug", "site__name", "vulnerability__cve")
    list_select_related = ("site", "scan")
    readonly_fields = (
        "scan",
        "site",
        "key",
        "category",
        "severity",
        "title",
        "detail",
        "advice",
        "item_kind",
        "item_slug",
        "installed_version",
        "fixed_in",
        "cvss_score",
        "vulnerability",
    )

    @admin.display(description="Scanned", ordering="scan__started_at")
    def scanned(self, obj):
        return obj.scan.started_at


class AffectedSoftwareInline(ReadOnlyInline):
    model = AffectedSoftware
    fields = ("kind", "slug", "name", "affected", "patched_versions", "remediation")
    readonly_fields = fields

    @admin.display(description="Affected versions")
    def affected(self, obj) -> str:
        return "; ".join(describe_range(r) for r in obj.ranges)


def describe_range(bounds: dict) -> str:
    """``* – 1.2.3``, ``> 1.2 and < 1.4``: a feed range as people read it."""
    low, high = bounds.get("from") or "*", bounds.get("to") or "*"
    if low == "*" and high == "*":
        return "every version"
    parts = []
    if low != "*":
        parts.append(f"{'≥' if bounds.get('from_inclusive', True) else '>'} {low}")
    if high != "*":
        parts.append(f"{'≤' if bounds.get('to_inclusive', True) else '<'} {high}")
    return " and ".join(parts)


class FeedUploadForm(forms.Form):
    file = forms.FileField(
        label="Feed file",
        help_text="The Wordfence Intelligence vulnerability feed as JSON (one object of records "
        "keyed by id). Records already here are replaced by their newer copy.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FEED_BYTES:
            raise forms.ValidationError(
                "That file is larger than 1 GB: import it with the command."
            )
        return upload


@admin.register(Vulnerability)
class VulnerabilityAdmin(ReadOnlyAdmin):
    """The imported feed. Its "add" page imports a feed file."""

    list_display = ("title", "cve", "cvss_score", "cvss_rating", "software_list", "published")
    list_filter = ("cvss_rating", "informational", "software__kind", "published")
    search_fields = ("title", "cve", "feed_id", "software__slug", "software__name")
    date_hierarchy = "published"
    inlines = [AffectedSoftwareInline]
    readonly_fields = (
        "feed_id",
        "title",
        "cve",
        "cvss_score",
        "cvss_rating",
        "cvss_vector",
        "informational",
        "reference_links",
        "published",
        "updated",
        "imported_at",
    )
    exclude = ("references",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("software")

    def has_add_permission(self, request) -> bool:
        # Importing a feed: whoever may open the maintenance admin may import one.
        return request.user.has_perm("maintenance.add_vulnerability")

    @admin.display(description="Software")
    def software_list(self, obj) -> str:
        return ", ".join(f"{s.kind} {s.slug}" for s in obj.software.all())

    @admin.display(description="References")
    def reference_links(self, obj) -> str:
        return format_html_join(
            "",
            '<div><a href="{}" rel="noreferrer noopener">{}</a></div>',
            ((r, r) for r in obj.references),
        )

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = FeedUploadForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            try:
                report = feed.import_feed(form.cleaned_data["file"].read())
            except feed.FeedError as error:
                form.add_error("file", str(error))
            else:
                self.message_user(request, report.summary() + ".", messages.SUCCESS)
        context = {
            **self.admin_site.each_context(request),
            "title": "Import a vulnerability feed",
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "skipped": report.skipped[:100] if report else [],
            "known": Vulnerability.objects.count(),
            "software": AffectedSoftware.objects.aggregate(
                plugins=Count("pk", filter=Q(kind="plugin")),
                themes=Count("pk", filter=Q(kind="theme")),
                core=Count("pk", filter=Q(kind="core")),
            ),
        }
        return TemplateResponse(
            request, "admin/maintenance/vulnerability/import_feed.html", context
        )
