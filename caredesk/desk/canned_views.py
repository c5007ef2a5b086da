"""Canned replies managed from the desk: a list with previews, and a form to add or edit one."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from . import actions, canned
from .common import staff_only
from .models import CannedReply


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "body", "is_active", "position"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}
        labels = {"is_active": "Offer it in the reply box"}


@staff_only
def canned_list(request):
    return render(
        request,
        "desk/canned_list.html",
        {"replies": CannedReply.objects.all(), "placeholders": canned.PLACEHOLDERS},
    )


@require_http_methods(["GET", "POST"])
@staff_only
def canned_edit(request, pk: int | None = None):
    reply = get_object_or_404(CannedReply, pk=pk) if pk else None
    form = CannedReplyForm(request.POST or None, instance=reply)
    if request.method == "POST" and form.is_valid():
        saved = actions.do_save_canned_reply(form, acting_user=request.user)
        messages.success(request, f"Canned reply “{saved.title}” saved.")
        return redirect("desk:canned")
    return render(
        request,
        "desk/canned_edit.html",
        {"form": form, "reply": reply, "placeholders": canned.PLACEHOLDERS},
        status=400 if form.errors else 200,
    )
