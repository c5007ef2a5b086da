from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "caredesk.kb"
    label = "kb"
    verbose_name = "Knowledge base"
