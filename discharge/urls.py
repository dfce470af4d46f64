from django.urls import path

from discharge import views

app_name = "discharge"

urlpatterns = [
    path("wards/", views.site_overview, name="site_overview"),
    path("wards/<int:ward_id>/", views.board, name="board"),
    path("wards/<int:ward_id>/print/", views.board_print, name="board_print"),
    path("wards/<int:ward_id>/summary/", views.board_summary_partial, name="board_summary"),
    path("admissions/<int:admission_id>/row/", views.row, name="row"),
    path("admissions/<int:admission_id>/ctr/", views.row_ctr, name="row_ctr"),
    path("admissions/<int:admission_id>/edd/", views.row_edd, name="row_edd"),
    path("admissions/<int:admission_id>/pathway/", views.row_pathway, name="row_pathway"),
    path("admissions/<int:admission_id>/delay/", views.row_delay, name="row_delay"),
    path("admissions/<int:admission_id>/discharge/", views.row_discharge, name="row_discharge"),
    path("patients/<int:patient_id>/", views.patient_detail, name="patient"),
]
