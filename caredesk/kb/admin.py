from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.html import format_html

from caredesk.clients.access import is_staff

from . import actions
from .models import Article, ArticleEvent, Category, Feedback, Status


class StaffAdmin(admin.ModelAdmin):
    """Every agency staff member writes the knowledge base, not only the admin."""

    def has_module_permission(self, request) -> bool:
        return is_staff(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_staff(request.user)

    def has_add_permission(self, request) -> bool:
        return is_staff(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_staff(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_staff(request.user)


class ReadOnlyStaffAdmin(StaffAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(StaffAdmin):
    list_display = ("name", "slug", "position", "article_count")
    list_editable = ("position",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n=Count("articles"))

    @admin.display(description="Articles", ordering="n")
    def article_count(self, obj) -> int:
        return obj.n


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = [
            "title",
            "slug",
            "category",
            "summary",
            "keywords",
            "body",
            "status",
            "visibility",
            "organisation",
            "position",
        ]
        widgets = {"body": forms.Textarea(attrs={"rows": 24, "style": "font-family: monospace"})}


@admin.register(Article)
class ArticleAdmin(StaffAdmin):
    form = ArticleForm
    list_display = (
        "title",
        "category",
        "status",
        "visibility",
        "organisation",
        "helpful_yes",
        "helpful_no",
        "updated_at",
    )
    list_filter = ("status", "visibility", "category", "organisation")
    search_fields = ("title", "summary", "keywords", "body")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("organisation",)
    list_select_related = ("category", "organisation")
    readonly_fields = ("preview", "published_at", "updated_at", "updated_by", "history")
    actions = ("publish", "withdraw")
    save_on_top = True
    fieldsets = (
        (None, {"fields": ("title", "slug", "category", "position", "summary", "keywords")}),
        ("Text", {"fields": ("body", "preview")}),
        (
            "Who can read it",
            {
                "fields": ("status", "visibility", "organisation"),
                "description": "Drafts are seen by staff only. 'Signed-in clients' means "
                "client contacts signed in to the portal; limit an article to one client "
                "to write a how-to for that client alone.",
            },
        ),
        ("Record", {"fields": ("published_at", "updated_at", "updated_by", "history")}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                yes=Count("feedback", filter=Q(feedback__helpful=True)),
                no=Count("feedback", filter=Q(feedback__helpful=False)),
            )
        )

    @admin.display(description="Yes", ordering="yes")
    def helpful_yes(self, obj) -> int:
        return obj.yes

    @admin.display(description="No", ordering="no")
    def helpful_no(self, obj) -> int:
        return obj.no

    @admin.display(description="Preview (as saved)")
    def preview(self, obj) -> str:
        if obj is None or not obj.pk:
            return "Save the article to see it rendered here."
        return format_html('<div class="kb-preview">{}</div>', obj.body_html)

    @admin.display(description="History")
    def history(self, obj) -> str:
        if obj is None or not obj.pk:
            return "—"
        events = obj.events.select_related("actor")[:10]
        return format_html(
            "<br>".join(["{}"] * len(events)) if events else "—",
            *[f"{e.at:%d %b %Y %H:%M} {e.kind} by {e.actor or 'someone'}" for e in events],
        )

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in ArticleForm.Meta.fields}
        target = Article.objects.get(pk=obj.pk) if change else Article()
        saved = actions.do_save_article(target, acting_user=request.user, **changes)
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj):
        actions.do_delete_article(obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for article in queryset:
            actions.do_delete_article(article, acting_user=request.user)

    def _set_status(self, request, queryset, status: str, done: str) -> None:
        count = 0
        for article in queryset.exclude(status=status):
            try:
                actions.do_set_status(article, status, acting_user=request.user)
                count += 1
            except ValidationError as error:
                self.message_user(
                    request, f"{article}: {'; '.join(error.messages)}", messages.ERROR
                )
        self.message_user(request, f"{count} article(s) {done}.")

    @admin.action(description="Publish the selected articles")
    def publish(self, request, queryset) -> None:
        self._set_status(request, queryset, Status.PUBLISHED, "published")

    @admin.action(description="Take the selected articles back to draft")
    def withdraw(self, request, queryset) -> None:
        self._set_status(request, queryset, Status.DRAFT, "taken back to draft")


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyStaffAdmin):
    list_display = ("article", "helpful", "comment", "updated_at")
    list_filter = ("helpful",)
    search_fields = ("article__title", "comment")
    list_select_related = ("article",)
    exclude = ("visitor",)


@admin.register(ArticleEvent)
class ArticleEventAdmin(ReadOnlyStaffAdmin):
    list_display = ("at", "kind", "title", "actor")
    list_filter = ("kind",)
    search_fields = ("title",)
