"""The REST API: parse, call the same selectors and services as the pages, render."""

from __future__ import annotations

from operator import attrgetter

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from discharge import nhs_number
from discharge import services as discharge
from discharge.models import Admission, CtrReview, Patient
from discharge.record_views import log_shown
from discharge.selectors import admissions_editable_by, admissions_visible_to, patients_visible_to
from homefirst.models import Organisation, Ward
from homefirst.selectors import wards_visible_to
from interop.api import filters
from interop.api import serializers as s
from interop.api.etag import etag_for, if_match_version, not_modified
from interop.auth import HasScope
from recovery_plans import services as plans
from recovery_plans.models import Action, Goal, PlanSection, RecoveryPlan
from recovery_plans.selectors import plans_visible_to

PERMISSIONS = [permissions.IsAuthenticated, HasScope]
# Ids are database integers: anything else (or too long for bigint) is simply not found.
ID_PATTERN = r"[0-9]{1,18}"
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag read from the record (428 without it, 412 when stale).",
)


def _tagged(response: Response, obj) -> Response:
    response["ETag"] = etag_for(obj)
    return response


def _parsed(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ReadsLogged:
    """Reading people's records through the API is viewing them: logged like the pages.

    A list logs the patients on the page it answers with, in one insert; a read of one record
    (or of its history) calls ``log_shown``. ``patient_of`` is the path from a record to its
    patient's id, already loaded by ``get_queryset``.
    """

    patient_of = "patient_id"

    def log_shown(self, records) -> None:
        patient_id = attrgetter(self.patient_of)
        log_shown(self.request, (patient_id(r) for r in records))

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            self.log_shown(page)
        return page


class WardViewSet(viewsets.ReadOnlyModelViewSet):
    """Wards whose boards the caller may open."""

    permission_classes = PERMISSIONS
    lookup_value_regex = ID_PATTERN
    serializer_class = s.WardSerializer

    queryset = Ward.objects.none()  # the schema's model; requests use get_queryset

    def get_queryset(self):
        return wards_visible_to(self.request.user).select_related("site").order_by("pk")


class PatientViewSet(ReadsLogged, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Patients with a stay the caller may see; ward staff register new ones."""

    permission_classes = PERMISSIONS
    lookup_value_regex = ID_PATTERN
    serializer_class = s.PatientSerializer
    filterset_class = filters.PatientFilter
    patient_of = "pk"

    queryset = Patient.objects.none()

    def retrieve(self, request, *args, **kwargs):
        patient = self.get_object()
        self.log_shown([patient])
        return Response(self.get_serializer(patient).data)

    def get_queryset(self):
        return (
            patients_visible_to(self.request.user).select_related("local_authority").order_by("pk")
        )

    @extend_schema(request=s.PatientInput, responses={201: s.PatientSerializer})
    def create(self, request, *args, **kwargs):
        """Register a patient under a valid NHS number, ready to be admitted."""
        if not wards_visible_to(request.user).exists():
            raise PermissionDenied("Only ward staff register patients.")
        data = dict(_parsed(s.PatientInput, request))
        council = Organisation.objects.filter(
            ods_code=data.pop("local_authority"), kind=Organisation.Kind.LOCAL_AUTHORITY
        ).first()
        if council is None:
            raise ValidationError({"local_authority": "No council with this ODS code."})
        patient = discharge.patient_create(
            nhs_number_input=data.pop("nhs_number"),
            local_authority=council,
            by=request.user,
            **data,
        )
        return Response(s.PatientSerializer(patient).data, status=status.HTTP_201_CREATED)


class AdmissionViewSet(
    ReadsLogged, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Hospital stays, and the ward's record of discharge readiness on each."""

    permission_classes = PERMISSIONS
    lookup_value_regex = ID_PATTERN
    serializer_class = s.AdmissionSerializer
    filterset_class = filters.AdmissionFilter

    queryset = Admission.objects.none()

    def get_queryset(self):
        return (
            admissions_visible_to(self.request.user)
            .select_related("patient__local_authority", "site")
            .order_by("pk")
        )

    def _editable(self, pk) -> Admission:
        """The admission to change: 404 if out of sight, 403 if seen but not the caller's to edit."""
        admission = get_object_or_404(self.get_queryset(), pk=pk)
        if not admissions_editable_by(self.request.user).filter(pk=admission.pk).exists():
            raise PermissionDenied("Only ward staff of the admitting trust can change this stay.")
        return admission

    def _changed(self, admission: Admission, code: int = status.HTTP_200_OK) -> Response:
        admission = self.get_queryset().get(pk=admission.pk)
        return _tagged(Response(s.AdmissionSerializer(admission).data, status=code), admission)

    def retrieve(self, request, *args, **kwargs):
        admission = self.get_object()
        if not_modified(request, admission):
            return _tagged(Response(status=status.HTTP_304_NOT_MODIFIED), admission)
        self.log_shown([admission])
        return _tagged(Response(self.get_serializer(admission).data), admission)

    @extend_schema(request=s.AdmitInput, responses={201: s.AdmissionSerializer})
    def create(self, request, *args, **kwargs):
        """Admit a patient (by NHS number) to one of the caller's wards."""
        data = _parsed(s.AdmitInput, request)
        ward = wards_visible_to(request.user).filter(pk=data["ward"]).first()
        if ward is None:
            raise ValidationError({"ward": "No such ward on your boards."})
        try:
            digits = nhs_number.normalise(data["nhs_number"])
        except ValidationError as error:
            raise ValidationError({"nhs_number": error.messages}) from error
        patient = Patient.objects.filter(nhs_number=digits).first()
        if patient is None:
            raise ValidationError({"nhs_number": "No patient with this NHS number is registered."})
        admission = discharge.admission_admit(
            patient=patient,
            ward=ward,
            admitted_at=data["admitted_at"],
            by=request.user,
            bed_label=data["bed_label"],
            method=data["method"],
            specialty=data["specialty"],
        )
        return self._changed(admission, status.HTTP_201_CREATED)

    @extend_schema(request=s.TransferInput, responses=s.AdmissionSerializer, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        """Move the patient to another ward or bed."""
        admission = self._editable(pk)
        version = if_match_version(request, admission, strict=True)
        data = _parsed(s.TransferInput, request)
        ward = wards_visible_to(request.user).filter(pk=data["ward"]).first()
        if ward is None:
            raise ValidationError({"ward": "No such ward on your boards."})
        discharge.admission_transfer(
            admission=admission,
            ward=ward,
            by=request.user,
            moved_at=data.get("moved_at"),
            bed_label=data["bed_label"],
            expected_version=version,
        )
        return self._changed(admission)

    @extend_schema(methods=["GET"], responses=s.CtrReviewSerializer(many=True), parameters=[])
    @extend_schema(
        methods=["POST"],
        request=s.ReviewInput,
        responses={201: s.AdmissionSerializer},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def reviews(self, request, pk=None):
        """Criteria-to-reside reviews: every one kept; a new one may move the discharge ready date."""
        if request.method == "GET":
            admission = get_object_or_404(self.get_queryset(), pk=pk)
            self.log_shown([admission])
            reviews = CtrReview.objects.filter(admission=admission).prefetch_related("criteria")
            return Response(s.CtrReviewSerializer(reviews, many=True).data)
        admission = self._editable(pk)
        version = if_match_version(request, admission, strict=True)
        data = _parsed(s.ReviewInput, request)
        discharge.ctr_review_record(
            admission=admission, by=request.user, expected_version=version, **data
        )
        return self._changed(admission, status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=s.EddChangeSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=s.EddInput, responses=s.AdmissionSerializer, parameters=[IF_MATCH]
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def edd(self, request, pk=None):
        """The expected date of discharge and every earlier value."""
        if request.method == "GET":
            admission = get_object_or_404(self.get_queryset(), pk=pk)
            self.log_shown([admission])
            return Response(s.EddChangeSerializer(admission.edd_changes.all(), many=True).data)
        admission = self._editable(pk)
        version = if_match_version(request, admission, strict=True)
        data = _parsed(s.EddInput, request)
        discharge.edd_set(admission=admission, by=request.user, expected_version=version, **data)
        return self._changed(admission)

    @extend_schema(methods=["GET"], responses=s.PathwayChangeSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=s.PathwayInput,
        responses=s.AdmissionSerializer,
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def pathway(self, request, pk=None):
        """The planned discharge pathway and its history."""
        if request.method == "GET":
            admission = get_object_or_404(self.get_queryset(), pk=pk)
            self.log_shown([admission])
            return Response(
                s.PathwayChangeSerializer(admission.pathway_changes.all(), many=True).data
            )
        admission = self._editable(pk)
        version = if_match_version(request, admission, strict=True)
        data = _parsed(s.PathwayInput, request)
        discharge.planned_pathway_set(
            admission=admission, by=request.user, expected_version=version, **data
        )
        return self._changed(admission)

    @extend_schema(methods=["GET"], responses=s.DelaySerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=s.DelayInput,
        responses={201: s.AdmissionSerializer},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def delays(self, request, pk=None):
        """Delay episodes: why a patient ready to leave is still here."""
        if request.method == "GET":
            admission = get_object_or_404(self.get_queryset(), pk=pk)
            self.log_shown([admission])
            delays = admission.delays.select_related("reason")
            return Response(s.DelaySerializer(delays, many=True).data)
        admission = self._editable(pk)
        version = if_match_version(request, admission, strict=True)
        data = _parsed(s.DelayInput, request)
        responsible = None
        if data.get("responsible_organisation") is not None:
            responsible = Organisation.objects.filter(pk=data["responsible_organisation"]).first()
            if responsible is None:
                raise ValidationError({"responsible_organisation": "No such organisation."})
        discharge.delay_reason_set(
            admission=admission,
            by=request.user,
            reason=data["reason"],
            responsible_organisation=responsible,
            expected_version=version,
        )
        return self._changed(admission, status.HTTP_201_CREATED)

    @extend_schema(request=s.DischargeInput, responses=s.AdmissionSerializer, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def discharge(self, request, pk=None):
        """Record that the patient left hospital."""
        admission = self._editable(pk)
        version = if_match_version(request, admission, strict=True)
        data = _parsed(s.DischargeInput, request)
        discharge.admission_discharge(
            admission=admission,
            by=request.user,
            discharged_at=data["discharged_at"],
            destination=data["destination"],
            actual_pathway=data["actual_pathway"],
            expected_version=version,
        )
        return self._changed(admission)

    @extend_schema(responses=s.WardStaySerializer(many=True))
    # These histories come whole, not in pages (pagination_class=None on each action says so,
    # or the schema would describe a page).
    @action(detail=True, methods=["get"], url_path="ward-stays", pagination_class=None)
    def ward_stays(self, request, pk=None):
        """Each ward and bed the patient was on, with when."""
        admission = get_object_or_404(self.get_queryset(), pk=pk)
        self.log_shown([admission])
        return Response(s.WardStaySerializer(admission.ward_stays.all(), many=True).data)


# --- Recovery plans ---------------------------------------------------------------------------


class PlanViewSet(ReadsLogged, viewsets.ReadOnlyModelViewSet):
    """Recovery plans the caller takes part in or whose person their organisation cares for.

    A family member signed in with a browser session sees the plans they were invited to,
    and nothing else in the API.
    """

    permission_classes = PERMISSIONS
    lookup_value_regex = ID_PATTERN
    serializer_class = s.PlanSerializer
    filterset_class = filters.PlanFilter

    queryset = RecoveryPlan.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RecoveryPlan.objects.none()
        return (
            plans_visible_to(self.request.user)
            .prefetch_related(
                Prefetch("sections", queryset=PlanSection.objects.order_by("key")),
                "goals",
                "actions",
            )
            .order_by("pk")
        )

    def retrieve(self, request, *args, **kwargs):
        plan = self.get_object()
        self.log_shown([plan])
        return Response(self.get_serializer(plan).data)

    @extend_schema(request=s.GoalInput, responses={201: s.GoalSerializer})
    @action(detail=True, methods=["post"])
    def goals(self, request, pk=None):
        """Add a goal in the person's own words."""
        plan = self.get_object()
        goal = plans.goal_add(plan=plan, by=request.user, **_parsed(s.GoalInput, request))
        return _tagged(Response(s.GoalSerializer(goal).data, status=201), goal)

    @extend_schema(request=s.ActionInput, responses={201: s.ActionSerializer})
    @action(detail=True, methods=["post"])
    def actions(self, request, pk=None):
        """Add an action with an owner and a due date."""
        plan = self.get_object()
        data = _parsed(s.ActionInput, request)
        owner = Organisation.objects.filter(pk=data.pop("owner_organisation")).first()
        if owner is None:
            raise ValidationError({"owner_organisation": "No such organisation."})
        new = plans.action_add(plan=plan, by=request.user, owner_organisation=owner, **data)
        return _tagged(Response(s.ActionSerializer(new).data, status=201), new)

    @extend_schema(
        request=s.SectionUpdateInput,
        responses=s.SectionSerializer,
        parameters=[
            IF_MATCH,
            OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH),
        ],
    )
    @action(detail=True, methods=["patch"], url_path=r"sections/(?P<key>[a-z_]+)")
    def section(self, request, pk=None, key=None):
        """Change a section's fields; others' edits to other fields are merged."""
        plan = self.get_object()
        current = plan.sections.filter(key=key).first()
        if current is None:
            raise Http404
        version = if_match_version(request, current, strict=False)
        data = _parsed(s.SectionUpdateInput, request)
        saved = plans.section_update(
            plan=plan, key=key, by=request.user, content=data["content"], expected_version=version
        )
        return _tagged(Response(s.SectionSerializer(saved.instance).data), saved.instance)


class _PlanItemViewSet(ReadsLogged, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A goal or action on a visible plan; PATCH co-edits it with If-Match naming the base version."""

    permission_classes = PERMISSIONS
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "patch", "head", "options"]
    model = Goal
    update_input = s.GoalUpdateInput
    patient_of = "plan.patient_id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return (
            self.model.objects.filter(plan__in=plans_visible_to(self.request.user).values("pk"))
            .select_related("plan")
            .order_by("pk")
        )

    def retrieve(self, request, *args, **kwargs):
        item = self.get_object()
        self.log_shown([item])
        return _tagged(Response(self.get_serializer(item).data), item)

    def _values(self, data: dict) -> dict:
        return data

    def _save(self, item, request, version: int, values: dict):
        raise NotImplementedError

    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()
        version = if_match_version(request, item, strict=False)
        values = self._values(_parsed(self.update_input, request))
        saved = self._save(item, request, version, values)
        return _tagged(Response(self.get_serializer(saved.instance).data), saved.instance)


@extend_schema(parameters=[IF_MATCH], methods=["PATCH"], request=s.GoalUpdateInput)
class GoalViewSet(_PlanItemViewSet):
    """A goal on a recovery plan."""

    serializer_class = s.GoalSerializer
    queryset = Goal.objects.none()
    model = Goal
    update_input = s.GoalUpdateInput

    def _save(self, item, request, version, values):
        return plans.goal_update(goal=item, by=request.user, expected_version=version, **values)


@extend_schema(parameters=[IF_MATCH], methods=["PATCH"], request=s.ActionUpdateInput)
class ActionViewSet(_PlanItemViewSet):
    """An action on a recovery plan."""

    serializer_class = s.ActionSerializer
    queryset = Action.objects.none()
    model = Action
    update_input = s.ActionUpdateInput

    def _values(self, data: dict) -> dict:
        if "owner_organisation" in data:
            owner = Organisation.objects.filter(pk=data["owner_organisation"]).first()
            if owner is None:
                raise ValidationError({"owner_organisation": "No such organisation."})
            data["owner_organisation"] = owner
        return data

    def _save(self, item, request, version, values):
        return plans.action_update(action=item, by=request.user, expected_version=version, **values)
