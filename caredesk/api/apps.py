from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "caredesk.api"
    label = "api"
    verbose_name = "API"
