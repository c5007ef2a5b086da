from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "caredesk.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from . import upkeep  # noqa: F401, I001 - maintenance signals to tickets, monitors' check
        from . import receivers  # noqa: F401 - connects the incident signals
