from django.contrib.auth import views as auth_views
from django.urls import path

from . import tickets, time, views

app_name = "desk"
urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", views.clients, name="clients"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("attachments/<int:pk>/<str:name>", views.attachment, name="attachment"),
    path("tickets/", tickets.queue_view, name="queue"),
    path("tickets/<int:number>/", tickets.ticket_view, name="ticket"),
    path("tickets/<int:number>/reply", tickets.reply, name="reply"),
    path("tickets/<int:number>/properties", tickets.properties, name="properties"),
    path("tickets/<int:number>/time", time.log_time, name="log_time"),
    path("tickets/<int:number>/timer", time.timer, name="timer"),
]
