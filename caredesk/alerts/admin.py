from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from .actions import do_retry_deliveries
from .channels import REGISTRY
from .channels.apprise_url import urls
from .channels.email import addresses
from .models import AlertChannel, AlertDelivery, Audience, ChannelKind, DeliveryState, ProbeAlert


def target_summary(channel: AlertChannel) -> str:
    """What the channel sends to, without its secrets: addresses, or only the URLs' kinds."""
    if not channel.target:
        return "—"
    if channel.kind == ChannelKind.EMAIL:
        return ", ".join(addresses(channel.target))
    return ", ".join(f"{url.partition('://')[0]}://…" for url in urls(channel.target))


class AlertChannelForm(forms.ModelForm):
    target = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text="Email: addresses separated by commas (a client's channel may leave it empty "
        "to write to the client's managers). Apprise URL, for Slack, Teams, Discord, "
        "Telegram, SMS gateways or webhooks: one per line, e.g. slack://T000/B000/XXXX or "
        "json://hooks.example/alert. Stored encrypted; leave empty to keep what is stored.",
    )

    class Meta:
        model = AlertChannel
        fields = [
            "name",
            "kind",
            "target",
            "audience",
            "organisation",
            "only_organisations",
            "send_recoveries",
            "send_warnings",
            "enabled",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Never sent back to the browser: Apprise URLs carry their tokens.
        self.initial["target"] = ""

    def clean(self) -> dict:
        data = super().clean()
        kind, audience = data.get("kind"), data.get("audience")
        target = data.get("target", "")
        if not target and self.instance.pk and kind == self.instance.kind:
            target = self.instance.target
        if kind in REGISTRY and target:
            try:
                data["target"] = REGISTRY[kind].check_target(target)
            except ValueError as error:
                self.add_error("target", str(error))
        elif kind == ChannelKind.APPRISE or (kind and audience != Audience.CLIENT):
            self.add_error("target", "Say where alerts go.")
        else:
            data["target"] = ""
        if audience == Audience.CLIENT:
            if not data.get("organisation"):
                self.add_error("organisation", "A client's channel belongs to one organisation.")
            if data.get("only_organisations"):
                self.add_error("only_organisations", "Only for agency channels.")
        elif audience == Audience.AGENCY and data.get("organisation"):
            self.add_error(
                "organisation", "An agency channel has none; limit it with the list below."
            )
        return data


@admin.register(AlertChannel)
class AlertChannelAdmin(admin.ModelAdmin):
    form = AlertChannelForm
    list_display = ("name", "kind", "stored_target", "whose", "health", "enabled")
    list_filter = ("kind", "audience", "enabled")
    search_fields = ("name", "organisation__name")
    autocomplete_fields = ("organisation",)
    filter_horizontal = ("only_organisations",)
    readonly_fields = ("stored_target", "last_sent_at", "last_error", "last_error_at")
    fieldsets = (
        (None, {"fields": ("name", "kind", "enabled", "send_recoveries", "send_warnings")}),
        ("Where", {"fields": ("stored_target", "target")}),
        ("Whose incidents", {"fields": ("audience", "organisation", "only_organisations")}),
        ("Health", {"fields": ("last_sent_at", "last_error", "last_error_at")}),
    )

    @admin.display(description="Sends to")
    def stored_target(self, obj: AlertChannel) -> str:
        return target_summary(obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation")

    @admin.display(description="Whose incidents")
    def whose(self, obj: AlertChannel) -> str:
        if obj.audience == Audience.CLIENT:
            return f"{obj.organisation}'s contacts"
        limited = obj.only_organisations.count()
        return (
            f"agency on-call ({limited} client{'s' if limited != 1 else ''})"
            if limited
            else ("agency on-call (every client)")
        )

    @admin.display(description="Health")
    def health(self, obj: AlertChannel):
        if obj.last_error and (obj.last_sent_at is None or obj.last_error_at > obj.last_sent_at):
            return format_html(
                '<span style="color:#b42318">failing: {}</span>', obj.last_error[:200]
            )
        if obj.last_sent_at:
            return format_html("ok, last sent {}", obj.last_sent_at.strftime("%Y-%m-%d %H:%M"))
        return "nothing sent yet"


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "channel",
        "site",
        "event",
        "state",
        "attempts",
        "due_at",
        "error",
    )
    list_filter = ("state", "event", "channel")
    list_select_related = ("channel", "incident__monitor__site", "warning__monitor__site")
    search_fields = (
        "channel__name",
        "incident__monitor__site__name",
        "warning__monitor__site__name",
        "last_error",
    )
    date_hierarchy = "created_at"
    actions = ("retry",)
    fields = (
        "channel",
        "incident",
        "warning",
        "event",
        "at",
        "state",
        "attempts",
        "due_at",
        "last_error",
        "batch",
        "sent_at",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Site")
    def site(self, obj: AlertDelivery) -> str:
        return obj.monitor.site.name

    @admin.display(description="Last error")
    def error(self, obj: AlertDelivery) -> str:
        return obj.last_error if len(obj.last_error) <= 120 else f"{obj.last_error[:119]}…"

    @admin.action(description="Send the selected failed alerts again")
    def retry(self, request, queryset) -> None:
        ids = list(queryset.filter(state=DeliveryState.FAILED).values_list("pk", flat=True))
        count = do_retry_deliveries(ids, acting_user=request.user)
        self.message_user(request, f"{count} alert(s) will be sent again.", messages.SUCCESS)


@admin.register(ProbeAlert)
class ProbeAlertAdmin(admin.ModelAdmin):
    """A probe that lost its network, as each channel was told (sent by the delivery job)."""

    list_display = ("created_at", "probe", "event", "channel", "state", "attempts", "due_at")
    list_filter = ("state", "event", "channel")
    list_select_related = ("channel", "probe")
    date_hierarchy = "created_at"
    fields = (
        "probe",
        "event",
        "at",
        "detail",
        "channel",
        "state",
        "attempts",
        "due_at",
        "last_error",
        "sent_at",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
