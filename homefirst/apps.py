from django.apps import AppConfig


class HomefirstConfig(AppConfig):
    name = "homefirst"
    verbose_name = "Organisations and people"
