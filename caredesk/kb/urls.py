from django.urls import path

from . import views

app_name = "kb"
urlpatterns = [
    path("", views.index, name="index"),
    path("search", views.search_view, name="search"),
    path("suggest", views.suggest, name="suggest"),
    path("category/<slug:slug>/", views.category, name="category"),
    path("articles/<slug:slug>/", views.article, name="article"),
    path("articles/<slug:slug>/feedback", views.feedback, name="feedback"),
    path("staff/lookup", views.staff_lookup, name="staff_lookup"),
    path("staff/stats", views.staff_stats, name="staff_stats"),
]
