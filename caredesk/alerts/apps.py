from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "caredesk.alerts"
    label = "alerts"
    verbose_name = "Alerts"
