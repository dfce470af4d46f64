"""Transfers of care in the API: referrals and their steps, through the pathways services."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from discharge.selectors import admissions_visible_to
from interop.api.etag import if_match_version, not_modified
from interop.api.fields import MomentField
from interop.api.views import ID_PATTERN, IF_MATCH, PERMISSIONS, ReadsLogged, _parsed, _tagged
from pathways import services
from pathways.models import Consent, Outcome, Referral, ReferralTransition
from pathways.selectors import referrals_visible_to, services_visible_to, with_referral_data
from pathways.transitions import Action


class TransitionSerializer(serializers.ModelSerializer):
    pathway = serializers.CharField(source="pathway_id", read_only=True, allow_null=True)
    outcome = serializers.CharField(read_only=True)
    from_state = serializers.CharField(read_only=True)

    class Meta:
        model = ReferralTransition
        fields = [
            "id",
            "action",
            "from_state",
            "to_state",
            "at",
            "note",
            "pathway",
            "service",
            "start_date",
            "outcome",
        ]
        read_only_fields = fields


class ReferralSerializer(serializers.ModelSerializer):
    pathway = serializers.CharField(source="pathway_id", read_only=True)
    outcome = serializers.CharField(
        read_only=True, help_text="An outcome code once ended; empty before."
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "admission",
            "pathway",
            "service",
            "state",
            "needs",
            "home_situation",
            "carers",
            "consent",
            "preferred_outcome",
            "created_at",
            "state_changed_at",
            "start_date",
            "first_visit_at",
            "care_started_at",
            "outcome",
            "version",
            "updated_at",
        ]
        read_only_fields = fields


class ReferralInput(serializers.Serializer):
    admission = serializers.IntegerField()
    pathway = serializers.CharField(max_length=1)
    needs = serializers.CharField(max_length=4000)
    home_situation = serializers.CharField(max_length=4000)
    carers = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    consent = serializers.ChoiceField(choices=Consent.choices)
    preferred_outcome = serializers.CharField(max_length=4000)


class TransitionInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=Action.choices)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    pathway = serializers.CharField(max_length=1, required=False, allow_null=True, default=None)
    service = serializers.IntegerField(required=False, allow_null=True, default=None)
    start_date = serializers.DateField(required=False, allow_null=True, default=None)
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, required=False, allow_blank=True, default=""
    )
    at = MomentField(required=False, allow_null=True, default=None)


class ReferralViewSet(
    ReadsLogged, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Referrals to the care transfer hub the caller may see; each step is a transition."""

    permission_classes = PERMISSIONS
    patient_of = "admission.patient_id"
    lookup_value_regex = ID_PATTERN
    serializer_class = ReferralSerializer
    queryset = Referral.objects.none()
    filterset_fields = ["state", "pathway", "admission"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Referral.objects.none()
        return with_referral_data(referrals_visible_to(self.request.user)).order_by("pk")

    def retrieve(self, request, *args, **kwargs):
        referral = self.get_object()
        if not_modified(request, referral):
            return _tagged(Response(status=status.HTTP_304_NOT_MODIFIED), referral)
        self.log_shown([referral])
        return _tagged(Response(self.get_serializer(referral).data), referral)

    @extend_schema(request=ReferralInput, responses={201: ReferralSerializer})
    def create(self, request, *args, **kwargs):
        """The ward refers a pathway 1-3 inpatient to the hub."""
        data = _parsed(ReferralInput, request)
        admission = admissions_visible_to(request.user).filter(pk=data.pop("admission")).first()
        if admission is None:
            raise ValidationError({"admission": "No such admission in your view."})
        referral = services.referral_create(admission=admission, by=request.user, **data)
        referral = self.get_queryset().get(pk=referral.pk)
        return _tagged(Response(ReferralSerializer(referral).data, status=201), referral)

    @extend_schema(methods=["GET"], responses=TransitionSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=TransitionInput,
        responses={201: ReferralSerializer},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def transitions(self, request, pk=None):
        """The referral's steps; POST takes the next one (If-Match with the referral's ETag)."""
        referral = get_object_or_404(self.get_queryset(), pk=pk)
        if request.method == "GET":
            self.log_shown([referral])
            steps = referral.transitions.all()
            return Response(TransitionSerializer(steps, many=True).data)
        version = if_match_version(request, referral, strict=True)
        data = _parsed(TransitionInput, request)
        service = None
        if data["service"] is not None:
            service = services_visible_to(request.user).filter(pk=data["service"]).first()
            if service is None:
                raise ValidationError({"service": "No such service."})
        services.referral_transition(
            referral=referral,
            by=request.user,
            action=data["action"],
            expected_version=version,
            note=data["note"],
            pathway=data["pathway"],
            service=service,
            start_date=data["start_date"],
            outcome=data["outcome"],
            at=data["at"],
        )
        referral = self.get_queryset().get(pk=referral.pk)
        return _tagged(Response(ReferralSerializer(referral).data, status=201), referral)
