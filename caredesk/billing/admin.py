"""Billing in the admin: time entries (through the actions), agreements, the ledger,
statements with their CSV and PDF, warnings, and the usage page.

The admin is staff-only; what a client may see of statements goes through
:func:`caredesk.billing.access.statements_for` (the portal's business).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from . import actions, export, overview, statements
from .models import (
    Agreement,
    BillingWarning,
    LedgerEntry,
    OrganisationUsage,
    Statement,
    StatementLine,
    TimeEntry,
    TimerRun,
)
from .money import hours


def _error_text(error: ValidationError) -> str:
    return "; ".join(error.messages)


class TimeEntryForm(forms.ModelForm):
    class Meta:
        model = TimeEntry
        fields = ("ticket", "staff", "work_date", "minutes", "category", "note")

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None and self.instance.is_frozen:
            raise ValidationError("This time entry is on a finalised statement.")
        if self.errors:
            return data
        try:
            actions.check_entry(data.get("ticket"), data.get("minutes"), data.get("work_date"))
        except ValidationError as error:
            raise ValidationError(_error_text(error)) from None
        return data


@admin.register(TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    form = TimeEntryForm
    list_display = ("work_date", "ticket", "staff", "category", "time", "statement", "note")
    list_filter = ("work_date", "category", "staff")
    search_fields = ("ticket__number", "ticket__subject", "ticket__organisation__name", "note")
    autocomplete_fields = ("ticket",)
    date_hierarchy = "work_date"
    list_select_related = ("ticket", "staff", "category", "statement")

    @admin.display(description="Time", ordering="minutes")
    def time(self, obj: TimeEntry) -> str:
        return hours(obj.minutes)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = actions.do_edit_time(
                obj,
                acting_user=request.user,
                minutes=data["minutes"],
                work_date=data["work_date"],
                category=data["category"],
                note=data["note"],
            )
        else:
            saved = actions.do_log_time(
                data["ticket"],
                data["minutes"],
                acting_user=request.user,
                staff=data["staff"],
                work_date=data["work_date"],
                category=data["category"],
                note=data["note"],
            )
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj):
        actions.do_delete_time(obj, acting_user=request.user, reason="deleted in the admin")

    def delete_queryset(self, request, queryset):
        for entry in queryset:
            actions.do_delete_time(entry, acting_user=request.user, reason="deleted in the admin")


@admin.register(TimerRun)
class TimerRunAdmin(admin.ModelAdmin):
    list_display = ("staff", "ticket", "started_at", "note")
    readonly_fields = ("staff", "ticket", "category", "note", "started_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AgreementForm(forms.ModelForm):
    class Meta:
        model = Agreement
        fields = ("organisation", "first_period_start", "note")

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                actions.check_pool(data["organisation"], data["first_period_start"])
            except ValidationError as error:
                raise ValidationError(_error_text(error)) from None
        return data


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    form = AgreementForm
    list_display = ("organisation", "label", "note", "agreed_by", "created_at")
    search_fields = ("organisation__name",)
    autocomplete_fields = ("organisation",)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = actions.do_pool_periods(
            data["organisation"],
            data["first_period_start"],
            acting_user=request.user,
            note=data["note"],
        )
        # The admin's log and messages name the object it saved: make it the stored one.
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj):
        actions.do_cancel_agreement(obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for agreement in queryset:
            actions.do_cancel_agreement(agreement, acting_user=request.user)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "window", "kind", "movement", "note", "at")
    list_filter = ("kind", "window_start")
    search_fields = ("organisation__name", "note")
    list_select_related = ("organisation",)

    @admin.display(description="Allowance")
    def window(self, obj: LedgerEntry) -> str:
        return f"{obj.window_start:%d %b %Y} – {obj.window_end:%d %b %Y}"

    @admin.display(description="Minutes", ordering="minutes")
    def movement(self, obj: LedgerEntry) -> str:
        return ("+" if obj.minutes > 0 else "") + hours(obj.minutes)


@admin.register(BillingWarning)
class BillingWarningAdmin(ReadOnlyAdmin):
    list_display = ("kind", "organisation", "ticket", "created_at", "sent_at", "recipients")
    list_filter = ("kind",)
    search_fields = ("organisation__name", "key")


class LineInline(admin.TabularInline):
    model = StatementLine
    extra = 0
    fields = (
        "kind",
        "work_date",
        "ticket_number",
        "time_entry",
        "staff_name",
        "category_name",
        "minutes",
        "rate",
        "amount",
        "reason",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "organisation",
        "period",
        "status",
        "plan_name",
        "total_text",
        "downloads",
    )
    list_filter = ("status", "period_start")
    search_fields = ("organisation__name", "number")
    list_select_related = ("organisation",)
    readonly_fields = [f.name for f in Statement._meta.fields]
    inlines = [LineInline]
    actions = ["rebuild", "finalise"]

    @admin.display(description="Period", ordering="period_start")
    def period(self, obj: Statement) -> str:
        return obj.period_label

    @admin.display(description="Total", ordering="total")
    def total_text(self, obj: Statement) -> str:
        return f"{obj.currency} {obj.total:,.2f}"

    @admin.display(description="Files")
    def downloads(self, obj: Statement) -> str:
        return format_html(
            '<a href="{}">PDF</a> · <a href="{}">CSV</a> · <a href="{}">view</a>',
            reverse("admin:billing_statement_pdf", args=[obj.pk]),
            reverse("admin:billing_statement_csv", args=[obj.pk]),
            reverse("admin:billing_statement_html", args=[obj.pk]),
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/pdf/", wrap(self.pdf_view), name="billing_statement_pdf"),
            path("<int:pk>/csv/", wrap(self.csv_view), name="billing_statement_csv"),
            path("<int:pk>/html/", wrap(self.html_view), name="billing_statement_html"),
            *super().get_urls(),
        ]

    def _statement(self, request, pk: int) -> Statement:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(Statement.objects.select_related("organisation"), pk=pk)

    def _filename(self, statement: Statement, ext: str) -> str:
        name = statement.reference if statement.number else f"draft-{statement.pk}"
        return f"statement-{name}-{statement.organisation.slug}.{ext}"

    def pdf_view(self, request, pk: int):
        statement = self._statement(request, pk)
        response = HttpResponse(export.statement_pdf(statement), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{self._filename(statement, "pdf")}"'
        )
        return response

    def csv_view(self, request, pk: int):
        statement = self._statement(request, pk)
        response = HttpResponse(export.statement_csv(statement), content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="{self._filename(statement, "csv")}"'
        )
        return response

    def html_view(self, request, pk: int):
        return HttpResponse(export.statement_html(self._statement(request, pk)))

    @admin.action(description="Rebuild selected drafts from their time entries")
    def rebuild(self, request, queryset):
        self._each(request, queryset, finalise=False)

    @admin.action(description="Finalise selected statements (number and freeze them)")
    def finalise(self, request, queryset):
        self._each(request, queryset, finalise=True)

    def _each(self, request, queryset, *, finalise: bool):
        done = 0
        for statement in queryset.select_related("organisation"):
            if statement.is_final:
                continue
            try:
                statements.build_one(
                    statement.organisation,
                    statement.period_start.year,
                    statement.period_start.month,
                    finalise=finalise,
                    acting_user=request.user,
                )
                done += 1
            except ValidationError as error:
                self.message_user(
                    request, f"{statement.organisation}: {_error_text(error)}", messages.ERROR
                )
        verb = "finalised" if finalise else "rebuilt"
        self.message_user(request, f"{done} statement(s) {verb}.", messages.SUCCESS)


@admin.register(OrganisationUsage)
class UsageAdmin(ReadOnlyAdmin):
    """One page: usage vs allowance per client with the trend, and the tickets past fair usage."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def changelist_view(self, request, extra_context=None):
        rows = overview.client_usage()
        only_over = request.GET.get("over") == "1"
        shown = overview.over_allowance(rows) if only_over else rows
        context = {
            **self.admin_site.each_context(request),
            "title": "Usage this period",
            "opts": self.model._meta,
            "rows": [_usage_row(row) for row in shown],
            "only_over": only_over,
            "over_count": len(overview.over_allowance(rows)),
            "tickets": [_ticket_row(t) for t in overview.tickets_past_fair_usage()],
        }
        return TemplateResponse(request, "billing/usage.html", context)


def _usage_row(row: overview.ClientUsage) -> dict:
    return {
        "organisation": row.organisation,
        "plan": row.plan,
        "period": row.period,
        "allowance": row.text(row.allowance),
        "used": hours(row.used),
        "share": "" if row.share is None else f"{row.share} %",
        "over": hours(row.over) if row.over else "",
        "previous": "–" if row.previous_used is None else hours(row.previous_used),
        "trend": row.trend,
        "billable": hours(row.billable) if row.billable else "",
        "is_over": row.over > 0,
    }


def _ticket_row(item: overview.TicketPastFairUsage) -> dict:
    return {
        "ticket": item.ticket,
        "organisation": item.organisation,
        "month": item.month,
        "time": hours(item.minutes),
        "cap": hours(item.cap),
        "billed": "whole ticket's month" if item.mode == "whole_ticket" else "time past the limit",
    }
