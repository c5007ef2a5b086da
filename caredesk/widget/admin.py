from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from .actions import do_release
from .models import QuarantinedSubmission


@admin.register(QuarantinedSubmission)
class QuarantinedSubmissionAdmin(admin.ModelAdmin):
    """Read-only: what the spam trap caught, with why; staff may file a genuine one."""

    list_display = ("received_at", "site", "reason", "email", "subject", "filed_as")
    list_filter = ("reason", "received_at", "site__organisation")
    search_fields = ("email", "name", "subject", "site__name", "client_ip")
    date_hierarchy = "received_at"
    actions = ["release"]
    fields = (
        "received_at",
        "site",
        "reason",
        "detail",
        "name",
        "email",
        "subject",
        "description",
        "honeypot",
        "page",
        "origin",
        "client_ip",
        "user_agent",
        "attachment_name",
        "attachment_size",
        "released_at",
        "released_by",
        "filed_as",
    )
    readonly_fields = fields

    # Every agent triages spam, not only admins: the quarantine is part of the queue's work.
    def _is_staff(self, request) -> bool:
        return bool(getattr(request.user, "is_agency_staff", False))

    def has_module_permission(self, request) -> bool:
        return self._is_staff(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._is_staff(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._is_staff(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("site", "ticket", "released_by")

    @admin.display(description="Ticket")
    def filed_as(self, obj: QuarantinedSubmission) -> str:
        if obj.ticket_id is None:
            return "—"
        url = reverse("desk:ticket", args=[obj.ticket.number])
        return format_html('<a href="{}">{}</a>', url, obj.ticket.reference)

    @admin.action(description="Not spam: file the selected submissions as tickets")
    def release(self, request, queryset) -> None:
        for entry in queryset:
            try:
                ticket = do_release(entry, acting_user=request.user)
            except ValidationError as error:
                messages.error(request, f"{entry}: {' '.join(error.messages)}")
            else:
                messages.success(request, f"{entry}: filed as ticket {ticket.reference}.")
