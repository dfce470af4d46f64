from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.index, name="index"),
    path("status/", views.status, name="status"),
    path("export.<str:fmt>", views.export, name="export"),
    path("sitrep.<str:fmt>", views.sitrep, name="sitrep"),
    path("drd-timeliness.<str:fmt>", views.drd_timeliness, name="drd_timeliness"),
]
