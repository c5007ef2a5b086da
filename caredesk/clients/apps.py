from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "caredesk.clients"
    label = "clients"
    verbose_name = "Clients and sites"
