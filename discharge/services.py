"""Every write to discharge readiness: rules checked, one transaction, audited, versioned."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from functools import partial

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Greatest
from django.dispatch import Signal
from django.utils import timezone

from dashboards.triggers import flow_changed
from discharge import nhs_number, rules
from discharge.models import (
    Admission,
    Criterion,
    CtrReview,
    CtrReviewCriterion,
    DelayEpisode,
    DelayReason,
    DischargeDestination,
    DischargeReadyDateChange,
    ExpectedDischargeDateChange,
    Patient,
    PatientRecordView,
    PlannedPathwayChange,
    WardStay,
)
from homefirst.models import Organisation, User, Ward
from pathways.models import Pathway

# A clock a few minutes fast on a ward PC should not stop a discharge being recorded.
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_TEXT = 2000

# Sent with ``admission`` and ``by`` inside the discharge's transaction once a patient has left
# hospital (discharged or died), so other apps follow them out (pathways moves the referral on)
# and commit or roll back with the discharge.
admission_left_hospital = Signal()
# Sent with ``admission`` and ``by`` inside the admission's transaction when a patient is
# admitted, so other apps see a readmission (pathways ends support that was under way at home).
patient_admitted = Signal()
# Sent with ``admission`` and ``by`` inside the transaction that cancels a discharge, so other
# apps follow the patient back in (pathways takes the referral back to accepted).
admission_discharge_cancelled = Signal()


class StaleEdit(Exception):
    """Someone else changed the admission since this edit began; nothing was saved."""

    def __init__(self, current: Admission) -> None:
        super().__init__("The record was changed by someone else.")
        self.current = current


def _locked(admission: Admission, expected_version: int | None) -> Admission:
    """Lock the admission row and check the editor saw its latest version."""
    locked = (
        Admission.objects.select_for_update(of=("self",))
        .select_related("patient", "updated_by", "planned_pathway")
        .get(pk=admission.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise StaleEdit(current=locked)
    return locked


def _require_in_hospital(admission: Admission) -> None:
    if admission.status != Admission.Status.IN_HOSPITAL:
        raise ValidationError({"__all__": "This patient has already left hospital."})


def _touch(admission: Admission, *, by: User, at: dt.datetime, fields: Sequence[str]) -> None:
    """Save the changed fields, bump the version and record who changed the row."""
    admission.version += 1
    admission.updated_at = at
    admission.updated_by = by
    admission.save(update_fields=[*fields, "version", "updated_at", "updated_by"])


def _check_text(field: str, value: str, *, limit: int = MAX_TEXT, required: str = "") -> str:
    """Trimmed text that fits its column; ValidationError naming the field otherwise."""
    value = (value or "").strip()
    if not _storable(value):
        raise ValidationError({field: "Remove the NUL character: it cannot be stored."})
    if required and not value:
        raise ValidationError({field: required})
    if len(value) > limit:
        raise ValidationError({field: f"Keep this to {limit} characters or fewer."})
    return value


def _check_when(field: str, at: dt.datetime, *, after: dt.datetime, what: str) -> None:
    """A time the caller gives for a step: not in the future, not before the step it follows."""
    if at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({field: "This time cannot be in the future."})
    if at < after:
        raise ValidationError({field: f"This time cannot be before {what}."})


def _storable(value: str) -> bool:
    """Postgres text cannot hold NUL: a code with one in it is unknown, not a database error."""
    return "\x00" not in value


# --- Patients and admissions ------------------------------------------------------------------


def patient_create(
    *,
    nhs_number_input: str,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date,
    local_authority: Organisation,
    sex: str = Patient.Sex.UNKNOWN,
    postcode: str = "",
    gp_practice_code: str = "",
    lives_alone: bool = False,
    unpaid_carer: str = "",
    communication_needs: str = "",
    by: User | None = None,
) -> Patient:
    """Register a patient under a validated NHS number."""
    try:
        digits = nhs_number.normalise(nhs_number_input)
    except ValidationError as error:
        raise ValidationError({"nhs_number": error.messages}) from error
    names = {
        name: _check_text(name, value, limit=100, required="Enter a name of 1 to 100 characters.")
        for name, value in (("given_name", given_name), ("family_name", family_name))
    }
    if date_of_birth > timezone.localdate():
        raise ValidationError({"date_of_birth": "Date of birth must be today or in the past."})
    if local_authority.kind != Organisation.Kind.LOCAL_AUTHORITY:
        raise ValidationError({"local_authority": "Choose a local authority."})
    if sex not in Patient.Sex.values:
        raise ValidationError({"sex": "Choose female, male, other or not known."})
    # Upper case first: it can lengthen a string ("ß" becomes "SS").
    postcode = _check_text("postcode", postcode.upper(), limit=10)
    gp_practice_code = _check_text("gp_practice_code", gp_practice_code.upper(), limit=10)
    unpaid_carer = _check_text("unpaid_carer", unpaid_carer, limit=200)
    communication_needs = _check_text("communication_needs", communication_needs)
    if Patient.objects.filter(nhs_number=digits).exists():
        raise ValidationError(
            {"nhs_number": "A patient with this NHS number is already registered."}
        )
    with transaction.atomic(), pghistory.context(user=by.pk if by else None):
        return Patient.objects.create(
            nhs_number=digits,
            **names,
            date_of_birth=date_of_birth,
            local_authority=local_authority,
            sex=sex,
            postcode=postcode,
            gp_practice_code=gp_practice_code,
            lives_alone=lives_alone,
            unpaid_carer=unpaid_carer,
            communication_needs=communication_needs,
        )


def admission_admit(
    *,
    patient: Patient,
    ward: Ward,
    admitted_at: dt.datetime,
    by: User | None = None,
    bed_label: str = "",
    method: str = Admission.Method.EMERGENCY,
    specialty: str = "",
) -> Admission:
    """Admit a patient to a ward: the admission and its first ward stay, together."""
    if admitted_at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"admitted_at": "The admission time cannot be in the future."})
    if method not in Admission.Method.values:
        raise ValidationError({"method": "Choose emergency or elective."})
    bed_label = _check_text("bed_label", bed_label, limit=20)
    specialty = _check_text("specialty", specialty, limit=100)
    with transaction.atomic(), pghistory.context(user=by.pk if by else None):
        if Admission.objects.filter(patient=patient, status=Admission.Status.IN_HOSPITAL).exists():
            raise ValidationError({"patient": "This patient is already in hospital."})
        admission = Admission.objects.create(
            patient=patient,
            site=ward.site,
            current_ward=ward,
            bed_label=bed_label,
            method=method,
            specialty=specialty or ward.specialty,
            admitted_at=admitted_at,
            updated_at=admitted_at,
            updated_by=by,
        )
        WardStay.objects.create(
            admission=admission, ward=ward, bed_label=bed_label, started_at=admitted_at, moved_by=by
        )
        patient_admitted.send(sender=Admission, admission=admission, by=by)
        transaction.on_commit(
            partial(
                flow_changed,
                site_ids=[ward.site_id],
                day=timezone.localdate(admitted_at),
                patient_id=patient.pk,
            )
        )
    return admission


def admission_transfer(
    *,
    admission: Admission,
    ward: Ward,
    by: User | None,
    moved_at: dt.datetime | None = None,
    bed_label: str = "",
    expected_version: int | None = None,
) -> Admission:
    """Move a patient to another ward or bed: close the open ward stay, open the next."""
    moved_at = moved_at or timezone.now()
    bed_label = _check_text("bed_label", bed_label, limit=20)
    with transaction.atomic(), pghistory.context(user=by.pk if by else None):
        admission = _locked(admission, expected_version)
        _require_in_hospital(admission)
        if ward.site.organisation_id != admission.site.organisation_id:
            raise ValidationError({"ward": "Choose a ward of the same trust."})
        current = admission.ward_stays.get(ended_at__isnull=True)
        if moved_at > timezone.now() + CLOCK_SKEW:
            raise ValidationError({"moved_at": "A move cannot be in the future."})
        if moved_at < current.started_at:
            raise ValidationError(
                {"moved_at": "A move cannot be before the patient arrived on the ward."}
            )
        current.ended_at = moved_at
        current.save(update_fields=["ended_at"])
        WardStay.objects.create(
            admission=admission, ward=ward, bed_label=bed_label, started_at=moved_at, moved_by=by
        )
        transaction.on_commit(
            partial(
                flow_changed,
                site_ids=[admission.site_id, ward.site_id],
                day=timezone.localdate(moved_at),
            )
        )
        admission.current_ward = ward
        admission.site = ward.site
        admission.bed_label = bed_label
        _touch(admission, by=by, at=moved_at, fields=["current_ward", "site", "bed_label"])
    return admission


# --- The board's edits ------------------------------------------------------------------------


def ctr_review_record(
    *,
    admission: Admission,
    by: User,
    criteria: Sequence[str] = (),
    exception_reason: str = "",
    note: str = "",
    expected_version: int | None,
    reviewed_at: dt.datetime | None = None,
) -> CtrReview:
    """Record one criteria-to-reside review and move the discharge ready date by the rule."""
    reviewed_at = reviewed_at or timezone.now()
    exception_reason = _check_text("exception_reason", exception_reason)
    note = _check_text("note", note)
    codes = sorted(set(criteria))
    known = set(
        Criterion.objects.filter(
            code__in=[c for c in codes if _storable(c)], active=True
        ).values_list("code", flat=True)
    )
    if unknown := [c for c in codes if c not in known]:
        raise ValidationError({"criteria": f"Unknown criterion: {', '.join(unknown)}."})
    if codes and exception_reason:
        raise ValidationError(
            {
                "exception_reason": "A clinical exception is only for a patient who meets no criterion."
            }
        )
    with transaction.atomic(), pghistory.context(user=by.pk):
        admission = _locked(admission, expected_version)
        _require_in_hospital(admission)
        if reviewed_at < admission.admitted_at:
            raise ValidationError({"__all__": "A review cannot be before the admission."})
        # Reviews are a time series: the discharge ready date rule reads them in order.
        latest = admission.latest_review
        _check_when(
            "reviewed_at",
            reviewed_at,
            after=latest.reviewed_at if latest else admission.admitted_at,
            what="the latest review",
        )
        review = CtrReview.objects.create(
            admission=admission,
            reviewed_at=reviewed_at,
            review_date=timezone.localdate(reviewed_at),
            reviewed_by=by,
            meets=bool(codes),
            exception_reason=exception_reason,
            note=note,
        )
        CtrReviewCriterion.objects.bulk_create(
            CtrReviewCriterion(review=review, criterion_id=code) for code in codes
        )
        changed = ["latest_review"]
        admission.latest_review = review
        if _discharge_ready_date_apply(admission=admission, review=review):
            changed.append("discharge_ready_date")
        _touch(admission, by=by, at=reviewed_at, fields=changed)
        transaction.on_commit(
            partial(flow_changed, site_ids=[admission.site_id], day=review.review_date)
        )
    return review


def _discharge_ready_date_apply(*, admission: Admission, review: CtrReview) -> bool:
    """Set or clear the DRD after a review, keeping its history; True when it changed."""
    new = rules.next_discharge_ready_date(
        current=admission.discharge_ready_date,
        ready=review.ready_to_leave,
        review_date=review.review_date,
    )
    if new == admission.discharge_ready_date:
        return False
    admission.discharge_ready_date = new
    DischargeReadyDateChange.objects.create(
        admission=admission, discharge_ready_date=new, changed_at=review.reviewed_at, review=review
    )
    if new is None:
        # Needing an acute bed again ends the wait: the delay is over (at once, if it was
        # recorded as starting after this review).
        DelayEpisode.objects.filter(admission=admission, ended_at__isnull=True).update(
            ended_at=Greatest("started_at", Value(review.reviewed_at))
        )
    return True


def edd_set(
    *,
    admission: Admission,
    by: User,
    expected_discharge_date: dt.date,
    expected_version: int | None,
    changed_at: dt.datetime | None = None,
) -> Admission:
    """Set the expected date of discharge, keeping every earlier value."""
    changed_at = changed_at or timezone.now()
    with transaction.atomic(), pghistory.context(user=by.pk):
        admission = _locked(admission, expected_version)
        _require_in_hospital(admission)
        _check_when("changed_at", changed_at, after=admission.admitted_at, what="the admission")
        if expected_discharge_date < timezone.localdate(admission.admitted_at):
            raise ValidationError(
                {
                    "expected_discharge_date": "The expected date of discharge cannot be before admission."
                }
            )
        if expected_discharge_date == admission.expected_discharge_date:
            return admission
        admission.expected_discharge_date = expected_discharge_date
        ExpectedDischargeDateChange.objects.create(
            admission=admission,
            expected_discharge_date=expected_discharge_date,
            changed_at=changed_at,
            changed_by=by,
        )
        _touch(admission, by=by, at=changed_at, fields=["expected_discharge_date"])
    return admission


def planned_pathway_set(
    *,
    admission: Admission,
    by: User,
    pathway: str,
    expected_version: int | None,
    changed_at: dt.datetime | None = None,
) -> Admission:
    """Plan (or re-plan) the discharge pathway, keeping its history."""
    changed_at = changed_at or timezone.now()
    if not _storable(pathway) or not Pathway.objects.filter(code=pathway).exists():
        raise ValidationError({"pathway": "Choose pathway 0, 1, 2 or 3."})
    with transaction.atomic(), pghistory.context(user=by.pk):
        admission = _locked(admission, expected_version)
        _require_in_hospital(admission)
        _check_when("changed_at", changed_at, after=admission.admitted_at, what="the admission")
        if admission.planned_pathway_id == pathway:
            return admission
        admission.planned_pathway_id = pathway
        PlannedPathwayChange.objects.create(
            admission=admission, pathway_id=pathway, changed_at=changed_at, changed_by=by
        )
        _touch(admission, by=by, at=changed_at, fields=["planned_pathway"])
        transaction.on_commit(
            partial(flow_changed, site_ids=[admission.site_id], day=timezone.localdate(changed_at))
        )
    return admission


def delay_reason_set(
    *,
    admission: Admission,
    by: User,
    reason: str,
    expected_version: int | None,
    responsible_organisation: Organisation | None = None,
    started_at: dt.datetime | None = None,
) -> DelayEpisode:
    """Record why a patient ready to leave is still here; a new reason starts a new episode."""
    started_at = started_at or timezone.now()
    delay_reason = (
        DelayReason.objects.filter(code=reason, active=True).first() if _storable(reason) else None
    )
    if delay_reason is None:
        raise ValidationError({"reason": "Choose a delay reason from the list."})
    with transaction.atomic(), pghistory.context(user=by.pk):
        admission = _locked(admission, expected_version)
        _require_in_hospital(admission)
        if admission.discharge_ready_date is None:
            raise ValidationError(
                {
                    "reason": "Only a patient who no longer meets the criteria to reside has a delay reason."
                }
            )
        current = DelayEpisode.objects.filter(admission=admission, ended_at__isnull=True).first()
        if current and current.reason_id == reason:
            return current
        # Episodes follow one another: a new one starts after the current one did, or after
        # the last one ended.
        last = DelayEpisode.objects.filter(admission=admission).order_by("-started_at").first()
        _check_when(
            "started_at",
            started_at,
            after=(last.ended_at or last.started_at) if last else admission.admitted_at,
            what="the last delay" if last else "the admission",
        )
        if current:
            current.ended_at = started_at
            current.save(update_fields=["ended_at"])
        episode = DelayEpisode.objects.create(
            admission=admission,
            reason=delay_reason,
            responsible_organisation=responsible_organisation,
            started_at=started_at,
            recorded_by=by,
        )
        _touch(admission, by=by, at=started_at, fields=[])
        transaction.on_commit(
            partial(flow_changed, site_ids=[admission.site_id], day=timezone.localdate(started_at))
        )
    return episode


def admission_discharge(
    *,
    admission: Admission,
    by: User,
    discharged_at: dt.datetime,
    destination: str,
    actual_pathway: str | None,
    expected_version: int | None,
) -> Admission:
    """Record the discharge; close the open ward stay and delay episode in the same transaction."""
    if destination not in DischargeDestination.values:
        raise ValidationError({"destination": "Choose where the patient went."})
    died = destination == DischargeDestination.DIED
    if not died:
        if actual_pathway not in rules.DESTINATIONS_BY_PATHWAY:
            raise ValidationError({"actual_pathway": "Choose pathway 0, 1, 2 or 3."})
        if destination not in rules.DESTINATIONS_BY_PATHWAY[actual_pathway]:
            raise ValidationError(
                {"destination": f"This destination does not fit pathway {actual_pathway}."}
            )
    if discharged_at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"discharged_at": "The discharge time cannot be in the future."})
    with transaction.atomic(), pghistory.context(user=by.pk):
        admission = _locked(admission, expected_version)
        _require_in_hospital(admission)
        stay = admission.ward_stays.filter(ended_at__isnull=True).first()
        earliest = max(admission.admitted_at, stay.started_at if stay else admission.admitted_at)
        if discharged_at < earliest:
            raise ValidationError(
                {
                    "discharged_at": "The discharge time cannot be before the admission or the last ward move."
                }
            )
        if stay:
            stay.ended_at = discharged_at
            stay.save(update_fields=["ended_at"])
        for delay in DelayEpisode.objects.filter(admission=admission, ended_at__isnull=True):
            delay.ended_at = max(discharged_at, delay.started_at)
            delay.save(update_fields=["ended_at"])
        admission.status = Admission.Status.DIED if died else Admission.Status.DISCHARGED
        admission.discharged_at = discharged_at
        admission.discharge_destination = destination
        admission.actual_pathway_id = None if died else actual_pathway
        _touch(
            admission,
            by=by,
            at=timezone.now(),
            fields=["status", "discharged_at", "discharge_destination", "actual_pathway"],
        )
        admission_left_hospital.send(sender=Admission, admission=admission, by=by)
        transaction.on_commit(
            partial(
                flow_changed, site_ids=[admission.site_id], day=timezone.localdate(discharged_at)
            )
        )
    return admission


def patient_record_views_log(
    *, user: User, patient_ids: Iterable[int], path: str, ip_address: str | None
) -> int:
    """Log that someone was shown these patients' records: one row a patient, in one insert.

    Every page, partial, print and API read that shows who a person is calls this (through
    discharge.record_views); nothing shown, nothing written. Returns the rows written.
    """
    ids = list(dict.fromkeys(patient_ids))
    if not ids:
        return 0
    address = _ip_address(ip_address)
    now = timezone.now()
    PatientRecordView.objects.bulk_create(
        PatientRecordView(
            user=user, patient_id=pk, viewed_at=now, path=path[:300], ip_address=address
        )
        for pk in ids
    )
    return len(ids)


def _ip_address(value: str | None) -> str | None:
    """The address as the column stores it; anything else (a unix socket's '') is unknown."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


# --- Corrections sent by the hospital's patient administration system ------------------------

PATIENT_UPDATABLE = (
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "postcode",
    "gp_practice_code",
    "local_authority",
)


def patient_update(*, patient: Patient, by: User | None, **values: object) -> Patient:
    """Change a patient's demographics (never the NHS number: that is a merge)."""
    if unknown := sorted(set(values) - set(PATIENT_UPDATABLE)):
        raise ValidationError({unknown[0]: "This detail cannot be changed here."})
    cleaned: dict[str, object] = {}
    for name in ("given_name", "family_name"):
        if name in values:
            cleaned[name] = _check_text(
                name,
                str(values[name] or ""),
                limit=100,
                required="Enter a name of 1 to 100 characters.",
            )
    if "date_of_birth" in values:
        born = values["date_of_birth"]
        if not isinstance(born, dt.date) or born > timezone.localdate():
            raise ValidationError({"date_of_birth": "Date of birth must be today or in the past."})
        cleaned["date_of_birth"] = born
    if "sex" in values:
        if values["sex"] not in Patient.Sex.values:
            raise ValidationError({"sex": "Choose female, male, other or not known."})
        cleaned["sex"] = values["sex"]
    for name, limit in (("postcode", 10), ("gp_practice_code", 10)):
        if name in values:
            cleaned[name] = _check_text(name, str(values[name] or "").upper(), limit=limit)
    if "local_authority" in values:
        council = values["local_authority"]
        if (
            not isinstance(council, Organisation)
            or council.kind != Organisation.Kind.LOCAL_AUTHORITY
        ):
            raise ValidationError({"local_authority": "Choose a local authority."})
        cleaned["local_authority"] = council
    with transaction.atomic(), pghistory.context(user=by.pk if by else None):
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
        changed = [k for k, v in cleaned.items() if getattr(patient, k) != v]
        for name in changed:
            setattr(patient, name, cleaned[name])
        if changed:
            patient.save(update_fields=changed)
    return patient


def _live_stays(admission: Admission) -> list[WardStay]:
    """The admission's ward stays that happened (a cancelled move is left as an empty period)."""
    return [
        s
        for s in admission.ward_stays.select_for_update().order_by("started_at", "pk")
        if s.ended_at is None or s.ended_at > s.started_at
    ]


def _flow_changed_from(
    admission: Admission, since: dt.datetime, site_ids: Sequence[int] = ()
) -> None:
    """After commit, ask the dashboards to recount the site from the day a correction reaches back to."""
    transaction.on_commit(
        partial(
            flow_changed,
            site_ids=sorted({admission.site_id, *site_ids}),
            day=timezone.localdate(since),
        )
    )


def _bed_free(save) -> None:
    """Run a save that reopens a ward stay; a bed taken meanwhile is a clear error, not a crash."""
    try:
        with transaction.atomic():
            save()
    except IntegrityError as error:
        if "ward_stay_no_double_booked_bed" in str(error):
            raise ValidationError(
                {"bed_label": "Someone else has been put in that bed since; move them first."}
            ) from error
        raise


def admission_cancel(
    *, admission: Admission, by: User | None, expected_version: int | None = None
) -> Admission:
    """Cancel an admission entered in error: it never happened, so its ward stays hold no bed."""
    with transaction.atomic(), pghistory.context(user=by.pk if by else None):
        admission = _locked(admission, expected_version)
        _require_in_hospital(admission)
        for stay in admission.ward_stays.select_for_update():
            stay.ended_at = stay.started_at  # an empty period: no bed was used
            stay.save(update_fields=["ended_at"])
        now = timezone.now()
        for delay in DelayEpisode.objects.filter(admission=admission, ended_at__isnull=True):
            delay.ended_at = max(now, delay.started_at)
            delay.save(update_fields=["ended_at"])
        admission.status = Admission.Status.CANCELLED
        _touch(admission, by=by, at=now, fields=["status"])
        _flow_changed_from(admission, admission.admitted_at)
    return admission


def admission_transfer_cancel(
    *, admission: Admission, by: User | None, expected_version: int | None = None
) -> Admission:
    """Undo the last ward move: the patient is back where they were, in the same bed."""
    with transaction.atomic(), pghistory.context(user=by.pk if by else None):
        admission = _locked(admission, expected_version)
        _require_in_hospital(admission)
        stays = _live_stays(admission)
        if len(stays) < 2 or stays[-1].ended_at is not None:
            raise ValidationError({"__all__": "There is no ward move to cancel."})
        previous, last = stays[-2], stays[-1]
        last.ended_at = last.started_at
        last.save(update_fields=["ended_at"])
        previous.ended_at = None
        _bed_free(lambda: previous.save(update_fields=["ended_at"]))
        admission.current_ward = previous.ward
        admission.site = previous.ward.site
        admission.bed_label = previous.bed_label
        _touch(admission, by=by, at=timezone.now(), fields=["current_ward", "site", "bed_label"])
        _flow_changed_from(admission, last.started_at, site_ids=[last.ward.site_id])
    return admission


def admission_discharge_cancel(
    *, admission: Admission, by: User | None, expected_version: int | None = None
) -> Admission:
    """Undo a discharge recorded in error: back in hospital, on the ward and bed they left."""
    with transaction.atomic(), pghistory.context(user=by.pk if by else None):
        admission = _locked(admission, expected_version)
        if admission.status not in (Admission.Status.DISCHARGED, Admission.Status.DIED):
            raise ValidationError({"__all__": "This patient has not left hospital."})
        others = Admission.objects.filter(
            patient_id=admission.patient_id, status=Admission.Status.IN_HOSPITAL
        )
        if others.exists():
            raise ValidationError({"__all__": "The patient has been admitted again since."})
        left_at = admission.discharged_at
        stays = _live_stays(admission)
        if stays:
            _bed_free(lambda: WardStay.objects.filter(pk=stays[-1].pk).update(ended_at=None))
        DelayEpisode.objects.filter(admission=admission, ended_at=left_at).update(ended_at=None)
        admission.status = Admission.Status.IN_HOSPITAL
        admission.discharged_at = None
        admission.discharge_destination = ""
        admission.actual_pathway = None
        _touch(
            admission,
            by=by,
            at=timezone.now(),
            fields=["status", "discharged_at", "discharge_destination", "actual_pathway"],
        )
        admission_discharge_cancelled.send(sender=Admission, admission=admission, by=by)
        _flow_changed_from(admission, left_at)
    return admission


def patient_merge(*, prior: Patient, survivor: Patient, by: User | None) -> Patient:
    """Merge a duplicate record into the surviving one: stays and plans move, the duplicate empties."""
    from recovery_plans.models import RecoveryPlan

    if prior.pk == survivor.pk:
        raise ValidationError({"prior": "A record cannot be merged into itself."})
    with transaction.atomic(), pghistory.context(user=by.pk if by else None):
        # Lock both in id order so two merges cannot deadlock.
        list(
            Patient.objects.select_for_update()
            .filter(pk__in=[prior.pk, survivor.pk])
            .order_by("pk")
        )
        both = [prior.pk, survivor.pk]
        open_stays = Admission.objects.filter(
            patient_id__in=both, status=Admission.Status.IN_HOSPITAL
        )
        if open_stays.count() > 1:
            raise ValidationError(
                {"prior": "Both records are in hospital now; discharge or cancel one first."}
            )
        plans = RecoveryPlan.objects.filter(patient_id__in=both, status="active")
        if plans.count() > 1:
            raise ValidationError(
                {"prior": "Both records have an active recovery plan; close one first."}
            )
        Admission.objects.filter(patient_id=prior.pk).update(patient_id=survivor.pk)
        RecoveryPlan.objects.filter(patient_id=prior.pk).update(patient_id=survivor.pk)
    return survivor
