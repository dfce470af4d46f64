from django.urls import path  # noqa: F401

app_name = "recovery_plans"

urlpatterns: list = []
