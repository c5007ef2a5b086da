from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "caredesk.plans"
    label = "plans"
    verbose_name = "Plans and subscriptions"
