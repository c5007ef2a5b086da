from django.contrib import admin

from .models import CannedReply


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "is_active", "position", "updated_at")
    list_editable = ("is_active", "position")
    search_fields = ("title", "body")
    fields = ("title", "body", "is_active", "position")
