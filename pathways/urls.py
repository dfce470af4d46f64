from django.urls import path

from pathways import views

app_name = "pathways"

urlpatterns = [
    path("hub/", views.hub_queue, name="hub_queue"),
    path("hub/rows/", views.hub_queue_rows, name="hub_queue_rows"),
    path("tracker/", views.tracker, name="tracker"),
    path("tracker/<int:referral_id>/<slug:action>/", views.tracker_step, name="tracker_step"),
    path("capacity/", views.capacity, name="capacity"),
    path("services/<int:service_id>/capacity/", views.service_capacity, name="service_capacity"),
    path("checks/", views.at_home_checks, name="at_home_checks"),
    path("admissions/<int:admission_id>/refer/", views.refer, name="refer"),
    path(
        "admissions/<int:admission_id>/referrals/",
        views.admission_referrals,
        name="admission_referrals",
    ),
    path(
        "admissions/<int:admission_id>/delay/",
        views.board_delay_confirm,
        name="board_delay_confirm",
    ),
    path(
        "wards/<int:ward_id>/referrals/",
        views.ward_referral_statuses,
        name="ward_referral_statuses",
    ),
    path("referrals/<int:referral_id>/", views.referral, name="referral"),
    path("referrals/<int:referral_id>/status/", views.referral_status, name="referral_status"),
    path(
        "referrals/<int:referral_id>/steps/<slug:action>/",
        views.referral_step,
        name="referral_step",
    ),
    path("referrals/<int:referral_id>/delay/", views.referral_delay, name="referral_delay"),
    path("referrals/<int:referral_id>/at-home/", views.at_home_record, name="at_home_record"),
]
