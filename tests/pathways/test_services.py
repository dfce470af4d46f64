"""Services: every write's rules, its bad input (named fields), 409 when stale, and the discharge hook."""

from __future__ import annotations

import datetime as dt

import pghistory.models
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from discharge import services as discharge_services
from discharge.models import DelayEpisode
from pathways import services
from pathways.models import Referral, ReferralTransition, Service, ServiceCapacity
from pathways.services import NotAllowed, StaleReferral
from pathways.transitions import Action, State
from tests.factories import AdmissionFactory, ReferralFactory, ServiceFactory
from tests.pathways.conftest import discharge_home, drive, step

pytestmark = pytest.mark.django_db

REFERRAL = {
    "needs": "Needs help to wash and dress.",
    "home_situation": "Lives alone, two steps to the door.",
    "carers": "",
    "consent": "given",
    "preferred_outcome": "To be independent again.",
}


def field_of(error: ValidationError) -> set[str]:
    return set(error.message_dict)


# --- Referring --------------------------------------------------------------------------------


def test_the_ward_refers_and_the_first_step_is_recorded(admission, ward_nurse):
    referral = services.referral_create(admission=admission, by=ward_nurse, pathway="2", **REFERRAL)
    assert referral.state == State.REFERRED
    assert referral.proposed_delay_reason_id == "HUB03"
    row = referral.transitions.get()
    assert (row.action, row.from_state, row.to_state, row.by) == (
        "refer",
        "",
        "referred",
        ward_nurse,
    )
    admission.refresh_from_db()
    assert admission.planned_pathway_id == "2", "the ward's plan follows the referral"


@pytest.mark.parametrize(
    ("pathway", "message"),
    [("0", "Pathway 0 needs no referral"), ("5", "Choose pathway 1, 2 or 3")],
)
def test_a_pathway_0_or_unknown_pathway_referral_is_refused(
    admission, ward_nurse, pathway, message
):
    with pytest.raises(ValidationError) as refused:
        services.referral_create(admission=admission, by=ward_nurse, pathway=pathway, **REFERRAL)
    assert message in refused.value.message_dict["pathway"][0]
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("needs", "  "),
        ("home_situation", ""),
        ("preferred_outcome", ""),
        ("consent", "maybe"),
        ("carers", "x" * 2001),
    ],
)
def test_referral_bad_input_names_the_field(admission, ward_nurse, field, value):
    with pytest.raises(ValidationError) as refused:
        services.referral_create(
            admission=admission, by=ward_nurse, pathway="1", **{**REFERRAL, field: value}
        )
    assert field_of(refused.value) == {field}
    assert not Referral.objects.exists()


def test_a_second_open_referral_is_refused(referral, ward_nurse):
    with pytest.raises(ValidationError) as refused:
        services.referral_create(
            admission=referral.admission, by=ward_nurse, pathway="1", **REFERRAL
        )
    assert "already has an open referral" in str(refused.value)


def test_only_the_ward_of_the_trust_refers(admission, social_worker, provider_carer, outsider):
    for user in (social_worker, provider_carer, outsider):
        with pytest.raises(NotAllowed):
            services.referral_create(admission=admission, by=user, pathway="1", **REFERRAL)


def test_a_patient_who_has_left_cannot_be_referred(admission, ward_nurse):
    discharge_home(admission, ward_nurse)
    with pytest.raises(ValidationError) as refused:
        services.referral_create(admission=admission, by=ward_nurse, pathway="1", **REFERRAL)
    assert "already left hospital" in str(refused.value)


# --- Steps ------------------------------------------------------------------------------------


def test_triage_can_change_the_pathway_and_the_plan_follows(referral, social_worker):
    step(referral, social_worker, Action.TRIAGE, pathway="2", note="Needs a rehab bed.")
    referral.refresh_from_db()
    assert referral.pathway_id == "2"
    assert referral.admission.planned_pathway_id == "2"
    row = referral.transitions.last()
    assert (row.pathway_id, row.note, row.by) == ("2", "Needs a rehab bed.", social_worker)


def test_triage_to_pathway_0_is_refused(referral, social_worker):
    with pytest.raises(ValidationError) as refused:
        step(referral, social_worker, Action.TRIAGE, pathway="0")
    assert field_of(refused.value) == {"pathway"}


def test_offer_of_an_unknown_service_is_refused(referral, everyone, social_worker):
    drive(referral, State.TRIAGED, by=everyone, service=None)
    ghost = Service(pk=987654, name="Nobody's service", kind="home_reablement")
    with pytest.raises(ValidationError) as refused:
        step(referral, social_worker, Action.OFFER, service=ghost)
    assert field_of(refused.value) == {"service"}
    with pytest.raises(ValidationError) as missing:
        step(referral, social_worker, Action.OFFER, service=None)
    assert field_of(missing.value) == {"service"}


def test_offer_to_a_service_elsewhere_or_of_the_wrong_kind_is_refused(
    referral, everyone, social_worker, provider, other_council
):
    drive(referral, State.TRIAGED, by=everyone, service=None)
    elsewhere = ServiceFactory(provider=provider, councils=[other_council])
    beds = ServiceFactory(
        provider=provider,
        kind="care_home_bed",
        councils=[referral.admission.patient.local_authority],
    )
    closed = ServiceFactory(
        provider=provider, councils=[referral.admission.patient.local_authority], active=False
    )
    for service, message in [
        (elsewhere, "does not cover the area"),
        (beds, "does not take people on pathway 1"),
        (closed, "not taking referrals"),
    ]:
        with pytest.raises(ValidationError) as refused:
            step(referral, social_worker, Action.OFFER, service=service)
        assert message in refused.value.message_dict["service"][0]
    referral.refresh_from_db()
    assert referral.state == State.TRIAGED and referral.service is None


def test_accept_needs_a_start_date_not_before_the_referral(
    referral, everyone, service, provider_carer
):
    drive(referral, State.OFFERED, by=everyone, service=service)
    day_before = timezone.localdate(referral.created_at) - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        step(referral, provider_carer, Action.ACCEPT, start_date=day_before)
    assert field_of(refused.value) == {"start_date"}
    assert "cannot be before the referral" in str(refused.value)
    with pytest.raises(ValidationError) as missing:
        step(referral, provider_carer, Action.ACCEPT)
    assert field_of(missing.value) == {"start_date"}
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    step(referral, provider_carer, Action.ACCEPT, start_date=tomorrow)
    referral.refresh_from_db()
    assert (referral.state, referral.start_date) == (State.ACCEPTED, tomorrow)
    assert referral.proposed_delay_reason_id == "INT04"


def test_decline_and_withdraw_need_a_reason(
    referral, everyone, service, provider_carer, ward_nurse
):
    drive(referral, State.OFFERED, by=everyone, service=service)
    with pytest.raises(ValidationError) as refused:
        step(referral, provider_carer, Action.DECLINE, note=" ")
    assert field_of(refused.value) == {"note"}
    with pytest.raises(ValidationError) as refused:
        step(referral, ward_nurse, Action.WITHDRAW)
    assert field_of(refused.value) == {"note"}


def test_a_decline_hands_the_referral_back_to_the_hub(referral, everyone, service, provider_carer):
    drive(referral, State.OFFERED, by=everyone, service=service)
    step(referral, provider_carer, Action.DECLINE, note="No carers free in that area this week.")
    referral.refresh_from_db()
    assert (referral.state, referral.service) == (State.TRIAGED, None)
    assert referral.transitions.last().service == service


def test_an_unknown_outcome_is_refused(referral, everyone, service, provider_carer):
    drive(referral, State.STARTED, by=everyone, service=service)
    for outcome in ("", "cured"):
        with pytest.raises(ValidationError) as refused:
            step(referral, provider_carer, Action.END, outcome=outcome)
        assert field_of(refused.value) == {"outcome"}
    step(referral, provider_carer, Action.END, outcome="long_term_care")
    referral.refresh_from_db()
    assert (referral.state, referral.outcome) == (State.ENDED, "long_term_care")
    assert referral.outcome_recorded_at is not None


def test_an_unknown_action_is_refused(referral, everyone):
    with pytest.raises(ValidationError) as refused:
        services.referral_transition(
            referral=referral, by=everyone, action="teleport", expected_version=referral.version
        )
    assert field_of(refused.value) == {"action"}


def test_care_starts_once(referral, everyone, service, provider_carer):
    drive(referral, State.DISCHARGED, by=everyone, service=service)
    step(referral, provider_carer, Action.CARE_START)
    referral.refresh_from_db()
    assert referral.state == State.STARTED
    assert referral.first_visit_at == referral.care_started_at
    with pytest.raises(ValidationError) as refused:
        step(referral, provider_carer, Action.CARE_START)
    assert "already started" in str(refused.value)


def test_readmitted_ends_the_episode_with_that_outcome(referral, everyone, service, provider_carer):
    drive(referral, State.STARTED, by=everyone, service=service)
    step(referral, provider_carer, Action.READMIT)
    referral.refresh_from_db()
    assert (referral.state, referral.outcome) == (State.ENDED, "readmitted")


def test_an_emergency_readmission_ends_support_under_way_at_home(
    referral, everyone, service, ward, ward_nurse
):
    drive(referral, State.STARTED, by=everyone, service=service)
    patient = referral.admission.patient
    again = discharge_services.admission_admit(
        patient=patient, ward=ward, admitted_at=timezone.now(), by=ward_nurse
    )
    referral.refresh_from_db()
    assert (referral.state, referral.outcome) == (State.ENDED, "readmitted")
    last = referral.transitions.order_by("-pk").first()
    assert (last.action, last.by_id) == (Action.READMIT, ward_nurse.pk)
    assert "Admitted again as an emergency" in last.note
    assert not again.transfer_referrals.exists()


def test_an_elective_admission_leaves_support_at_home_alone(
    referral, everyone, service, ward, ward_nurse
):
    drive(referral, State.DISCHARGED, by=everyone, service=service)
    discharge_services.admission_admit(
        patient=referral.admission.patient,
        ward=ward,
        admitted_at=timezone.now(),
        by=ward_nurse,
        method="elective",
    )
    referral.refresh_from_db()
    assert referral.state == State.DISCHARGED


def test_an_ended_episode_is_not_ended_again_by_a_readmission(
    referral, everyone, service, ward, ward_nurse
):
    drive(referral, State.ENDED, by=everyone, service=service)
    discharge_services.admission_admit(
        patient=referral.admission.patient, ward=ward, admitted_at=timezone.now(), by=ward_nurse
    )
    referral.refresh_from_db()
    assert referral.outcome == "independent"


def test_re_referral_is_refused_once_the_patient_has_left(referral, ward_nurse):
    step(referral, ward_nurse, Action.WITHDRAW, note="Family will manage.")
    discharge_home(referral.admission, ward_nurse)
    with pytest.raises(ValidationError) as refused:
        step(referral, ward_nurse, Action.REREFER)
    assert "left hospital" in str(refused.value)


def test_re_referral_after_a_withdrawal_starts_again(referral, ward_nurse):
    step(referral, ward_nurse, Action.WITHDRAW, note="Unwell again: needs the acute bed.")
    step(referral, ward_nurse, Action.REREFER, note="Ready again.")
    referral.refresh_from_db()
    assert referral.state == State.REFERRED
    assert [t.action for t in referral.transitions.all()] == ["refer", "withdraw", "rerefer"]


def test_a_step_in_the_future_is_refused(referral, social_worker):
    with pytest.raises(ValidationError) as refused:
        services.referral_transition(
            referral=referral,
            by=social_worker,
            action="triage",
            pathway="1",
            expected_version=referral.version,
            at=timezone.now() + dt.timedelta(hours=1),
        )
    assert field_of(refused.value) == {"at"}


def test_a_stale_step_raises_and_saves_nothing(referral, social_worker, discharge_coordinator):
    seen = referral.version
    services.referral_transition(
        referral=referral,
        by=discharge_coordinator,
        action="triage",
        pathway="1",
        expected_version=seen,
    )
    with pytest.raises(StaleReferral) as stale:
        services.referral_transition(
            referral=referral, by=social_worker, action="triage", pathway="2", expected_version=seen
        )
    assert stale.value.current.updated_by == discharge_coordinator
    referral.refresh_from_db()
    assert referral.pathway_id == "1"
    assert referral.transitions.count() == 2


def test_every_change_is_audited_with_who_made_it(referral, social_worker):
    step(referral, social_worker, Action.TRIAGE, pathway="1")
    events = pghistory.models.Events.objects.references(referral).filter(pgh_label="update")
    assert any((e.pgh_context or {}).get("user") == social_worker.pk for e in events)


# --- Following the patient out of hospital ----------------------------------------------------


def test_discharge_moves_an_accepted_referral_on(referral, everyone, service, ward_nurse):
    drive(referral, State.ACCEPTED, by=everyone, service=service)
    discharge_home(referral.admission, ward_nurse)
    referral.refresh_from_db()
    assert referral.state == State.DISCHARGED
    last = referral.transitions.last()
    assert (last.action, last.by) == (Action.DISCHARGE, ward_nurse)
    assert referral.proposed_delay_reason_id is None


def test_leaving_before_a_service_accepted_withdraws_the_referral(
    referral, social_worker, ward_nurse
):
    step(referral, social_worker, Action.TRIAGE, pathway="1")
    discharge_home(referral.admission, ward_nurse)
    referral.refresh_from_db()
    assert referral.state == State.WITHDRAWN
    assert "before a service accepted" in referral.transitions.last().note


def test_dying_in_hospital_withdraws_the_referral(referral, ward_nurse):
    admission = referral.admission
    discharge_services.admission_discharge(
        admission=admission,
        by=ward_nurse,
        discharged_at=timezone.now(),
        destination="died",
        actual_pathway=None,
        expected_version=None,
    )
    referral.refresh_from_db()
    assert referral.state == State.WITHDRAWN
    assert referral.transitions.last().note == "Died in hospital."


def test_discharge_without_a_referral_is_untouched(admission, ward_nurse):
    discharge_home(admission, ward_nurse)
    admission.refresh_from_db()
    assert admission.status == "discharged"
    assert not ReferralTransition.objects.exists()


def test_a_cancelled_discharge_takes_the_referral_back_to_accepted(
    referral, everyone, service, ward_nurse
):
    drive(referral, State.ACCEPTED, by=everyone, service=service)
    referral.refresh_from_db()
    start_date = referral.start_date
    discharge_home(referral.admission, ward_nurse)
    admission = referral.admission
    admission.refresh_from_db()
    discharge_services.admission_discharge_cancel(admission=admission, by=ward_nurse)
    referral.refresh_from_db()
    assert (referral.state, referral.service, referral.start_date) == (
        State.ACCEPTED,
        service,
        start_date,
    )
    last = referral.transitions.last()
    assert (last.action, last.from_state, last.to_state, last.by) == (
        Action.DISCHARGE_CANCEL,
        State.DISCHARGED,
        State.ACCEPTED,
        ward_nurse,
    )
    # The real discharge, later, moves it on again.
    discharge_home(admission, ward_nurse)
    referral.refresh_from_db()
    assert referral.state == State.DISCHARGED


def test_a_cancelled_discharge_leaves_a_started_service_to_the_provider(
    referral, everyone, service, ward_nurse, provider_carer
):
    drive(referral, State.ACCEPTED, by=everyone, service=service)
    discharge_home(referral.admission, ward_nurse)
    step(referral, provider_carer, Action.FIRST_VISIT)
    admission = referral.admission
    admission.refresh_from_db()
    discharge_services.admission_discharge_cancel(admission=admission, by=ward_nurse)
    referral.refresh_from_db()
    assert referral.state == State.STARTED


def test_nobody_cancels_a_referral_s_discharge_by_hand(referral, everyone, service, ward_nurse):
    drive(referral, State.ACCEPTED, by=everyone, service=service)
    discharge_home(referral.admission, ward_nurse)
    with pytest.raises(ValidationError) as refused:
        step(referral, ward_nurse, Action.DISCHARGE_CANCEL)
    assert "cancelled by the hospital's ADT feed" in str(refused.value)


def test_the_ward_cannot_move_a_referral_to_discharged_by_hand(
    referral, everyone, service, ward_nurse
):
    drive(referral, State.ACCEPTED, by=everyone, service=service)
    with pytest.raises(ValidationError) as refused:
        step(referral, ward_nurse, Action.DISCHARGE)
    assert "recorded on the ward board" in str(refused.value)


# --- Capacity ---------------------------------------------------------------------------------


def test_capacity_is_one_row_per_service_per_day(service, provider_carer):
    today = timezone.localdate()
    services.capacity_set(service=service, by=provider_carer, day=today, available=4)
    services.capacity_set(service=service, by=provider_carer, day=today, available=2)
    row = ServiceCapacity.objects.get()
    assert (row.day, row.available, row.declared_by) == (today, 2, provider_carer)


@pytest.mark.parametrize(
    ("field", "day_offset", "available"),
    [("available", 0, -1), ("day", -1, 3), ("day", 120, 3), ("available", 0, "3")],
)
def test_capacity_bad_input_names_the_field(service, provider_carer, field, day_offset, available):
    day = timezone.localdate() + dt.timedelta(days=day_offset)
    with pytest.raises(ValidationError) as refused:
        services.capacity_set(service=service, by=provider_carer, day=day, available=available)
    assert field_of(refused.value) == {field}
    assert not ServiceCapacity.objects.exists()


def test_only_the_providers_staff_declare_its_capacity(
    service, uninvolved_carer, social_worker, discharge_coordinator
):
    for user in (uninvolved_carer, social_worker, discharge_coordinator):
        with pytest.raises(NotAllowed):
            services.capacity_set(service=service, by=user, day=timezone.localdate(), available=1)
    assert not ServiceCapacity.objects.exists()


# --- After discharge --------------------------------------------------------------------------


def _left_days_ago(referral, everyone, service, days: int) -> Referral:
    referral = drive(referral, State.STARTED, by=everyone, service=service)
    # Midday on the local day `days` ago: "now minus N days" can fall on another local day
    # near midnight when the clocks differ between then and now.
    left = timezone.make_aware(
        dt.datetime.combine(timezone.localdate() - dt.timedelta(days=days), dt.time(12))
    )
    # Arrange the past: the admission and the first visit happened `days` ago.
    type(referral.admission).objects.filter(pk=referral.admission_id).update(
        admitted_at=left - dt.timedelta(days=5), discharged_at=left
    )
    referral.refresh_from_db()
    return referral


def test_the_91_day_check_is_recorded_once_due(referral, everyone, service, social_worker):
    referral = _left_days_ago(referral, everyone, service, days=91)
    services.referral_at_home_91_days_record(
        referral=referral, by=social_worker, at_home=True, expected_version=referral.version
    )
    referral.refresh_from_db()
    assert referral.at_home_91_days is True
    assert referral.at_home_91_days_recorded_by == social_worker


def test_the_91_day_check_is_refused_early_or_by_the_ward(
    referral, everyone, service, provider_carer, ward_nurse
):
    referral = _left_days_ago(referral, everyone, service, days=60)
    with pytest.raises(ValidationError) as refused:
        services.referral_at_home_91_days_record(
            referral=referral, by=provider_carer, at_home=True, expected_version=None
        )
    assert field_of(refused.value) == {"at_home"} and "falls due on" in str(refused.value)
    with pytest.raises(NotAllowed):
        services.referral_at_home_91_days_record(
            referral=referral, by=ward_nurse, at_home=True, expected_version=None
        )


def test_the_91_day_check_needs_a_yes_or_no(referral, everyone, service, provider_carer):
    referral = _left_days_ago(referral, everyone, service, days=100)
    with pytest.raises(ValidationError) as refused:
        services.referral_at_home_91_days_record(
            referral=referral, by=provider_carer, at_home="yes", expected_version=None
        )
    assert field_of(refused.value) == {"at_home"}


# --- The delay reason follows the work --------------------------------------------------------


def _ready(admission, by):
    discharge_services.ctr_review_record(admission=admission, by=by, expected_version=None)
    admission.refresh_from_db()


def test_confirming_the_suggestion_records_the_delay_held_by_the_provider(
    referral, everyone, service, social_worker, ward_nurse
):
    _ready(referral.admission, ward_nurse)
    drive(referral, State.OFFERED, by=everyone, service=service)
    referral.refresh_from_db()
    assert referral.proposed_delay_reason_id == "CAP05"
    episode = services.referral_delay_reason_confirm(
        referral=referral,
        by=social_worker,
        reason=referral.proposed_delay_reason_id,
        expected_version=referral.admission.version,
    )
    assert (episode.reason_id, episode.responsible_organisation) == ("CAP05", service.provider)
    assert episode.recorded_by == social_worker


def test_a_hub_reason_is_held_by_the_persons_council(referral, social_worker, ward_nurse, council):
    _ready(referral.admission, ward_nurse)
    episode = services.referral_delay_reason_confirm(
        referral=referral, by=social_worker, reason="HUB03", expected_version=None
    )
    assert episode.responsible_organisation == council


def test_the_provider_does_not_record_delay_reasons(
    referral, everyone, service, provider_carer, ward_nurse
):
    _ready(referral.admission, ward_nurse)
    drive(referral, State.OFFERED, by=everyone, service=service)
    with pytest.raises(NotAllowed):
        services.referral_delay_reason_confirm(
            referral=referral, by=provider_carer, reason="CAP05", expected_version=None
        )
    assert not DelayEpisode.objects.exists()


def test_a_delay_reason_needs_a_patient_ready_to_leave(referral, social_worker):
    with pytest.raises(ValidationError) as refused:
        services.referral_delay_reason_confirm(
            referral=referral, by=social_worker, reason="HUB03", expected_version=None
        )
    assert field_of(refused.value) == {"reason"}


def test_a_stale_delay_confirmation_raises(referral, social_worker, ward_nurse):
    _ready(referral.admission, ward_nurse)
    seen = referral.admission.version
    discharge_services.edd_set(
        admission=referral.admission,
        by=ward_nurse,
        expected_discharge_date=timezone.localdate(),
        expected_version=seen,
    )
    with pytest.raises(discharge_services.StaleEdit):
        services.referral_delay_reason_confirm(
            referral=referral, by=social_worker, reason="HUB03", expected_version=seen
        )
    assert not DelayEpisode.objects.exists()


def test_factories_make_referrals_through_the_service(ward, council):
    referral = ReferralFactory(
        admission=AdmissionFactory(current_ward=ward, patient__local_authority=council)
    )
    assert referral.transitions.get().action == "refer"
