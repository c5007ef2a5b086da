from django.contrib import admin

from caredesk.lib import clock

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
    fields = (
        "kind",
        "started_at",
        "aim_at",
        "due_at",
        "time_left",
        "stopped_at",
        "paused",
        "breached",
    )
    readonly_fields = fields
    can_delete = False

    @admin.display(description="Time left")
    def time_left(self, obj: SlaClock) -> str:
        if obj.stopped_at:
            return "met" if not obj.breached else "missed"
        if obj.paused:
            return "paused"
        if obj.due_at is None:
            return "—"
        seconds = int((obj.due_at - clock.now()).total_seconds())
        sign, seconds = ("overdue by " if seconds < 0 else ""), abs(seconds)
        hours, minutes = divmod(seconds // 60, 60)
        return f"{sign}{hours} h {minutes:02d} min"


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
