from django.contrib import admin

from caredesk.clients.admin import OrganisationAdmin
from caredesk.clients.models import Organisation

from .models import Plan, PlanCategory, Subscription, WorkCategory, active_subscription


@admin.register(WorkCategory)
class WorkCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "position")
    prepopulated_fields = {"code": ("name",)}
    search_fields = ("name", "code")


class PlanCategoryInline(admin.TabularInline):
    model = PlanCategory
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "monthly_fee",
        "currency",
        "included_hours",
        "hourly_rate",
        "queue_tier",
        "is_active",
    )
    list_filter = ("queue_tier", "is_active")
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}
    inlines = [PlanCategoryInline]

    @admin.display(description="Hours / period")
    def included_hours(self, obj: Plan) -> str:
        if obj.included_minutes is None:
            return "not counted"
        return f"{obj.included_minutes / 60:g}"


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("organisation", "plan", "start_date", "end_date", "term", "billing_day")
    list_filter = ("plan", "term")
    search_fields = ("organisation__name",)
    autocomplete_fields = ("organisation",)
    date_hierarchy = "start_date"


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    fields = ("plan", "start_date", "end_date", "term", "annual_discount_percent", "billing_day")


@admin.display(description="Plan")
def current_plan(obj: Organisation) -> str:
    subscription = active_subscription(obj.pk)
    return subscription.plan.name if subscription else "On demand"


# Plans sit above clients, so they extend the organisation's admin page rather
# than the clients app reaching up for them.
OrganisationAdmin.inlines = [*OrganisationAdmin.inlines, SubscriptionInline]
OrganisationAdmin.list_display = [*OrganisationAdmin.list_display[:2], current_plan, "is_active"]
