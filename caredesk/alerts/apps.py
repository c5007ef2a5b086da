from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "caredesk.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the incident signals
