"""The API, version 1: records, HL7 in, FHIR out, the OpenAPI schema and its documentation."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, register_converter
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from interop.api import views
from interop.api.dashboards import DailyFiguresView
from interop.api.hl7 import Hl7MessageView
from interop.api.referrals import ReferralViewSet
from interop.fhir import views as fhir


class IdConverter:
    """A database id: digits that fit a bigint (longer is not found, not a server error)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")

router = DefaultRouter()
# JSON only, as the schema documents: ``.json`` suffix URLs reached the custom actions with a
# ``format`` argument they do not take (a server error), and gave nothing the plain URLs do not.
router.include_format_suffixes = False
router.register("wards", views.WardViewSet, basename="ward")
router.register("patients", views.PatientViewSet, basename="patient")
router.register("admissions", views.AdmissionViewSet, basename="admission")
router.register("plans", views.PlanViewSet, basename="plan")
router.register("goals", views.GoalViewSet, basename="goal")
router.register("actions", views.ActionViewSet, basename="action")
router.register("referrals", ReferralViewSet, basename="referral")


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar's static files, its start-up script loaded from a URL (strict CSP)."""

    template_name = "interop/swagger_ui.html"


def _open(view):
    """Let DRF answer: token clients have no session, so the sign-in redirect must not apply."""
    return login_not_required(view)


fhir_patterns = [
    path("Patient/<id:pk>", _open(fhir.PatientView.as_view()), name="fhir-patient"),
    path(
        "Patient/<id:pk>/$everything",
        _open(fhir.PatientEverythingView.as_view()),
        name="fhir-patient-everything",
    ),
    path("Encounter/<id:pk>", _open(fhir.EncounterView.as_view()), name="fhir-encounter"),
    path("CarePlan/<id:pk>", _open(fhir.CarePlanView.as_view()), name="fhir-careplan"),
    path("Goal/<id:pk>", _open(fhir.GoalView.as_view()), name="fhir-goal"),
    path(
        "EpisodeOfCare/<id:pk>",
        _open(fhir.EpisodeOfCareView.as_view()),
        name="fhir-episodeofcare",
    ),
]

app_name = "api"
urlpatterns = [
    *[type(p)(p.pattern, _open(p.callback), p.default_args, p.name) for p in router.urls],
    path("hl7/messages/", _open(Hl7MessageView.as_view()), name="hl7-message"),
    path("dashboards/daily/", _open(DailyFiguresView.as_view()), name="dashboard-daily"),
    path("fhir/", include(fhir_patterns)),
    path("schema/", _open(SpectacularAPIView.as_view()), name="schema"),
    path("docs/", _open(SwaggerView.as_view(url_name="api:schema")), name="docs"),
]
