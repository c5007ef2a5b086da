from django.contrib import admin, messages
from django.http import HttpResponse

from .ingest import release
from .models import (
    InboundEmail,
    InboundStatus,
    OutboundEmail,
    Quarantined,
    SendAttempt,
    Undeliverable,
)


class InboundAdminBase(admin.ModelAdmin):
    list_display = ("received_at", "from_email", "subject", "status", "via", "ticket")
    search_fields = ("from_email", "subject", "message_id")
    readonly_fields = (
        "received_at",
        "via",
        "size",
        "sha256",
        "envelope_to",
        "message_id",
        "from_email",
        "subject",
        "status",
        "reason",
        "ticket",
        "ticket_message",
        "processed_at",
    )
    exclude = ("raw", "dedupe_key")
    actions = ["download_raw"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Download the original (.eml)")
    def download_raw(self, request, queryset):
        item = queryset.first()
        response = HttpResponse(bytes(item.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="inbound-{item.pk}.eml"'
        return response


@admin.register(InboundEmail)
class InboundEmailAdmin(InboundAdminBase):
    list_filter = ("status", "via")


@admin.register(Quarantined)
class QuarantineAdmin(InboundAdminBase):
    """Messages that could not be filed, with the reason; release or delete them."""

    list_display = ("received_at", "from_email", "subject", "reason")
    actions = ["release_selected", "download_raw"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=InboundStatus.QUARANTINED)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.action(description="Release: process again")
    def release_selected(self, request, queryset):
        results = [release(item) for item in queryset]
        still = sum(1 for item in results if item.status == InboundStatus.QUARANTINED)
        messages.info(request, f"{len(results) - still} released, {still} still quarantined.")


class AttemptInline(admin.TabularInline):
    model = SendAttempt
    extra = 0
    readonly_fields = ("at", "ok", "error")
    can_delete = False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "subject", "state", "attempts", "sent_at", "bounced_at")
    list_filter = ("state", "kind")
    search_fields = ("subject", "message_id", "to")
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    inlines = [AttemptInline]

    def has_add_permission(self, request):
        return False


@admin.register(Undeliverable)
class UndeliverableAdmin(admin.ModelAdmin):
    list_display = ("email", "bounces", "last_bounced_at", "reason")
    search_fields = ("email",)
