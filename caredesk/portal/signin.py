"""Signing in to the portal: a link by email, or a password once one is set.

The answer to "send me a link" is the same whether or not the address is a
contact's, so the form cannot be used to learn who the agency's clients are.
"""

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from caredesk.clients import access

from . import actions
from .forms import EmailForm, PasswordSignInForm
from .models import AttemptKind

BACKEND = "django.contrib.auth.backends.ModelBackend"


def client_ip(request) -> str | None:
    # REMOTE_ADDR only: a forwarded-for header is whatever the sender typed.
    return request.META.get("REMOTE_ADDR") or None


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if ok and target.startswith("/portal/") else ""


def _signed_in(request, user):
    login(request, user, backend=BACKEND)
    request.session.set_expiry(actions.session_seconds())


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request):
    if request.user.is_authenticated:
        if access.is_staff(request.user):
            return redirect("desk:home")
        if access.contact_of(request.user) is not None:
            return redirect(_next(request) or "portal:home")
    form = EmailForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            address, ip = form.cleaned_data["email"], client_ip(request)
            if actions.over_limit(AttemptKind.LINK, address, ip):
                form.add_error(
                    None, "Too many sign-in links were asked for. Please wait 15 minutes."
                )
                status = 429
            else:
                actions.do_request_link(address, ip)
                request.session["portal_link_sent_to"] = address
                return redirect("portal:link_sent")
        else:
            status = 400
    return render(
        request,
        "portal/sign_in.html",
        {"form": form, "password_form": PasswordSignInForm(), "next": _next(request)},
        status=status,
    )


@never_cache
def link_sent(request):
    address = request.session.get("portal_link_sent_to")
    if not address:
        return redirect("portal:sign_in")
    return render(request, "portal/link_sent.html", {"address": address})


@never_cache
@require_POST
def password_sign_in(request):
    form = PasswordSignInForm(request.POST)
    status = 400
    if form.is_valid():
        address, ip = form.cleaned_data["email"], client_ip(request)
        if actions.over_limit(AttemptKind.PASSWORD, address, ip):
            form.add_error(None, "Too many wrong passwords. Please wait 15 minutes, or use a link.")
            status = 429
        else:
            user = authenticate(request, username=address, password=form.cleaned_data["password"])
            if user is not None and access.is_staff(user):
                form.add_error(None, "Agency staff sign in at the desk.")
            elif user is not None and access.contact_of(user) is not None:
                _signed_in(request, user)
                return redirect(_next(request) or "portal:home")
            else:
                actions.do_record_attempt(AttemptKind.PASSWORD, address, ip)
                form.add_error(
                    None,
                    "That email and password do not match. You can sign in with a link instead.",
                )
    return render(
        request,
        "portal/sign_in.html",
        {"form": EmailForm(), "password_form": form, "show_password": True, "next": _next(request)},
        status=status,
    )


def _link_page(request, secret: str, status: int = 200, **extra):
    response = render(request, "portal/link.html", {"secret": secret, **extra}, status=status)
    # The link is in this page's address: never pass it on to another site.
    # ("no-referrer" would also blank the Origin of the page's own form, which
    # the CSRF check then refuses.)
    response["Referrer-Policy"] = "same-origin"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def link(request, secret: str):
    """GET asks for a click, POST signs in: mail scanners that fetch links do not burn them."""
    found = actions.find_link(secret)
    if found is None or not found.usable():
        return _link_page(request, "", status=410, expired=True, form=EmailForm())
    if request.method == "GET":
        return _link_page(request, secret, contact=found.contact)
    try:
        user = actions.do_redeem_link(secret)
    except actions.SignInRefused as refused:
        return _link_page(request, "", status=403, refused=str(refused))
    if user is None:
        return _link_page(request, "", status=410, expired=True, form=EmailForm())
    _signed_in(request, user)
    messages.success(request, f"Welcome, {user.get_short_name()}. You are signed in.")
    return redirect("portal:home")


@require_POST
def sign_out(request):
    logout(request)
    messages.success(request, "You are signed out.")
    return redirect("portal:sign_in")
