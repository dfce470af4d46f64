from django.urls import path

from recovery_plans import views

app_name = "recovery_plans"

urlpatterns = [
    path("start/<int:patient_id>/", views.plan_start, name="start"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation"),
    path("<int:plan_id>/", views.plan_detail, name="plan"),
    path("<int:plan_id>/print/", views.plan_print, name="print"),
    path("<int:plan_id>/history/", views.plan_history, name="history"),
    path("<int:plan_id>/close/", views.plan_close, name="close"),
    path("<int:plan_id>/people/", views.people, name="people"),
    path("<int:plan_id>/poll/", views.poll, name="poll"),
    path("<int:plan_id>/sections/<str:key>/", views.section, name="section"),
    path("<int:plan_id>/sections/<str:key>/edit/", views.section_edit, name="section_edit"),
    path("<int:plan_id>/sections/<str:key>/comments/", views.comment_add, name="comment"),
    path("<int:plan_id>/sections/<str:key>/presence/", views.presence, name="presence"),
    path("<int:plan_id>/lists/<str:kind>/add/", views.item_add, name="item_add"),
    path("<int:plan_id>/lists/<str:kind>/<int:item_id>/edit/", views.item_edit, name="item_edit"),
    path("<int:plan_id>/goals/<int:goal_id>/notes/", views.progress_note_add, name="progress_note"),
]
