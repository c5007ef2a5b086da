from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "caredesk.widget"
    label = "widget"
    verbose_name = "Site widget"
