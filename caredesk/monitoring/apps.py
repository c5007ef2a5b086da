from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "caredesk.monitoring"
    label = "monitoring"
    verbose_name = "Uptime monitoring"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the Site receiver
