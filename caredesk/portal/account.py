"""A client's account: who they are, and an optional password."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .common import client_only


def _form(user, data=None):
    # Signed in by a link, a client has no password to confirm; once one is
    # set, changing it needs the current one.
    form_class = PasswordChangeForm if user.has_usable_password() else SetPasswordForm
    return form_class(user, data)


@require_http_methods(["GET", "POST"])
@client_only
def account(request):
    form = _form(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, "Your password is set. You can now sign in with it, or by link.")
        return redirect("portal:account")
    return render(
        request,
        "portal/account.html",
        {"form": form, "has_password": request.user.has_usable_password()},
        status=400 if form.is_bound else 200,
    )
