"""The project's URLs with the reports pages where caredesk/urls.py will put them."""

from django.urls import include, path

from caredesk.urls import urlpatterns as project

urlpatterns = [path("reports/", include("caredesk.reports.urls")), *project]
