from django.urls import path

from .status import status_page

app_name = "status"
urlpatterns = [path("<slug:key>/", status_page, name="page")]
