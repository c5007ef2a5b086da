from django.contrib import admin

from .models import Message, SlaClock, Ticket, TicketEvent


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    fields = ("kind", "author_name", "author_email", "body", "created_at")
    readonly_fields = fields
    can_delete = False


class SlaClockInline(admin.TabularInline):
    model = SlaClock
    extra = 0
    fields = ("kind", "started_at", "due_at", "aim_at", "stopped_at", "paused", "breached")
    readonly_fields = fields
    can_delete = False


class EventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    fields = ("at", "kind", "actor_user", "actor_contact", "data")
    readonly_fields = fields
    can_delete = False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """A read-mostly view for admins; tickets are worked in the desk, through actions."""

    list_display = (
        "number",
        "subject",
        "organisation",
        "priority",
        "status",
        "assignee",
        "sla_next_due_at",
        "created_at",
    )
    list_filter = ("status", "channel", "priority__policy")
    search_fields = ("number", "subject", "requester_email", "organisation__name")
    readonly_fields = [f.name for f in Ticket._meta.fields]
    inlines = [MessageInline, SlaClockInline, EventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
