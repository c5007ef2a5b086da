from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render

from caredesk.clients import access
from caredesk.clients.models import Organisation


class LoginView(auth_views.LoginView):
    template_name = "desk/login.html"
    redirect_authenticated_user = True


@login_required
def home(request):
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
