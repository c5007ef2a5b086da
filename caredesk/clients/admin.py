from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html

from . import actions
from .models import Contact, Organisation, Site, new_widget_key


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "email", "phone", "is_manager", "is_report_recipient", "is_billing")
    show_change_link = True


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    fields = ("name", "url", "platform", "is_active")
    show_change_link = True


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "account_manager", "is_active"]
    list_filter = ("is_active", "account_manager")
    search_fields = ("name", "email_domains", "contacts__email")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ContactInline, SiteInline]  # plans adds its subscriptions inline
    change_list_template = "admin/clients/import_changelist.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account_manager")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "organisation", "role_list", "is_active")
    list_filter = ("is_manager", "is_report_recipient", "is_billing", "is_active")
    search_fields = ("name", "email", "organisation__name")
    autocomplete_fields = ("organisation",)
    raw_id_fields = ("user",)
    change_list_template = "admin/clients/import_changelist.html"

    @admin.display(description="Roles")
    def role_list(self, obj: Contact) -> str:
        return ", ".join(obj.roles)


class SiteForm(forms.ModelForm):
    connection_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored secret. Stored encrypted.",
    )

    class Meta:
        model = Site
        fields = [
            "organisation",
            "name",
            "url",
            "platform",
            "hosting_note",
            "notes",
            "connection",
            "connection_user",
            "connection_secret",
            "ssh_host",
            "ssh_port",
            "is_active",
            "widget_enabled",
            "widget_origins",
        ]

    def clean_connection_secret(self) -> str:
        value = self.cleaned_data["connection_secret"]
        if not value and self.instance.pk:
            return self.instance.connection_secret
        return value


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    form = SiteForm
    list_display = (
        "name",
        "url",
        "organisation",
        "platform",
        "connection",
        "widget_enabled",
        "is_active",
    )
    list_filter = ("platform", "connection", "widget_enabled", "is_active")
    search_fields = ("name", "url", "organisation__name", "widget_key")
    autocomplete_fields = ("organisation",)
    change_list_template = "admin/clients/import_changelist.html"
    readonly_fields = ("widget_key", "widget_snippet")
    actions = ["new_widget_keys"]
    fieldsets = (
        (None, {"fields": ("organisation", "name", "url", "platform", "hosting_note", "notes")}),
        (
            "Connection",
            {
                "fields": (
                    "connection",
                    "connection_user",
                    "connection_secret",
                    "ssh_host",
                    "ssh_port",
                )
            },
        ),
        (
            "Help widget",
            {
                "fields": ("widget_enabled", "widget_origins", "widget_key", "widget_snippet"),
                "description": "A ticket form on the client's own site: see docs/widget.md.",
            },
        ),
        (None, {"fields": ("is_active",)}),
    )

    @admin.display(description="Snippet for the site")
    def widget_snippet(self, obj: Site) -> str:
        if not obj.pk:
            return "Shown once the site is saved."
        return format_html(
            '<code style="user-select: all">&lt;script src="{}/widget.js" data-site="{}" '
            "async&gt;&lt;/script&gt;</code><br>Paste it before &lt;/body&gt; on every page "
            "that should show the help button.",
            settings.CAREDESK_BASE_URL,
            obj.widget_key,
        )

    @admin.action(description="Give the selected sites new widget keys (old snippets stop)")
    def new_widget_keys(self, request, queryset) -> None:
        for site in queryset:
            actions.save_validated(site, {"widget_key": new_widget_key()}, acting_user=request.user)
        messages.success(
            request,
            f"{queryset.count()} site(s) have new widget keys: update the snippet on those sites.",
        )
