from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "caredesk.mail"
    label = "mail"
    verbose_name = "Email"

    def ready(self) -> None:
        from . import outbound  # noqa: F401 - connects the ticket event receivers
