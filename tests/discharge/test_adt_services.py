"""Corrections a hospital's patient administration system sends: update, cancel, merge."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from discharge import services
from discharge.models import Admission, DelayEpisode, WardStay
from recovery_plans.models import RecoveryPlan
from tests.factories import (
    AdmissionFactory,
    PatientFactory,
    WardFactory,
    recovery_plan_for,
)

pytestmark = pytest.mark.django_db


def hours_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=n)


def discharge(admission, by, *, at=None):
    return services.admission_discharge(
        admission=admission,
        by=by,
        discharged_at=at or hours_ago(1),
        destination="usual_residence",
        actual_pathway="0",
        expected_version=None,
    )


# --- Demographics ------------------------------------------------------------------------------


def test_patient_update_changes_only_the_named_details(admission, ward_nurse):
    patient = admission.patient
    services.patient_update(
        patient=patient, by=ward_nurse, family_name=" Smith ", postcode="ls2 7ab"
    )
    patient.refresh_from_db()
    assert (patient.family_name, patient.postcode) == ("Smith", "LS2 7AB")


def test_patient_update_refuses_a_future_birth_date_naming_the_field(admission, ward_nurse):
    with pytest.raises(ValidationError) as error:
        services.patient_update(
            patient=admission.patient,
            by=ward_nurse,
            date_of_birth=timezone.localdate() + dt.timedelta(days=1),
        )
    assert "date_of_birth" in error.value.message_dict


def test_patient_update_never_changes_the_nhs_number(admission, ward_nurse):
    with pytest.raises(ValidationError) as error:
        services.patient_update(patient=admission.patient, by=ward_nurse, nhs_number="9434765919")
    assert "nhs_number" in error.value.message_dict


def test_patient_update_needs_a_local_authority_for_the_council(admission, ward_nurse, trust):
    with pytest.raises(ValidationError) as error:
        services.patient_update(patient=admission.patient, by=ward_nurse, local_authority=trust)
    assert "local_authority" in error.value.message_dict


# --- Cancel admission (entered in error) -------------------------------------------------------


def test_cancelling_an_admission_frees_its_bed_and_closes_its_stays(admission, ward_nurse):
    services.admission_cancel(admission=admission, by=ward_nurse)
    admission.refresh_from_db()
    assert admission.status == Admission.Status.CANCELLED
    assert admission.discharged_at is None
    stay = admission.ward_stays.get()
    assert stay.ended_at == stay.started_at
    # The bed it held is free over the whole period: another patient can have had it.
    AdmissionFactory(
        current_ward=admission.current_ward,
        bed_label=admission.bed_label,
        admitted_at=admission.admitted_at,
    )


def test_cancelling_an_admission_lets_the_patient_be_admitted_again(admission, ward_nurse):
    services.admission_cancel(admission=admission, by=ward_nurse)
    again = services.admission_admit(
        patient=admission.patient, ward=admission.current_ward, admitted_at=hours_ago(1)
    )
    assert again.status == Admission.Status.IN_HOSPITAL


def test_cancelling_a_discharged_admission_is_refused(admission, ward_nurse):
    discharge(admission, ward_nurse)
    with pytest.raises(ValidationError):
        services.admission_cancel(admission=admission, by=ward_nurse)
    admission.refresh_from_db()
    assert admission.status == Admission.Status.DISCHARGED


def test_cancelling_closes_an_open_delay(admission, ward_nurse):
    admission.refresh_from_db()
    services.ctr_review_record(admission=admission, by=ward_nurse, expected_version=None)
    services.delay_reason_set(
        admission=admission, by=ward_nurse, reason="HOS01", expected_version=None
    )
    services.admission_cancel(admission=admission, by=ward_nurse)
    assert not DelayEpisode.objects.filter(admission=admission, ended_at__isnull=True).exists()


# --- Cancel transfer --------------------------------------------------------------------------


def test_cancelling_a_transfer_puts_the_patient_back_in_their_bed(admission, ward_nurse, ward):
    other = WardFactory(site=ward.site)
    before = (admission.current_ward, admission.bed_label)
    services.admission_transfer(
        admission=admission, ward=other, by=ward_nurse, moved_at=hours_ago(2), bed_label="X1"
    )
    services.admission_transfer_cancel(admission=admission, by=ward_nurse)
    admission.refresh_from_db()
    assert (admission.current_ward, admission.bed_label) == before
    open_stay = admission.ward_stays.get(ended_at__isnull=True)
    assert (open_stay.ward, open_stay.bed_label) == before
    cancelled = admission.ward_stays.get(ward=other)
    assert cancelled.ended_at == cancelled.started_at


def test_cancelling_a_transfer_twice_undoes_two_moves_in_turn(admission, ward_nurse, ward):
    second, third = WardFactory(site=ward.site), WardFactory(site=ward.site)
    services.admission_transfer(
        admission=admission, ward=second, by=ward_nurse, moved_at=hours_ago(5)
    )
    services.admission_transfer(
        admission=admission, ward=third, by=ward_nurse, moved_at=hours_ago(2)
    )
    services.admission_transfer_cancel(admission=admission, by=ward_nurse)
    services.admission_transfer_cancel(admission=admission, by=ward_nurse)
    admission.refresh_from_db()
    assert admission.current_ward == ward
    with pytest.raises(ValidationError):
        services.admission_transfer_cancel(admission=admission, by=ward_nurse)


def test_cancelling_a_transfer_into_a_bed_taken_since_is_refused_and_saves_nothing(
    admission, ward_nurse, ward
):
    other = WardFactory(site=ward.site)
    services.admission_transfer(
        admission=admission, ward=other, by=ward_nurse, moved_at=hours_ago(3)
    )
    AdmissionFactory(current_ward=ward, bed_label=admission.bed_label, admitted_at=hours_ago(2))
    with pytest.raises(ValidationError) as error:
        services.admission_transfer_cancel(admission=admission, by=ward_nurse)
    assert "bed_label" in error.value.message_dict
    admission.refresh_from_db()
    assert admission.current_ward == other
    assert admission.ward_stays.get(ended_at__isnull=True).ward == other


# --- Cancel discharge -------------------------------------------------------------------------


def test_cancelling_a_discharge_brings_the_patient_back_to_their_bed(admission, ward_nurse):
    discharge(admission, ward_nurse)
    services.admission_discharge_cancel(admission=admission, by=ward_nurse)
    admission.refresh_from_db()
    assert admission.status == Admission.Status.IN_HOSPITAL
    assert admission.discharged_at is None
    assert admission.actual_pathway is None and admission.discharge_destination == ""
    assert admission.ward_stays.get(ended_at__isnull=True).ward == admission.current_ward


def test_discharge_can_be_recorded_again_after_a_cancelled_discharge(admission, ward_nurse):
    discharge(admission, ward_nurse, at=hours_ago(3))
    services.admission_discharge_cancel(admission=admission, by=ward_nurse)
    discharge(admission, ward_nurse, at=hours_ago(1))
    admission.refresh_from_db()
    assert admission.status == Admission.Status.DISCHARGED
    assert WardStay.objects.filter(admission=admission, ended_at__isnull=True).count() == 0


def test_cancelling_a_discharge_reopens_the_delay_it_closed(admission, ward_nurse):
    admission.refresh_from_db()
    services.ctr_review_record(
        admission=admission, by=ward_nurse, expected_version=None, reviewed_at=hours_ago(30)
    )
    services.delay_reason_set(
        admission=admission,
        by=ward_nurse,
        reason="HOS01",
        expected_version=None,
        started_at=hours_ago(29),
    )
    discharge(admission, ward_nurse)
    services.admission_discharge_cancel(admission=admission, by=ward_nurse)
    assert DelayEpisode.objects.get(admission=admission).ended_at is None


def test_cancelling_a_discharge_is_refused_once_the_patient_is_back_in(admission, ward_nurse):
    discharge(admission, ward_nurse, at=hours_ago(5))
    services.admission_admit(
        patient=admission.patient, ward=admission.current_ward, admitted_at=hours_ago(2)
    )
    with pytest.raises(ValidationError):
        services.admission_discharge_cancel(admission=admission, by=ward_nurse)
    admission.refresh_from_db()
    assert admission.status == Admission.Status.DISCHARGED


def test_cancelling_a_discharge_of_an_inpatient_is_refused(admission, ward_nurse):
    with pytest.raises(ValidationError):
        services.admission_discharge_cancel(admission=admission, by=ward_nurse)


# --- Merge ------------------------------------------------------------------------------------


def test_merge_moves_stays_and_plans_to_the_surviving_record(admission, ward_nurse):
    duplicate = admission.patient
    survivor = PatientFactory(local_authority=duplicate.local_authority)
    plan = recovery_plan_for(admission, ward_nurse)
    services.patient_merge(prior=duplicate, survivor=survivor, by=ward_nurse)
    admission.refresh_from_db()
    plan.refresh_from_db()
    assert admission.patient == survivor
    assert plan.patient == survivor
    assert not duplicate.admissions.exists()


def test_merge_is_refused_when_both_records_are_in_hospital(admission, ward_nurse):
    other = AdmissionFactory(current_ward=admission.current_ward)
    with pytest.raises(ValidationError) as error:
        services.patient_merge(prior=other.patient, survivor=admission.patient, by=ward_nurse)
    assert "prior" in error.value.message_dict
    other.refresh_from_db()
    assert other.patient != admission.patient


def test_merge_is_refused_when_both_records_have_an_active_plan(admission, ward_nurse):
    other = AdmissionFactory(current_ward=admission.current_ward)
    discharge(other, ward_nurse)
    recovery_plan_for(admission, ward_nurse)
    recovery_plan_for(other, ward_nurse)
    with pytest.raises(ValidationError):
        services.patient_merge(prior=other.patient, survivor=admission.patient, by=ward_nurse)
    assert RecoveryPlan.objects.filter(patient=other.patient).exists()


def test_merge_into_itself_is_refused(admission, ward_nurse):
    with pytest.raises(ValidationError):
        services.patient_merge(prior=admission.patient, survivor=admission.patient, by=ward_nurse)


def test_merge_audits_the_moved_admission(admission, ward_nurse):
    import pghistory.models

    survivor = PatientFactory(local_authority=admission.patient.local_authority)
    services.patient_merge(prior=admission.patient, survivor=survivor, by=ward_nurse)
    events = pghistory.models.Events.objects.references(admission).filter(pgh_label="update")
    moved = [e for e in events if e.pgh_data["patient_id"] == survivor.pk]
    assert len(moved) == 1
    assert moved[0].pgh_context["user"] == ward_nurse.pk
