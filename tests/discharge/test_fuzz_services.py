"""Fuzzing discharge readiness's services: typed but hostile input, in any order, on any admission.

Each call either succeeds and leaves the admission consistent with its history, or raises a
ValidationError (or StaleEdit) and writes nothing; no database error, TypeError or overflow leaks.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given, note
from hypothesis import strategies as st

from discharge import reference, services
from discharge.models import Admission, DelayEpisode, DischargeDestination, Patient
from tests.discharge.consistency import assert_admission_consistent
from tests.factories import AdmissionFactory, PatientFactory, WardFactory, valid_nhs_number
from tests.fuzz import FUZZ, rolled_back
from tests.fuzz_services import (
    call_and_check,
    code,
    day,
    moment,
    mutated,
    nasty,
    plain,
    resolve_version,
    version,
    words,
)

pytestmark = pytest.mark.django_db

REFUSALS = (ValidationError, services.StaleEdit)
CRITERIA = [c for c, _label in reference.CRITERIA]
PATHWAYS = ["0", "1", "2", "3"]
DELAYS = ["HOS01", "HOS03", "HUB01", "CAP01", "INT01"]
SEXES = list(Patient.Sex.values)


def hours_ago(hours: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)


def ready_then_delayed(admission: Admission, by) -> None:
    """Ready to leave from 30 hours ago, with a delay reason from 20 hours ago."""
    services.ctr_review_record(
        admission=admission, by=by, expected_version=None, reviewed_at=hours_ago(30)
    )
    services.delay_reason_set(
        admission=admission, by=by, reason="HOS03", expected_version=None, started_at=hours_ago(20)
    )


@pytest.fixture
def world(admission, ward, ward_nurse, trust, council, other_trust) -> dict:
    """Admissions in each state a service meets, wards to move to and organisations to name."""
    nctr = AdmissionFactory(current_ward=ward, patient__local_authority=council)
    services.ctr_review_record(admission=nctr, by=ward_nurse, criteria=[], expected_version=None)
    left = AdmissionFactory(current_ward=ward, patient__local_authority=council)
    services.admission_discharge(
        admission=left,
        by=ward_nurse,
        discharged_at=timezone.now() - dt.timedelta(hours=1),
        destination="usual_residence",
        actual_pathway="0",
        expected_version=None,
    )
    # A day and more of history: ready to leave 30 hours ago, delayed from 20 hours ago.
    history = AdmissionFactory(current_ward=ward, patient__local_authority=council)
    ready_then_delayed(history, ward_nurse)
    moved = AdmissionFactory(current_ward=ward, patient__local_authority=council)
    next_door = WardFactory(site=ward.site, name="Ward 8")
    services.admission_transfer(admission=moved, ward=next_door, by=ward_nurse, bed_label="B1")
    return {
        "admissions": {
            "fresh": admission,
            "nctr": nctr,
            "history": history,
            "left": left,
            "moved": moved,
        },
        "wards": {
            "same": ward,
            "next_door": next_door,
            "other_trust": WardFactory(site__organisation=other_trust),
        },
        "organisations": {"council": council, "trust": trust, "none": None},
    }


def _operation(world: dict, by) -> st.SearchStrategy:
    """One call of a discharge service on an admission, with generated arguments."""
    wards = st.sampled_from(list(world["wards"].values()))
    organisations = st.sampled_from(list(world["organisations"].values()))
    return st.one_of(
        st.fixed_dictionaries(
            {
                "service": st.just(services.ctr_review_record),
                "criteria": st.one_of(
                    st.lists(st.sampled_from(CRITERIA), max_size=2, unique=True),
                    st.lists(code(*CRITERIA), max_size=3),
                ),
                "exception_reason": st.one_of(st.just(""), words()),
                "note": words(),
                "reviewed_at": st.one_of(st.none(), moment()),
            }
        ),
        st.fixed_dictionaries(
            {
                "service": st.just(services.edd_set),
                "expected_discharge_date": day(),
                "changed_at": st.one_of(st.none(), moment()),
            }
        ),
        st.fixed_dictionaries(
            {
                "service": st.just(services.planned_pathway_set),
                "pathway": code(*PATHWAYS),
                "changed_at": st.one_of(st.none(), moment()),
            }
        ),
        st.fixed_dictionaries(
            {
                "service": st.just(services.delay_reason_set),
                "reason": code(*DELAYS),
                "responsible_organisation": organisations,
                "started_at": st.one_of(st.none(), moment()),
            }
        ),
        st.fixed_dictionaries(
            {
                "service": st.just(services.admission_discharge),
                "discharged_at": moment(),
                "destination": code(*DischargeDestination.values),
                "actual_pathway": st.one_of(st.none(), code(*PATHWAYS)),
            }
        ),
        st.fixed_dictionaries(
            {
                "service": st.just(services.admission_transfer),
                "ward": wards,
                "moved_at": st.one_of(st.none(), moment()),
                "bed_label": st.one_of(st.just(""), words()),
            }
        ),
        st.fixed_dictionaries(
            {
                "service": st.sampled_from(
                    [
                        services.admission_cancel,
                        services.admission_transfer_cancel,
                        services.admission_discharge_cancel,
                    ]
                )
            }
        ),
    )


@FUZZ
@given(data=st.data())
def test_board_services_refuse_cleanly_or_leave_the_admission_consistent(world, ward_nurse, data):
    target = data.draw(st.sampled_from(list(world["admissions"])), label="admission")
    steps = data.draw(
        st.lists(_operation(world, ward_nurse), min_size=1, max_size=4), label="calls"
    )
    with rolled_back():
        admission_id = world["admissions"][target].pk
        for step in steps:
            kwargs = dict(step)
            service = kwargs.pop("service")
            admission = Admission.objects.get(pk=admission_id)
            kwargs["expected_version"] = resolve_version(
                data.draw(version(), label="version"), admission.version
            )
            note(f"{service.__name__}({kwargs})")
            call_and_check(
                partial(service, admission=admission, by=ward_nurse, **kwargs),
                refusals=REFUSALS,
                check=lambda: assert_admission_consistent(admission_id),
            )


FULLWIDTH = "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10"
NEW_PATIENT = mutated(
    {
        "nhs_number_input": st.integers(min_value=700_000, max_value=800_000).map(valid_nhs_number),
        "given_name": plain(),
        "family_name": plain(),
        "date_of_birth": st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 1, 1)),
        "local_authority": st.just("council"),
        "sex": st.sampled_from(SEXES),
        "postcode": st.sampled_from(["LS1 4AP", "ls6 2qq", ""]),
        "gp_practice_code": st.sampled_from(["B86001", ""]),
        "lives_alone": st.booleans(),
        "unpaid_carer": st.one_of(st.just(""), plain()),
        "communication_needs": st.one_of(st.just(""), plain()),
    },
    {
        "nhs_number_input": st.one_of(
            st.sampled_from(["485 777 3457", "4857773456", FULLWIDTH, "485-777-3457"]), words()
        ),
        "given_name": nasty(),
        "family_name": nasty(),
        "date_of_birth": day(),
        "local_authority": st.just("trust"),
        "sex": nasty(),
        "postcode": nasty(),
        "gp_practice_code": nasty(),
        "unpaid_carer": nasty(),
        "communication_needs": nasty(),
    },
)


@FUZZ
@given(values=NEW_PATIENT)
def test_registering_a_patient_refuses_cleanly_or_saves_a_valid_record(world, ward_nurse, values):
    values["local_authority"] = world["organisations"][values["local_authority"]]
    with rolled_back():
        saved = []
        call_and_check(
            lambda: saved.append(services.patient_create(by=ward_nurse, **values)),
            refusals=(ValidationError,),
            check=lambda: saved[0].full_clean(),
        )


@FUZZ
@given(
    values=st.fixed_dictionaries(
        {},
        optional={
            "given_name": words(),
            "family_name": words(),
            "date_of_birth": day(),
            "sex": code(*SEXES),
            "postcode": words(),
            "gp_practice_code": words(),
            "local_authority": st.sampled_from(["council", "trust"]),
        },
    )
)
def test_correcting_a_patient_refuses_cleanly_or_saves_a_valid_record(world, ward_nurse, values):
    patient = world["admissions"]["fresh"].patient
    organisations = world["organisations"]
    values = {k: organisations[v] if k == "local_authority" else v for k, v in values.items()}
    with rolled_back():
        call_and_check(
            lambda: services.patient_update(patient=patient, by=ward_nurse, **values),
            refusals=(ValidationError,),
            check=lambda: Patient.objects.get(pk=patient.pk).full_clean(),
        )


ADMISSION = mutated(
    {
        "patient": st.just("new"),
        "ward": st.sampled_from(["same", "next_door"]),
        "admitted_at": st.timedeltas(
            min_value=dt.timedelta(days=-3), max_value=dt.timedelta(0)
        ).map(lambda offset: timezone.now() + offset),
        "bed_label": st.sampled_from(["", "B12", "Side room 2"]),
        "method": st.sampled_from(Admission.Method.values),
        "specialty": st.sampled_from(["", "Geriatric medicine"]),
    },
    {
        "patient": st.sampled_from(["in_hospital", "left"]),
        "ward": st.just("other_trust"),
        "admitted_at": moment(),
        "bed_label": nasty(),
        "method": nasty(),
        "specialty": nasty(),
    },
)


@FUZZ
@given(values=ADMISSION)
def test_admitting_refuses_cleanly_or_opens_a_consistent_stay(world, ward_nurse, values):
    with rolled_back():
        who = values.pop("patient")
        if who == "new":
            patient = PatientFactory(local_authority=world["organisations"]["council"])
        else:
            patient = world["admissions"]["fresh" if who == "in_hospital" else "left"].patient
        values["ward"] = world["wards"][values["ward"]]
        saved = []
        call_and_check(
            lambda: saved.append(
                services.admission_admit(patient=patient, by=ward_nurse, **values)
            ),
            refusals=(ValidationError,),
            check=lambda: assert_admission_consistent(saved[0].pk),
        )


# --- Found by fuzzing ---------------------------------------------------------------------------


def test_a_review_before_the_latest_one_is_refused(admission, ward_nurse):
    """It became the 'latest' review and moved the discharge ready date out of order."""
    services.ctr_review_record(
        admission=admission, by=ward_nurse, criteria=[], expected_version=None
    )
    with pytest.raises(ValidationError) as refused:
        services.ctr_review_record(
            admission=admission,
            by=ward_nurse,
            criteria=["01"],
            expected_version=None,
            reviewed_at=timezone.now() - dt.timedelta(days=1),
        )
    assert "reviewed_at" in refused.value.message_dict
    assert_admission_consistent(admission.pk)


def test_a_new_delay_reason_cannot_start_before_the_current_one(admission, ward_nurse):
    """The two episodes overlapped: the old one was ended after the new one began."""
    services.ctr_review_record(
        admission=admission,
        by=ward_nurse,
        criteria=[],
        expected_version=None,
        reviewed_at=timezone.now() - dt.timedelta(days=2),
    )
    services.delay_reason_set(
        admission=admission, by=ward_nurse, reason="HOS03", expected_version=None
    )
    with pytest.raises(ValidationError):
        services.delay_reason_set(
            admission=admission,
            by=ward_nurse,
            reason="HUB01",
            expected_version=None,
            started_at=timezone.now() - dt.timedelta(days=1),
        )
    assert_admission_consistent(admission.pk)


def test_a_review_between_ready_and_the_delay_ends_the_delay_when_it_began(admission, ward_nurse):
    """The delay was ended at the review, before it began: a check constraint's database error."""
    ready_then_delayed(admission, ward_nurse)
    services.ctr_review_record(
        admission=admission,
        by=ward_nurse,
        exception_reason="Awaiting a scan result",
        expected_version=None,
        reviewed_at=hours_ago(25),
    )
    delay = DelayEpisode.objects.get(admission=admission)
    assert delay.ended_at == delay.started_at
    assert_admission_consistent(admission.pk)


def test_a_delay_cannot_start_before_the_last_one_ended(admission, ward_nurse):
    ready_then_delayed(admission, ward_nurse)
    services.ctr_review_record(
        admission=admission,
        by=ward_nurse,
        criteria=["01"],
        expected_version=None,
        reviewed_at=hours_ago(10),
    )
    services.ctr_review_record(
        admission=admission, by=ward_nurse, expected_version=None, reviewed_at=hours_ago(5)
    )
    with pytest.raises(ValidationError):
        services.delay_reason_set(
            admission=admission,
            by=ward_nurse,
            reason="HUB01",
            expected_version=None,
            started_at=hours_ago(15),
        )
    assert_admission_consistent(admission.pk)


@pytest.mark.parametrize(
    "change",
    [
        {"given_name": "x" * 101},
        {"postcode": "\u00df" * 6},
        {"unpaid_carer": "y" * 201},
        {"family_name": "Nul\x00l"},
        {"sex": "unknown-ish"},
        {"given_name": "  "},
    ],
)
def test_registering_a_patient_with_what_the_columns_cannot_hold_is_a_validation_error(
    council, change
):
    """Each was a database error (value too long, NUL byte, check constraint) or a blank name."""
    values = {
        "nhs_number_input": valid_nhs_number(654_321),
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": dt.date(1950, 1, 1),
        "local_authority": council,
        **change,
    }
    with pytest.raises(ValidationError) as refused:
        services.patient_create(**values)
    assert set(refused.value.message_dict) == set(change)
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    "change", [{"bed_label": "B" * 21}, {"method": "ambulance"}, {"specialty": "s" * 101}]
)
def test_admitting_with_what_the_columns_cannot_hold_is_a_validation_error(ward, council, change):
    patient = PatientFactory(local_authority=council)
    values = {"admitted_at": timezone.now(), "bed_label": "B1", **change}
    with pytest.raises(ValidationError) as refused:
        services.admission_admit(patient=patient, ward=ward, **values)
    assert set(refused.value.message_dict) == set(change)
    assert not Admission.objects.exists()


@pytest.mark.parametrize(
    "call",
    [
        {"service": services.planned_pathway_set, "pathway": "1\x00"},
        {"service": services.ctr_review_record, "criteria": ["0\x00"]},
        {"service": services.delay_reason_set, "reason": "HOS\x00"},
    ],
)
def test_a_code_with_a_nul_in_it_is_unknown_not_a_database_error(admission, ward_nurse, call):
    call = dict(call)
    service = call.pop("service")
    with pytest.raises(ValidationError):
        service(admission=admission, by=ward_nurse, expected_version=None, **call)
