"""Shapes of the API's records and inputs: types and formats only, never the rules."""

from __future__ import annotations

from rest_framework import serializers

from discharge.models import (
    Admission,
    CtrReview,
    DelayEpisode,
    DischargeDestination,
    ExpectedDischargeDateChange,
    Patient,
    PlannedPathwayChange,
    WardStay,
)
from homefirst.models import Ward
from interop.api.fields import MomentField
from recovery_plans.models import Action, Goal, PlanSection, RecoveryPlan


class WardSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code", read_only=True)

    class Meta:
        model = Ward
        fields = ["id", "code", "name", "site", "specialty", "bed_count"]


class PatientSerializer(serializers.ModelSerializer):
    local_authority = serializers.CharField(source="local_authority.ods_code", read_only=True)

    class Meta:
        model = Patient
        fields = [
            "id",
            "nhs_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "postcode",
            "local_authority",
            "gp_practice_code",
            "lives_alone",
        ]


class WardStaySerializer(serializers.ModelSerializer):
    class Meta:
        model = WardStay
        fields = ["id", "ward", "bed_label", "started_at", "ended_at"]


class AdmissionSerializer(serializers.ModelSerializer):
    patient = PatientSerializer(read_only=True)
    ward = serializers.PrimaryKeyRelatedField(source="current_ward", read_only=True)
    site = serializers.CharField(source="site.code", read_only=True)
    planned_pathway = serializers.CharField(
        source="planned_pathway_id", read_only=True, allow_null=True
    )
    actual_pathway = serializers.CharField(
        source="actual_pathway_id", read_only=True, allow_null=True
    )
    discharge_destination = serializers.CharField(
        read_only=True,
        help_text="Where the patient went (a discharge destination code); empty while in hospital.",
    )

    class Meta:
        model = Admission
        fields = [
            "id",
            "patient",
            "site",
            "ward",
            "bed_label",
            "method",
            "specialty",
            "status",
            "admitted_at",
            "discharged_at",
            "discharge_destination",
            "planned_pathway",
            "actual_pathway",
            "expected_discharge_date",
            "discharge_ready_date",
            "version",
            "updated_at",
        ]
        read_only_fields = fields


class CtrReviewSerializer(serializers.ModelSerializer):
    criteria = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = CtrReview
        fields = [
            "id",
            "reviewed_at",
            "review_date",
            "meets",
            "criteria",
            "exception_reason",
            "note",
        ]


class EddChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExpectedDischargeDateChange
        fields = ["id", "expected_discharge_date", "changed_at"]


class PathwayChangeSerializer(serializers.ModelSerializer):
    pathway = serializers.CharField(source="pathway_id", read_only=True)

    class Meta:
        model = PlannedPathwayChange
        fields = ["id", "pathway", "changed_at"]


class DelaySerializer(serializers.ModelSerializer):
    reason = serializers.CharField(source="reason_id", read_only=True)
    responsible_organisation = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = DelayEpisode
        fields = ["id", "reason", "responsible_organisation", "started_at", "ended_at"]


# --- Inputs -----------------------------------------------------------------------------------


class PatientInput(serializers.Serializer):
    """Register a patient; the NHS number is checked by the service (Modulus 11)."""

    nhs_number = serializers.CharField(max_length=20)
    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=Patient.Sex.choices, default=Patient.Sex.UNKNOWN)
    local_authority = serializers.CharField(max_length=10, help_text="ODS code of the council.")
    postcode = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    gp_practice_code = serializers.CharField(
        max_length=10, required=False, allow_blank=True, default=""
    )
    lives_alone = serializers.BooleanField(required=False, default=False)
    unpaid_carer = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    communication_needs = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )


class AdmitInput(serializers.Serializer):
    nhs_number = serializers.CharField(max_length=20)
    ward = serializers.IntegerField()
    admitted_at = MomentField()
    bed_label = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    method = serializers.ChoiceField(
        choices=Admission.Method.choices, default=Admission.Method.EMERGENCY
    )
    specialty = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class TransferInput(serializers.Serializer):
    ward = serializers.IntegerField()
    bed_label = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    moved_at = MomentField(required=False)


class ReviewInput(serializers.Serializer):
    criteria = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, default=list
    )
    exception_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class EddInput(serializers.Serializer):
    expected_discharge_date = serializers.DateField()


class PathwayInput(serializers.Serializer):
    pathway = serializers.CharField(max_length=1)


class DelayInput(serializers.Serializer):
    reason = serializers.CharField(max_length=5)
    responsible_organisation = serializers.IntegerField(required=False, allow_null=True)


class DischargeInput(serializers.Serializer):
    discharged_at = MomentField()
    destination = serializers.ChoiceField(choices=DischargeDestination.choices)
    actual_pathway = serializers.CharField(
        max_length=1, required=False, allow_null=True, default=None
    )


# --- Recovery plans ---------------------------------------------------------------------------


class GoalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Goal
        fields = [
            "id",
            "plan",
            "description",
            "measure",
            "target_date",
            "status",
            "version",
            "updated_at",
        ]
        read_only_fields = ["id", "plan", "version", "updated_at"]


class ActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Action
        fields = [
            "id",
            "plan",
            "what",
            "owner_organisation",
            "owner_person",
            "due_date",
            "status",
            "done_at",
            "version",
            "updated_at",
        ]
        read_only_fields = ["id", "plan", "done_at", "version", "updated_at"]


class SectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanSection
        fields = ["key", "content", "version", "updated_at"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    sections = SectionSerializer(many=True, read_only=True)
    goals = GoalSerializer(many=True, read_only=True)
    actions = ActionSerializer(many=True, read_only=True)
    outcome = serializers.CharField(
        read_only=True, help_text="How the plan ended (a plan outcome code); empty while active."
    )

    class Meta:
        model = RecoveryPlan
        fields = [
            "id",
            "patient",
            "status",
            "started_at",
            "closed_at",
            "outcome",
            "revision",
            "sections",
            "goals",
            "actions",
        ]
        read_only_fields = fields


class GoalInput(serializers.Serializer):
    description = serializers.CharField(max_length=4000)
    measure = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    target_date = serializers.DateField(required=False, allow_null=True, default=None)


class GoalUpdateInput(serializers.Serializer):
    description = serializers.CharField(max_length=4000, required=False)
    measure = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    target_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=Goal.Status.choices, required=False)


class ActionInput(serializers.Serializer):
    what = serializers.CharField(max_length=4000)
    owner_organisation = serializers.IntegerField()
    owner_person = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    due_date = serializers.DateField()


class ActionUpdateInput(serializers.Serializer):
    what = serializers.CharField(max_length=4000, required=False)
    owner_organisation = serializers.IntegerField(required=False)
    owner_person = serializers.CharField(max_length=200, required=False, allow_blank=True)
    due_date = serializers.DateField(required=False)
    status = serializers.ChoiceField(choices=Action.Status.choices, required=False)


class SectionUpdateInput(serializers.Serializer):
    content = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=4000))
