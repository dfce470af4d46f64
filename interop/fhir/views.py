"""FHIR R4 reads: single resources and a Bundle per patient, scoped by the same selectors (404 otherwise)."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.views import APIView

from discharge.models import WardStay
from discharge.record_views import log_shown
from discharge.selectors import admissions_visible_to, patients_visible_to
from interop.auth import HasScope
from interop.fhir import export
from pathways.selectors import referrals_visible_to, with_referral_data
from recovery_plans.models import Goal
from recovery_plans.selectors import plans_visible_to

FHIR_JSON = "application/fhir+json"


def _fhir(resource: dict) -> JsonResponse:
    return JsonResponse(resource, content_type=FHIR_JSON, json_dumps_params={"ensure_ascii": False})


def _admissions(user):
    return admissions_visible_to(user).select_related("site__organisation").order_by("admitted_at")


def _plans(user):
    return plans_visible_to(user).prefetch_related(
        "goals", "actions__owner_organisation", "sections"
    )


class _FhirView(APIView):
    permission_classes = [permissions.IsAuthenticated, HasScope]

    def _log_view(self, request, patient_id: int) -> None:
        # Reading a patient's record through FHIR is viewing it, and is logged like the page.
        log_shown(request, [patient_id])


@extend_schema(responses={(200, FHIR_JSON): OpenApiTypes.OBJECT}, summary="FHIR Patient")
class PatientView(_FhirView):
    def get(self, request, pk: int):
        patient = get_object_or_404(patients_visible_to(request.user), pk=pk)
        self._log_view(request, patient.pk)
        return _fhir(export.patient_resource(patient))


@extend_schema(responses={(200, FHIR_JSON): OpenApiTypes.OBJECT}, summary="FHIR Encounter")
class EncounterView(_FhirView):
    def get(self, request, pk: int):
        admission = get_object_or_404(_admissions(request.user), pk=pk)
        self._log_view(request, admission.patient_id)
        stays = WardStay.objects.filter(admission=admission).select_related("ward")
        return _fhir(export.encounter_resource(admission, stays))


@extend_schema(responses={(200, FHIR_JSON): OpenApiTypes.OBJECT}, summary="FHIR CarePlan")
class CarePlanView(_FhirView):
    def get(self, request, pk: int):
        plan = get_object_or_404(_plans(request.user), pk=pk)
        self._log_view(request, plan.patient_id)
        return _fhir(export.care_plan_resource(plan))


@extend_schema(responses={(200, FHIR_JSON): OpenApiTypes.OBJECT}, summary="FHIR Goal")
class GoalView(_FhirView):
    def get(self, request, pk: int):
        goal = get_object_or_404(
            Goal.objects.filter(
                plan__in=plans_visible_to(request.user).values("pk")
            ).select_related("plan"),
            pk=pk,
        )
        self._log_view(request, goal.plan.patient_id)
        return _fhir(export.goal_resource(goal, goal.plan.patient_id))


def _referrals(user):
    return (
        with_referral_data(referrals_visible_to(user))
        .select_related("admission__site__organisation", "service__provider")
        .prefetch_related("transitions")
    )


@extend_schema(responses={(200, FHIR_JSON): OpenApiTypes.OBJECT}, summary="FHIR EpisodeOfCare")
class EpisodeOfCareView(_FhirView):
    def get(self, request, pk: int):
        referral = get_object_or_404(_referrals(request.user), pk=pk)
        self._log_view(request, referral.admission.patient_id)
        return _fhir(export.episode_of_care_resource(referral))


@extend_schema(
    responses={(200, FHIR_JSON): OpenApiTypes.OBJECT},
    summary="FHIR Bundle of everything about a patient the caller may see",
)
class PatientEverythingView(_FhirView):
    def get(self, request, pk: int):
        patient = get_object_or_404(patients_visible_to(request.user), pk=pk)
        self._log_view(request, patient.pk)
        base = request.build_absolute_uri("/api/v1/fhir/")
        entries = [(f"{base}Patient/{patient.pk}", export.patient_resource(patient))]
        admissions = (
            _admissions(request.user).filter(patient=patient).prefetch_related("ward_stays__ward")
        )
        entries += [
            (f"{base}Encounter/{a.pk}", export.encounter_resource(a, a.ward_stays.all()))
            for a in admissions
        ]
        entries += [
            (f"{base}EpisodeOfCare/{r.pk}", export.episode_of_care_resource(r))
            for r in _referrals(request.user).filter(admission__patient=patient)
        ]
        for plan in _plans(request.user).filter(patient=patient):
            entries.append((f"{base}CarePlan/{plan.pk}", export.care_plan_resource(plan)))
            entries += [
                (f"{base}Goal/{g.pk}", export.goal_resource(g, patient.pk))
                for g in plan.goals.all()
            ]
        return _fhir(export.bundle(entries))
