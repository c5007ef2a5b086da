from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "caredesk.monitoring"
    label = "monitoring"
    verbose_name = "Uptime monitoring"
