from django.urls import path

from . import views

app_name = "widget"
urlpatterns = [
    path("widget.js", views.widget_js, name="script"),
]
