import json

from django.contrib import admin
from django.http import HttpResponse

from .models import BusinessCalendar, Priority, SlaPolicy, Target
from .policy_io import export_policy


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


class PriorityInline(admin.TabularInline):
    model = Priority
    extra = 0
    fields = ("rank", "code", "name", "is_critical", "is_default", "for_monitor", "category_codes")
    show_change_link = True


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    fields = (
        "kind",
        "aim",
        "limit",
        "calendar",
        "start_on",
        "pause_statuses",
        "response_kinds",
        "breach_action",
        "reassign_to",
    )


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "calendar", "is_default")
    inlines = [PriorityInline]
    actions = ["export_json"]

    @admin.action(description="Export selected policies as JSON")
    def export_json(self, request, queryset):
        data = [export_policy(policy) for policy in queryset]
        response = HttpResponse(
            json.dumps(data[0] if len(data) == 1 else data, indent=2),
            content_type="application/json",
        )
        response["Content-Disposition"] = 'attachment; filename="sla-policies.json"'
        return response


@admin.register(Priority)
class PriorityAdmin(admin.ModelAdmin):
    list_display = ("name", "policy", "rank", "is_critical", "is_default", "for_monitor")
    list_filter = ("policy",)
    inlines = [TargetInline]
