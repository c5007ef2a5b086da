from django.contrib.auth import views as auth_views
from django.urls import path

from . import canned_views, clients, monitors, restore, sites, tickets, time, views

app_name = "desk"
urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", views.clients, name="clients"),
    path("clients/<int:pk>/", clients.client, name="client"),
    path("sites/<int:pk>/", sites.site, name="site"),
    path("monitors/", monitors.monitors_view, name="monitors"),
    path("canned/", canned_views.canned_list, name="canned"),
    path("canned/new", canned_views.canned_edit, name="canned_new"),
    path("canned/<int:pk>/", canned_views.canned_edit, name="canned_edit"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("attachments/<int:pk>/<str:name>", views.attachment, name="attachment"),
    path("tickets/", tickets.queue_view, name="queue"),
    path("tickets/bulk", tickets.bulk, name="bulk"),
    path("tickets/<int:number>/", tickets.ticket_view, name="ticket"),
    path("tickets/<int:number>/reply", tickets.reply, name="reply"),
    path("tickets/<int:number>/properties", tickets.properties, name="properties"),
    path("tickets/<int:number>/canned", tickets.insert_canned, name="insert_canned"),
    path("tickets/<int:number>/presence", tickets.heartbeat, name="heartbeat"),
    path("tickets/<int:number>/time", time.log_time, name="log_time"),
    path("tickets/<int:number>/timer", time.timer, name="timer"),
    path("tickets/<int:number>/restore", restore.restore_backup, name="restore_backup"),
]
