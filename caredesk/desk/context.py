from django.conf import settings


def branding(request):
    return {"agency_name": settings.CAREDESK_AGENCY_NAME}
