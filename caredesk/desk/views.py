from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from caredesk.clients import access
from caredesk.clients.models import Organisation
from caredesk.tickets.access import attachments_for

from .dashboard import dashboard

# Shown in the browser only when they cannot carry script; anything else downloads.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


class LoginView(auth_views.LoginView):
    template_name = "desk/login.html"
    redirect_authenticated_user = True


@login_required
def home(request):
    """Staff start at the dashboard; a client contact sees its organisation."""
    if access.is_staff(request.user):
        return dashboard(request)
    return clients(request)


@login_required
def clients(request):
    organisations = (
        access.organisations_for(request.user)
        .filter(is_active=True)
        .annotate(
            site_count=Count("sites", filter=Q(sites__is_active=True), distinct=True),
            contact_count=Count("contacts", filter=Q(contacts__is_active=True), distinct=True),
        )
        .select_related("account_manager")
    )
    return render(
        request,
        "desk/home.html",
        {
            "organisations": organisations,
            "is_staff": access.is_staff(request.user),
            "mine": organisations.filter(account_manager=request.user)
            if access.is_staff(request.user)
            else Organisation.objects.none(),
        },
    )


@require_GET
@login_required
def attachment(request, pk: int, name: str):
    """A file from a ticket, to those who may see the ticket (others get 404, as if absent)."""
    item = attachments_for(request.user).filter(pk=pk).first()
    if item is None:
        raise Http404("No such file")
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage") from None
    inline = item.content_type in INLINE_TYPES
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=item.filename,
        content_type=item.content_type if inline else "application/octet-stream",
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
