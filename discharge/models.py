"""Patients, their hospital stays and everything the ward records about discharge readiness."""

from __future__ import annotations

import datetime as dt

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import Case, F, Func, IntegerField, Q, Value, When
from django.db.models.functions import Cast, Mod, Substr
from django.db.models.lookups import Exact
from django.utils import timezone

from discharge import nhs_number, rules
from homefirst.models import Organisation, Site, Ward
from pathways.models import Pathway


def _nhs_number_check_digit_holds() -> Case:
    """SQL for the Modulus 11 rule, so the database refuses an invalid NHS number too."""
    digit = lambda i: Cast(Substr("nhs_number", i, 1), IntegerField())  # noqa: E731
    weighted = sum((digit(i) * (11 - i) for i in range(2, 10)), digit(1) * 10)
    check = Mod(11 - Mod(weighted, 11), 11)
    return Case(
        When(nhs_number__regex=r"^[0-9]{10}$", then=Exact(check, digit(10))),
        default=Value(False),
        output_field=models.BooleanField(),
    )


class TsTzRange(Func):
    """Postgres tstzrange(start, end): an open end means 'still going'."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def _append_only(name: str) -> pgtrigger.Protect:
    """A trigger that refuses updates and deletes: history rows are never overwritten."""
    return pgtrigger.Protect(name=name, operation=pgtrigger.Update | pgtrigger.Delete)


class Sex(models.TextChoices):
    """Sex as recorded on the patient's record."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not known"


@pghistory.track()
class Patient(models.Model):
    """A person, identified by their NHS number."""

    Sex = Sex

    nhs_number = models.CharField(
        "NHS number", max_length=10, unique=True, validators=[nhs_number.validate_nhs_number]
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    postcode = models.CharField(max_length=10, blank=True)
    local_authority = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="residents",
        limit_choices_to={"kind": Organisation.Kind.LOCAL_AUTHORITY},
        help_text="The council whose area the person lives in.",
    )
    gp_practice_code = models.CharField("GP practice (ODS code)", max_length=10, blank=True)
    lives_alone = models.BooleanField(default=False)
    unpaid_carer = models.CharField(
        max_length=200, blank=True, help_text="Name, relationship and how to reach them."
    )
    communication_needs = models.TextField(blank=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.CheckConstraint(
                name="patient_nhs_number_modulus_11", condition=_nhs_number_check_digit_holds()
            ),
            models.CheckConstraint(
                name="patient_sex_known", condition=Q(sex__in=[s.value for s in Sex])
            ),
            models.CheckConstraint(
                name="patient_has_names", condition=~Q(given_name="") & ~Q(family_name="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.nhs_number_display})"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def nhs_number_display(self) -> str:
        return nhs_number.display(self.nhs_number)

    def age_on(self, day: dt.date) -> int:
        """Age in whole years on a given day."""
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Criterion(models.Model):
    """One of the criteria to reside in an acute bed (reference data, editable by an administrator)."""

    code = models.CharField(max_length=2, primary_key=True)
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name_plural = "criteria to reside"

    def __str__(self) -> str:
        return self.label


class DelayReason(models.Model):
    """One of NHS England's 37 reasons why a person ready to leave is still in hospital."""

    class Family(models.TextChoices):
        HOSPITAL = "Hospital process"
        HUB = "Care transfer hub process"
        INTERFACE = "Interface process"
        CAPACITY = "Capacity"
        WELLBEING = "Wellbeing concerns"

    code = models.CharField(max_length=5, primary_key=True)
    family = models.CharField(max_length=40, choices=Family.choices)
    reason = models.CharField(max_length=200)
    pathways = ArrayField(
        models.CharField(max_length=1),
        blank=True,
        default=list,
        help_text="Pathways the reason names; empty means any.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.family} — {self.reason}"


class DischargeDestination(models.TextChoices):
    """Where a person went when they left hospital (stable codes)."""

    USUAL_RESIDENCE = "usual_residence", "Usual place of residence"
    CARE_HOME_RETURN = "care_home_return", "Returned to their existing care home"
    CARE_HOME_NEW = "care_home_new", "New care home placement"
    REHAB_BED = "rehab_bed", "Rehabilitation or intermediate care bed"
    TEMPORARY_RESIDENCE = "temporary_residence", "Temporary residence"
    OTHER_HOSPITAL = "other_hospital", "Another hospital"
    HOSPICE = "hospice", "Hospice"
    DIED = "died", "Died in hospital"


class AdmissionMethod(models.TextChoices):
    """How the patient came to be admitted."""

    EMERGENCY = "emergency", "Emergency"
    ELECTIVE = "elective", "Elective"


class AdmissionStatus(models.TextChoices):
    """Where a hospital stay stands."""

    IN_HOSPITAL = "in_hospital", "In hospital"
    DISCHARGED = "discharged", "Discharged"
    DIED = "died", "Died"
    CANCELLED = "cancelled", "Cancelled (entered in error)"


@pghistory.track()
class Admission(models.Model):
    """One hospital provider spell: from admission to discharge, at one site."""

    Method = AdmissionMethod
    Status = AdmissionStatus

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="admissions")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="admissions")
    current_ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="admissions")
    bed_label = models.CharField(max_length=20, blank=True)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.EMERGENCY)
    specialty = models.CharField(max_length=100, blank=True)
    admitted_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_HOSPITAL)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharge_destination = models.CharField(
        max_length=30, choices=DischargeDestination.choices, blank=True
    )
    actual_pathway = models.ForeignKey(
        Pathway, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    planned_pathway = models.ForeignKey(
        Pathway, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expected_discharge_date = models.DateField(null=True, blank=True)
    discharge_ready_date = models.DateField(null=True, blank=True)
    # Denormalised by the services so the ward board reads each row in constant queries.
    latest_review = models.ForeignKey(
        "CtrReview", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-admitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="in_hospital"),
                name="admission_one_open_per_patient",
            ),
            models.CheckConstraint(
                name="admission_discharge_not_before_admission",
                condition=Q(discharged_at__isnull=True) | Q(discharged_at__gte=F("admitted_at")),
            ),
            models.CheckConstraint(
                name="admission_left_hospital_has_time",
                condition=Q(status__in=["discharged", "died"], discharged_at__isnull=False)
                | (~Q(status__in=["discharged", "died"]) & Q(discharged_at__isnull=True)),
            ),
            models.CheckConstraint(
                name="admission_discharged_has_pathway_and_destination",
                condition=~Q(status="discharged")
                | (Q(actual_pathway__isnull=False) & ~Q(discharge_destination="")),
            ),
            models.CheckConstraint(
                name="admission_status_known",
                condition=Q(status__in=[s.value for s in AdmissionStatus]),
            ),
            models.CheckConstraint(
                name="admission_method_known",
                condition=Q(method__in=[m.value for m in AdmissionMethod]),
            ),
            models.CheckConstraint(
                name="admission_destination_known",
                condition=Q(discharge_destination__in=["", *DischargeDestination.values]),
            ),
        ]
        indexes = [
            models.Index(fields=["current_ward", "status"], name="admission_board_idx"),
            models.Index(fields=["admitted_at"], name="admission_admitted_idx"),
            models.Index(fields=["discharged_at"], name="admission_discharged_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.patient.full_name}, admitted {self.admitted_at:%d %b %Y}"

    @property
    def is_in_hospital(self) -> bool:
        return self.status == self.Status.IN_HOSPITAL

    def length_of_stay(self, today: dt.date) -> int:
        """Whole days since admission, counting the admission day as day 0."""
        end = self.discharged_at or timezone.now()
        last_day = min(today, timezone.localdate(end))
        return (last_day - timezone.localdate(self.admitted_at)).days

    def days_delayed(self, today: dt.date) -> int | None:
        """Days from the discharge ready date to discharge (or today); 0 when left on the DRD."""
        end = timezone.localdate(self.discharged_at) if self.discharged_at else today
        return rules.days_delayed(discharge_ready_date=self.discharge_ready_date, until=end)


@pghistory.track()
class WardStay(models.Model):
    """A period on one ward (and bed) during an admission."""

    admission = models.ForeignKey(Admission, on_delete=models.CASCADE, related_name="ward_stays")
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="stays")
    bed_label = models.CharField(max_length=20, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["admission"],
                condition=Q(ended_at__isnull=True),
                name="ward_stay_one_open_per_admission",
            ),
            models.CheckConstraint(
                name="ward_stay_ends_after_start",
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
            ),
            ExclusionConstraint(
                name="ward_stay_no_overlap_per_admission",
                expressions=[
                    ("admission", RangeOperators.EQUAL),
                    (TsTzRange("started_at", "ended_at"), RangeOperators.OVERLAPS),
                ],
            ),
            ExclusionConstraint(
                name="ward_stay_no_double_booked_bed",
                expressions=[
                    ("ward", RangeOperators.EQUAL),
                    ("bed_label", RangeOperators.EQUAL),
                    (TsTzRange("started_at", "ended_at"), RangeOperators.OVERLAPS),
                ],
                condition=~Q(bed_label=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ward} from {self.started_at:%d %b %Y %H:%M}"


class CtrReview(models.Model):
    """One criteria-to-reside review. Never overwritten: each review is a new row."""

    admission = models.ForeignKey(Admission, on_delete=models.CASCADE, related_name="reviews")
    reviewed_at = models.DateTimeField(default=timezone.now)
    review_date = models.DateField(help_text="The local (Europe/London) day of the review.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    meets = models.BooleanField(help_text="Meets at least one criterion to reside.")
    criteria = models.ManyToManyField(Criterion, through="CtrReviewCriterion", related_name="+")
    exception_reason = models.TextField(
        blank=True, help_text="Why a patient who meets no criterion stays (clinical exception)."
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["reviewed_at"]
        constraints = [
            models.CheckConstraint(
                name="ctr_review_exception_only_when_criteria_not_met",
                condition=Q(meets=False) | Q(exception_reason=""),
            ),
        ]
        indexes = [models.Index(fields=["admission", "reviewed_at"], name="ctr_review_adm_idx")]
        triggers = [_append_only("ctr_review_append_only")]

    def __str__(self) -> str:
        return f"Review of {self.admission_id} on {self.review_date}"

    @property
    def is_clinical_exception(self) -> bool:
        return not self.meets and bool(self.exception_reason)

    @property
    def ready_to_leave(self) -> bool:
        """No longer meets the criteria to reside and no clinical exception holds them."""
        return not self.meets and not self.exception_reason


class CtrReviewCriterion(models.Model):
    """A criterion a review found the patient meets."""

    review = models.ForeignKey(CtrReview, on_delete=models.CASCADE, related_name="+")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "criterion"], name="ctr_review_criterion_once"
            ),
        ]
        triggers = [_append_only("ctr_review_criterion_append_only")]

    def __str__(self) -> str:
        return f"{self.criterion_id} on review {self.review_id}"


class DischargeReadyDateChange(models.Model):
    """The discharge ready date was set or cleared by a review (its history)."""

    admission = models.ForeignKey(Admission, on_delete=models.CASCADE, related_name="drd_changes")
    discharge_ready_date = models.DateField(null=True, blank=True, help_text="Empty: cleared.")
    changed_at = models.DateTimeField(default=timezone.now)
    review = models.ForeignKey(CtrReview, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["changed_at", "id"]
        triggers = [_append_only("drd_change_append_only")]

    def __str__(self) -> str:
        return f"DRD {self.discharge_ready_date or 'cleared'} for {self.admission_id}"


class ExpectedDischargeDateChange(models.Model):
    """The clinical team set or changed the expected date of discharge."""

    admission = models.ForeignKey(Admission, on_delete=models.CASCADE, related_name="edd_changes")
    expected_discharge_date = models.DateField()
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["changed_at", "id"]
        triggers = [_append_only("edd_change_append_only")]

    def __str__(self) -> str:
        return f"EDD {self.expected_discharge_date} for {self.admission_id}"


class PlannedPathwayChange(models.Model):
    """The ward planned (or re-planned) the discharge pathway."""

    admission = models.ForeignKey(
        Admission, on_delete=models.CASCADE, related_name="pathway_changes"
    )
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["changed_at", "id"]
        triggers = [_append_only("pathway_change_append_only")]

    def __str__(self) -> str:
        return f"Pathway {self.pathway_id} for {self.admission_id}"


@pghistory.track()
class DelayEpisode(models.Model):
    """A spell of waiting for one reason, while a patient ready to leave stays in hospital."""

    admission = models.ForeignKey(Admission, on_delete=models.CASCADE, related_name="delays")
    reason = models.ForeignKey(DelayReason, on_delete=models.PROTECT, related_name="episodes")
    responsible_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["admission"],
                condition=Q(ended_at__isnull=True),
                name="delay_one_open_per_admission",
            ),
            models.CheckConstraint(
                name="delay_ends_after_start",
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
            ),
            # One reason at a time: a new episode starts when the last one ended.
            ExclusionConstraint(
                name="delay_no_overlap_per_admission",
                expressions=[
                    ("admission", RangeOperators.EQUAL),
                    (TsTzRange("started_at", "ended_at"), RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason.code} from {self.started_at:%d %b %Y}"


class PatientRecordView(models.Model):
    """Someone opened a patient's record: who, whose, when and from where."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="record_views")
    viewed_at = models.DateTimeField(default=timezone.now)
    path = models.CharField(max_length=300)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-viewed_at"]
        triggers = [_append_only("patient_record_view_append_only")]

    def __str__(self) -> str:
        return f"{self.user_id} viewed {self.patient_id} at {self.viewed_at:%Y-%m-%d %H:%M}"
