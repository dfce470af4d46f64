import datetime as dt

import pghistory.models
import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from discharge import services
from discharge.models import (
    Admission,
    CtrReview,
    DelayEpisode,
    DischargeReadyDateChange,
    ExpectedDischargeDateChange,
    PlannedPathwayChange,
    WardStay,
)
from tests.factories import AdmissionFactory, PatientFactory, WardFactory

pytestmark = pytest.mark.django_db


def review(admission, by, *, criteria=(), exception_reason="", at=None):
    admission.refresh_from_db()
    return services.ctr_review_record(
        admission=admission,
        by=by,
        criteria=criteria,
        exception_reason=exception_reason,
        expected_version=admission.version,
        reviewed_at=at,
    )


def days_ago(n: int, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=n)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


# --- Criteria to reside and the discharge ready date -----------------------------------------


def test_review_meeting_a_criterion_leaves_no_ready_date(admission, ward_nurse):
    result = review(admission, ward_nurse, criteria=["02"])
    admission.refresh_from_db()
    assert result.meets is True
    assert [c.code for c in result.criteria.all()] == ["02"]
    assert admission.discharge_ready_date is None
    assert admission.latest_review == result


def test_first_nctr_review_sets_the_ready_date_and_keeps_history(admission, ward_nurse):
    review(admission, ward_nurse, at=days_ago(2))
    admission.refresh_from_db()
    assert admission.discharge_ready_date == days_ago(2).date()
    assert list(
        DischargeReadyDateChange.objects.values_list("discharge_ready_date", flat=True)
    ) == [days_ago(2).date()]


def test_later_nctr_reviews_keep_the_first_ready_date(admission, ward_nurse):
    review(admission, ward_nurse, at=days_ago(2))
    review(admission, ward_nurse, at=days_ago(1))
    review(admission, ward_nurse)
    admission.refresh_from_db()
    assert admission.discharge_ready_date == days_ago(2).date()
    assert DischargeReadyDateChange.objects.count() == 1


def test_meeting_criteria_again_clears_the_ready_date_and_the_next_run_starts_afresh(
    admission, ward_nurse
):
    review(admission, ward_nurse, at=days_ago(2))
    review(admission, ward_nurse, criteria=["03"], at=days_ago(1))
    admission.refresh_from_db()
    assert admission.discharge_ready_date is None
    review(admission, ward_nurse)
    admission.refresh_from_db()
    assert admission.discharge_ready_date == timezone.localdate()
    history = list(DischargeReadyDateChange.objects.values_list("discharge_ready_date", flat=True))
    assert history == [days_ago(2).date(), None, timezone.localdate()]


def test_clinical_exception_is_not_ready_to_leave(admission, ward_nurse):
    result = review(admission, ward_nurse, exception_reason="End of life care on the ward")
    admission.refresh_from_db()
    assert result.is_clinical_exception
    assert admission.discharge_ready_date is None


def test_exception_with_criteria_met_is_refused(admission, ward_nurse):
    with pytest.raises(ValidationError) as error:
        review(admission, ward_nurse, criteria=["01"], exception_reason="why")
    assert "exception_reason" in error.value.message_dict
    assert CtrReview.objects.count() == 0


def test_unknown_criterion_is_refused_and_nothing_saved(admission, ward_nurse):
    with pytest.raises(ValidationError) as error:
        review(admission, ward_nurse, criteria=["99"])
    assert "criteria" in error.value.message_dict
    assert CtrReview.objects.count() == 0


def test_review_of_a_discharged_patient_is_refused(admission, ward_nurse):
    services.admission_discharge(
        admission=admission,
        by=ward_nurse,
        discharged_at=timezone.now(),
        destination="usual_residence",
        actual_pathway="0",
        expected_version=admission.version,
    )
    with pytest.raises(ValidationError, match="already left hospital"):
        review(admission, ward_nurse)
    assert CtrReview.objects.count() == 0


def test_stale_review_is_refused_with_the_current_record(
    admission, ward_nurse, discharge_coordinator
):
    seen = admission.version
    services.edd_set(
        admission=admission,
        by=discharge_coordinator,
        expected_discharge_date=timezone.localdate() + dt.timedelta(days=2),
        expected_version=seen,
    )
    with pytest.raises(services.StaleEdit) as stale:
        services.ctr_review_record(admission=admission, by=ward_nurse, expected_version=seen)
    assert stale.value.current.updated_by == discharge_coordinator
    assert CtrReview.objects.count() == 0


def test_reviews_are_never_overwritten(admission, ward_nurse):
    result = review(admission, ward_nurse)
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        CtrReview.objects.filter(pk=result.pk).update(note="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        CtrReview.objects.filter(pk=result.pk).delete()


def test_every_save_bumps_the_version(admission, ward_nurse):
    before = admission.version
    review(admission, ward_nurse)
    admission.refresh_from_db()
    assert admission.version == before + 1
    assert admission.updated_by == ward_nurse


# --- EDD, pathway and delays -----------------------------------------------------------------


def test_edd_changes_are_all_kept(admission, ward_nurse):
    first = timezone.localdate() + dt.timedelta(days=1)
    second = timezone.localdate() + dt.timedelta(days=4)
    services.edd_set(
        admission=admission, by=ward_nurse, expected_discharge_date=first, expected_version=None
    )
    services.edd_set(
        admission=admission, by=ward_nurse, expected_discharge_date=second, expected_version=None
    )
    admission.refresh_from_db()
    assert admission.expected_discharge_date == second
    assert list(
        ExpectedDischargeDateChange.objects.values_list("expected_discharge_date", flat=True)
    ) == [
        first,
        second,
    ]


def test_edd_before_admission_is_refused(admission, ward_nurse):
    with pytest.raises(ValidationError) as error:
        services.edd_set(
            admission=admission,
            by=ward_nurse,
            expected_discharge_date=timezone.localdate(admission.admitted_at)
            - dt.timedelta(days=1),
            expected_version=None,
        )
    assert "expected_discharge_date" in error.value.message_dict
    assert not ExpectedDischargeDateChange.objects.exists()


def test_pathway_outside_zero_to_three_is_refused(admission, ward_nurse):
    with pytest.raises(ValidationError) as error:
        services.planned_pathway_set(
            admission=admission, by=ward_nurse, pathway="4", expected_version=None
        )
    assert "pathway" in error.value.message_dict
    assert not PlannedPathwayChange.objects.exists()


def test_pathway_changes_are_kept(admission, ward_nurse):
    services.planned_pathway_set(
        admission=admission, by=ward_nurse, pathway="1", expected_version=None
    )
    services.planned_pathway_set(
        admission=admission, by=ward_nurse, pathway="2", expected_version=None
    )
    assert list(PlannedPathwayChange.objects.values_list("pathway_id", flat=True)) == ["1", "2"]


def test_delay_reason_needs_a_patient_ready_to_leave(admission, ward_nurse):
    with pytest.raises(ValidationError, match="no longer meets"):
        services.delay_reason_set(
            admission=admission, by=ward_nurse, reason="HOS03", expected_version=None
        )
    assert not DelayEpisode.objects.exists()


def test_unknown_delay_reason_is_refused(admission, ward_nurse):
    review(admission, ward_nurse)
    with pytest.raises(ValidationError) as error:
        services.delay_reason_set(
            admission=admission, by=ward_nurse, reason="NOPE1", expected_version=None
        )
    assert "reason" in error.value.message_dict


def test_changing_the_delay_reason_ends_one_episode_and_starts_another(admission, ward_nurse):
    review(admission, ward_nurse)
    first = services.delay_reason_set(
        admission=admission, by=ward_nurse, reason="HUB03", expected_version=None
    )
    second = services.delay_reason_set(
        admission=admission, by=ward_nurse, reason="CAP05", expected_version=None
    )
    first.refresh_from_db()
    assert first.ended_at is not None
    assert second.ended_at is None
    assert DelayEpisode.objects.filter(admission=admission, ended_at__isnull=True).count() == 1


def test_meeting_criteria_again_ends_the_delay(admission, ward_nurse):
    review(admission, ward_nurse, at=days_ago(1))
    episode = services.delay_reason_set(
        admission=admission,
        by=ward_nurse,
        reason="HOS03",
        expected_version=None,
        started_at=days_ago(1, 11),
    )
    review(admission, ward_nurse, criteria=["04"])
    episode.refresh_from_db()
    assert episode.ended_at is not None


# --- Discharge -------------------------------------------------------------------------------


def test_discharge_closes_the_ward_stay_and_the_delay_together(admission, ward_nurse):
    review(admission, ward_nurse, at=days_ago(1))
    services.delay_reason_set(
        admission=admission,
        by=ward_nurse,
        reason="CAP05",
        expected_version=None,
        started_at=days_ago(1, 11),
    )
    when = timezone.now() - dt.timedelta(minutes=5)
    admission.refresh_from_db()
    services.admission_discharge(
        admission=admission,
        by=ward_nurse,
        discharged_at=when,
        destination="usual_residence",
        actual_pathway="1",
        expected_version=admission.version,
    )
    admission.refresh_from_db()
    assert admission.status == Admission.Status.DISCHARGED
    assert admission.actual_pathway_id == "1"
    assert WardStay.objects.get(admission=admission).ended_at == when
    assert DelayEpisode.objects.get(admission=admission).ended_at == when
    assert admission.days_delayed(timezone.localdate()) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"discharged_at": "before_admission"}, "discharged_at"),
        ({"discharged_at": "future"}, "discharged_at"),
        ({"destination": "moon"}, "destination"),
        ({"actual_pathway": "7"}, "actual_pathway"),
        ({"destination": "care_home_new", "actual_pathway": "1"}, "destination"),
    ],
)
def test_bad_discharges_are_refused_and_nothing_changes(admission, ward_nurse, kwargs, field):
    times = {
        "before_admission": admission.admitted_at - dt.timedelta(hours=1),
        "future": timezone.now() + dt.timedelta(days=1),
    }
    args = {
        "discharged_at": timezone.now(),
        "destination": "usual_residence",
        "actual_pathway": "0",
    }
    args.update({k: times.get(v, v) for k, v in kwargs.items()})
    with pytest.raises(ValidationError) as error:
        services.admission_discharge(
            admission=admission, by=ward_nurse, expected_version=None, **args
        )
    assert field in error.value.message_dict
    admission.refresh_from_db()
    assert admission.status == Admission.Status.IN_HOSPITAL
    assert WardStay.objects.get(admission=admission).ended_at is None


def test_death_in_hospital_has_no_pathway(admission, ward_nurse):
    services.admission_discharge(
        admission=admission,
        by=ward_nurse,
        discharged_at=timezone.now(),
        destination="died",
        actual_pathway=None,
        expected_version=None,
    )
    admission.refresh_from_db()
    assert admission.status == Admission.Status.DIED
    assert admission.actual_pathway is None


# --- Admissions, moves and database constraints ----------------------------------------------


def test_transfer_closes_one_stay_and_opens_the_next(admission, ward_nurse, trust):
    other = WardFactory(site__organisation=trust)
    services.admission_transfer(admission=admission, ward=other, by=ward_nurse, bed_label="C4")
    stays = list(WardStay.objects.filter(admission=admission).order_by("started_at"))
    assert [s.ward for s in stays] == [admission.current_ward, other]
    assert stays[0].ended_at == stays[1].started_at
    admission.refresh_from_db()
    assert admission.current_ward == other


def test_second_open_admission_for_a_patient_is_refused(admission, ward_nurse):
    with pytest.raises(ValidationError, match="already in hospital"):
        services.admission_admit(
            patient=admission.patient, ward=admission.current_ward, admitted_at=timezone.now()
        )


def test_database_refuses_two_open_admissions(admission):
    with (
        pytest.raises(IntegrityError, match="admission_one_open_per_patient"),
        transaction.atomic(),
    ):
        Admission.objects.create(
            patient=admission.patient,
            site=admission.site,
            current_ward=admission.current_ward,
            admitted_at=timezone.now(),
        )


def test_database_refuses_two_open_ward_stays(admission):
    with pytest.raises(IntegrityError), transaction.atomic():
        WardStay.objects.create(
            admission=admission, ward=admission.current_ward, started_at=timezone.now()
        )


def test_database_refuses_a_double_booked_bed(admission, council):
    with (
        pytest.raises(IntegrityError, match="ward_stay_no_double_booked_bed"),
        transaction.atomic(),
    ):
        AdmissionFactory(
            current_ward=admission.current_ward,
            bed_label=admission.bed_label,
            patient__local_authority=council,
        )


def test_database_refuses_discharge_before_admission(admission):
    with (
        pytest.raises(IntegrityError, match="admission_discharge_not_before_admission"),
        transaction.atomic(),
    ):
        Admission.objects.filter(pk=admission.pk).update(
            status="discharged",
            discharged_at=admission.admitted_at - dt.timedelta(hours=1),
            actual_pathway_id="0",
            discharge_destination="usual_residence",
        )


def test_patient_create_rejects_a_bad_nhs_number(council):
    with pytest.raises(ValidationError) as error:
        services.patient_create(
            nhs_number_input="485 777 3456",
            given_name="Ann",
            family_name="Lee",
            date_of_birth=dt.date(1940, 1, 1),
            local_authority=council,
        )
    assert "nhs_number" in error.value.message_dict


def test_patient_create_stores_ten_digits(council):
    patient = services.patient_create(
        nhs_number_input="485 777 3457",
        given_name="Ann",
        family_name="Lee",
        date_of_birth=dt.date(1940, 1, 1),
        local_authority=council,
    )
    assert patient.nhs_number == "4857773457"
    assert patient.nhs_number_display == "485 777 3457"


def test_patient_create_refuses_a_duplicate(council):
    PatientFactory(nhs_number="4857773457", local_authority=council)
    with pytest.raises(ValidationError, match="already registered"):
        services.patient_create(
            nhs_number_input="4857773457",
            given_name="Ann",
            family_name="Lee",
            date_of_birth=dt.date(1940, 1, 1),
            local_authority=council,
        )


# --- Audit -----------------------------------------------------------------------------------


def test_changes_are_audited_with_who_made_them(admission, ward_nurse):
    services.edd_set(
        admission=admission,
        by=ward_nurse,
        expected_discharge_date=timezone.localdate() + dt.timedelta(days=2),
        expected_version=None,
    )
    update = pghistory.models.Events.objects.tracks(admission).get(pgh_label="update")
    assert update.pgh_context["user"] == ward_nurse.pk
    assert "expected_discharge_date" in update.pgh_diff


def test_bulk_updates_are_audited_too(admission):
    Admission.objects.filter(pk=admission.pk).update(bed_label="Z9")
    events = pghistory.models.Events.objects.tracks(admission)
    assert any((e.pgh_diff or {}).get("bed_label", [None, None])[1] == "Z9" for e in events)
