from django.contrib import admin
from django.urls import include, path

from caredesk.api import heartbeat
from caredesk.api.urls import api
from caredesk.ops.admin_views import import_csv_view

admin.site.site_header = "caredesk administration"
admin.site.site_title = "caredesk"
admin.site.index_title = "Configuration"

urlpatterns = [
    path("admin/import/<str:kind>/", import_csv_view, name="import_csv"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("heartbeat/<str:token>/", heartbeat.ping, name="heartbeat"),
    path("mail/inbound/", include("caredesk.mail.webhook_urls")),
    path("kb/", include("caredesk.kb.urls")),
    path("portal/", include("caredesk.portal.urls")),
    path("reports/", include("caredesk.reports.urls")),
    path("status/", include("caredesk.portal.status_urls")),
    path("", include("caredesk.widget.urls")),
    path("", include("caredesk.desk.urls")),
]
