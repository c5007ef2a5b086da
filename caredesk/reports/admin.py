"""Reports in the admin: preview, edit the intro note, hold or release, send, resend, rebuild.

Every change goes through :mod:`caredesk.reports.actions`; the admin never
saves a report itself, so each change is logged with who made it.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from . import actions
from .models import Report, ReportEvent


def _preview_url(report: Report) -> str:
    try:
        return reverse("reports:preview", args=[report.pk])
    except NoReverseMatch:  # the preview page is wired by the project's urls.py
        return ""


class EventInline(admin.TabularInline):
    model = ReportEvent
    fields = ("at", "kind", "actor", "recipients", "email", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReportForm(forms.ModelForm):
    class Meta:
        model = Report
        fields = ("intro",)
        widgets = {"intro": forms.Textarea(attrs={"rows": 5, "cols": 80})}


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    form = ReportForm
    list_display = ("organisation", "month_text", "state", "held", "built_at", "sent_at", "links")
    list_filter = ("state", "held", "month")
    search_fields = ("organisation__name",)
    list_select_related = ("organisation",)
    readonly_fields = ("organisation", "month", "state", "held", "built_at", "sent_at", "links")
    fields = (*readonly_fields[:-1], "links", "intro")
    inlines = [EventInline]
    actions = ["hold", "release", "send", "resend", "rebuild"]

    def has_add_permission(self, request):
        return False  # reports are built from records (`caredesk reports build` or "rebuild")

    def has_delete_permission(self, request, obj=None):
        return False  # the archive of what each client received

    @admin.display(description="Month", ordering="month")
    def month_text(self, obj: Report) -> str:
        return obj.month_label

    @admin.display(description="Files")
    def links(self, obj: Report) -> str:
        if not obj.pk or not obj.built_at:
            return "not built"
        preview = _preview_url(obj)
        pdf = reverse("admin:reports_report_pdf", args=[obj.pk])
        if preview:
            return format_html('<a href="{}">preview</a> · <a href="{}">PDF</a>', preview, pdf)
        return format_html('<a href="{}">PDF</a>', pdf)

    def get_urls(self):
        from django.urls import path

        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/pdf/", wrap(self.pdf_view), name="reports_report_pdf"),
            *super().get_urls(),
        ]

    def pdf_view(self, request, pk: int):
        from django.http import Http404, HttpResponse

        if not self.has_view_permission(request):
            raise PermissionDenied
        report = get_object_or_404(Report.objects.select_related("organisation"), pk=pk)
        if not report.pdf:
            raise Http404("not built yet")
        response = HttpResponse(bytes(report.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{report.filename}"'
        return response

    def save_model(self, request, obj, form, change):
        if "intro" in form.changed_data:
            actions.do_set_intro(obj, form.cleaned_data["intro"], acting_user=request.user)

    def _each(self, request, queryset, verb: str, call) -> None:
        done = 0
        for report in queryset.select_related("organisation"):
            try:
                if call(report) is not None:
                    done += 1
            except (ValidationError, PermissionDenied) as error:
                self.message_user(
                    request,
                    f"{report}: {'; '.join(getattr(error, 'messages', [str(error)]))}",
                    messages.ERROR,
                )
        self.message_user(request, f"{verb} {done} report(s).")

    @admin.action(description="Hold selected reports (not sent until released)")
    def hold(self, request, queryset):
        self._each(
            request, queryset, "Held", lambda r: actions.do_hold(r, acting_user=request.user)
        )

    @admin.action(description="Release selected reports (the next run sends them)")
    def release(self, request, queryset):
        self._each(
            request, queryset, "Released", lambda r: actions.do_release(r, acting_user=request.user)
        )

    @admin.action(description="Send selected reports now (once: sent ones are skipped)")
    def send(self, request, queryset):
        self._each(
            request, queryset, "Sent", lambda r: actions.do_send(r, acting_user=request.user)
        )

    @admin.action(description="Send selected reports again, as archived")
    def resend(self, request, queryset):
        self._each(
            request, queryset, "Resent", lambda r: actions.do_resend(r, acting_user=request.user)
        )

    @admin.action(description="Rebuild selected unsent reports from the records")
    def rebuild(self, request, queryset):
        by_month: dict = {}
        for report in queryset:
            by_month.setdefault(report.month, []).append(report.organisation_id)
        built = 0
        for month, ids in by_month.items():
            built += len(
                actions.do_build_reports(
                    month.year, month.month, organisations=ids, acting_user=request.user
                )
            )
        self.message_user(request, f"Rebuilt {built} report(s); sent ones are kept as sent.")
