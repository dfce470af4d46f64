"""Query filters for the API's lists (django-filter): shape only, applied to scoped querysets."""

from __future__ import annotations

import django_filters

from discharge.models import Admission, Patient
from interop.api.fields import MomentFilter
from recovery_plans.models import RecoveryPlan


class PatientFilter(django_filters.FilterSet):
    nhs_number = django_filters.CharFilter()
    family_name = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Patient
        fields = ["nhs_number", "family_name"]


class AdmissionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Admission.Status.choices)
    ward = django_filters.NumberFilter(field_name="current_ward_id")
    site = django_filters.CharFilter(field_name="site__code")
    nhs_number = django_filters.CharFilter(field_name="patient__nhs_number")
    admitted_after = MomentFilter(field_name="admitted_at", lookup_expr="gte")
    admitted_before = MomentFilter(field_name="admitted_at", lookup_expr="lt")

    class Meta:
        model = Admission
        fields = ["status", "ward", "site", "nhs_number", "admitted_after", "admitted_before"]


class PlanFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RecoveryPlan.Status.choices)
    patient = django_filters.NumberFilter(field_name="patient_id")

    class Meta:
        model = RecoveryPlan
        fields = ["status", "patient"]
