"""The hub queue's filters (django-filter): pathway, service, council and stage."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet

from homefirst.forms import NhsFormMixin
from homefirst.models import Organisation
from pathways.models import REFERRAL_PATHWAYS, Referral, Service
from pathways.transitions import WAITING_STATES, State

STAGE_CHOICES = [(s.value, s.label) for s in (*WAITING_STATES, State.STARTED)]


class HubQueueForm(NhsFormMixin, forms.Form):
    """The filter form, in the design system's classes."""


class HubQueueFilter(django_filters.FilterSet):
    """Narrow the queue; values that are not offered are ignored, not an error page."""

    pathway = django_filters.ChoiceFilter(
        field_name="pathway_id",
        label="Pathway",
        choices=[(code, f"Pathway {code}") for code in REFERRAL_PATHWAYS],
        empty_label="Any pathway",
    )
    service = django_filters.ModelChoiceFilter(
        label="Service", queryset=Service.objects.none(), empty_label="Any service"
    )
    council = django_filters.ModelChoiceFilter(
        field_name="admission__patient__local_authority",
        label="Council",
        queryset=Organisation.objects.filter(kind=Organisation.Kind.LOCAL_AUTHORITY),
        empty_label="Any council",
    )
    stage = django_filters.ChoiceFilter(
        field_name="state",
        label="Stage",
        choices=STAGE_CHOICES,
        empty_label="Waiting (every stage before the service starts)",
    )

    class Meta:
        model = Referral
        fields: list[str] = []
        form = HubQueueForm

    def __init__(self, data=None, queryset=None, *, services: QuerySet[Service], **kwargs) -> None:
        super().__init__(data, queryset, **kwargs)
        self.filters["service"].queryset = services.order_by("name")
