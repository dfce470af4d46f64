"""Pages and partials: who reaches them (404 for the rest), what they show, bad input, 409, query counts, polling."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from discharge import services as discharge_services
from discharge.models import DelayEpisode, PatientRecordView
from pathways import services
from pathways.models import Referral, ServiceCapacity
from pathways.transitions import Action, State
from tests.factories import AdmissionFactory, ReferralFactory, ServiceFactory
from tests.pathways.conftest import drive, step

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(client, user):
    """Sign in and do the once-a-session work (second-factor check, session stamp) first."""
    client.force_login(user)
    client.get(reverse("home"))


OUTSIDERS = [
    "outsider",
    "uninvolved_carer",
    "other_social_worker",
    "system_leader",
    "family_member",
]


# --- Access: 404 for everyone who may not see the referral -------------------------------------


def referral_urls(referral) -> list[str]:
    args = [referral.pk]
    return [
        reverse("pathways:referral", args=args),
        reverse("pathways:referral_status", args=args),
    ]


def referral_posts(referral) -> list[str]:
    args = [referral.pk]
    return [
        *(
            reverse("pathways:referral_step", args=[referral.pk, a.value])
            for a in Action
            if a not in (Action.REFER, Action.DISCHARGE)
        ),
        *(
            reverse("pathways:tracker_step", args=[referral.pk, a])
            for a in ("first_visit", "care_start", "needs_change", "readmit")
        ),
        reverse("pathways:referral_delay", args=args),
        reverse("pathways:at_home_record", args=args),
    ]


def admission_urls(admission) -> list[str]:
    return [
        reverse("pathways:refer", args=[admission.pk]),
        reverse("pathways:admission_referrals", args=[admission.pk]),
    ]


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_a_referral_is_404_to_everyone_not_involved(
    client, request, persona, referral, everyone, service
):
    drive(referral, State.OFFERED, by=everyone, service=service)
    referral.refresh_from_db()
    version = referral.version
    client.force_login(request.getfixturevalue(persona))
    for url in [*referral_urls(referral), *admission_urls(referral.admission)]:
        assert client.get(url, **HTMX).status_code == 404, url
    for url in [
        *referral_posts(referral),
        reverse("pathways:refer", args=[referral.admission_id]),
        reverse("pathways:board_delay_confirm", args=[referral.admission_id]),
    ]:
        assert client.post(url, {"expected_version": version}, **HTMX).status_code == 404, url
    referral.refresh_from_db()
    assert referral.version == version
    assert (
        client.get(reverse("discharge:patient", args=[referral.admission.patient_id])).status_code
        == 404
    )


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_the_ward_partials_are_404_outside_the_trust(client, request, persona, referral, ward):
    client.force_login(request.getfixturevalue(persona))
    assert (
        client.get(reverse("pathways:ward_referral_statuses", args=[ward.pk]), **HTMX).status_code
        == 404
    )


@pytest.mark.parametrize(
    "persona", ["outsider", "uninvolved_carer", "system_leader", "family_member"]
)
def test_the_hub_queue_is_404_outside_the_hub(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("pathways:hub_queue")).status_code == 404
    assert client.get(reverse("pathways:hub_queue_rows"), **HTMX).status_code == 404


@pytest.mark.parametrize(
    "persona", ["outsider", "other_social_worker", "system_leader", "family_member", "ward_nurse"]
)
def test_the_tracker_is_404_to_all_but_provider_staff(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("pathways:tracker")).status_code == 404


@pytest.mark.parametrize("persona", ["outsider", "system_leader", "family_member", "ward_nurse"])
def test_capacity_and_checks_are_404_outside_the_hub_and_providers(
    client, request, persona, service
):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("pathways:capacity")).status_code == 404
    assert client.get(reverse("pathways:at_home_checks")).status_code == 404


@pytest.mark.parametrize("persona", [*OUTSIDERS, "social_worker", "discharge_coordinator"])
def test_only_the_providers_staff_open_its_capacity(client, request, persona, service):
    client.force_login(request.getfixturevalue(persona))
    url = reverse("pathways:service_capacity", args=[service.pk])
    assert client.get(url).status_code == 404
    assert (
        client.post(url, {"day": timezone.localdate().isoformat(), "available": 3}).status_code
        == 404
    )
    assert not ServiceCapacity.objects.exists()


def test_another_councils_social_worker_does_not_see_the_referral_in_their_queue(
    client, other_social_worker, referral
):
    client.force_login(other_social_worker)
    response = client.get(reverse("pathways:hub_queue"))
    assert response.status_code == 200
    assert f'id="queue-row-{referral.pk}"' not in response.content.decode()


def test_an_uninvolved_provider_does_not_see_the_person_on_its_tracker(
    client, uninvolved_carer, referral, everyone, service
):
    drive(referral, State.DISCHARGED, by=everyone, service=service)
    client.force_login(uninvolved_carer)
    html = client.get(reverse("pathways:tracker")).content.decode()
    assert referral.admission.patient.full_name not in html


def test_the_provider_sees_the_patient_page_only_once_offered(
    client, provider_carer, referral, everyone, service
):
    patient_url = reverse("discharge:patient", args=[referral.admission.patient_id])
    client.force_login(provider_carer)
    assert client.get(patient_url).status_code == 404
    assert client.get(reverse("pathways:referral", args=[referral.pk])).status_code == 404
    drive(referral, State.OFFERED, by=everyone, service=service)
    assert client.get(reverse("pathways:referral", args=[referral.pk])).status_code == 200
    assert client.get(patient_url).status_code == 200
    assert PatientRecordView.objects.filter(user=provider_carer).exists()


def test_a_provider_sees_only_the_referred_admission_on_the_patient_page(
    client, provider_carer, referral, everyone, service, ward
):
    from discharge.selectors import admissions_visible_to

    drive(referral, State.OFFERED, by=everyone, service=service)
    assert list(admissions_visible_to(provider_carer)) == [referral.admission]


def test_a_declined_offer_leaves_the_providers_sight(
    client, provider_carer, referral, everyone, service
):
    drive(referral, State.OFFERED, by=everyone, service=service)
    client.force_login(provider_carer)
    referral.refresh_from_db()
    response = client.post(
        reverse("pathways:referral_step", args=[referral.pk, "decline"]),
        {"decline-expected_version": referral.version, "decline-note": "No capacity this week."},
    )
    assert response.status_code == 302 and response["Location"] == reverse("pathways:tracker")
    assert client.get(reverse("pathways:referral", args=[referral.pk])).status_code == 404


# --- Referring --------------------------------------------------------------------------------


def referral_form(**overrides) -> dict:
    return {
        "pathway": "1",
        "needs": "Help with washing and dressing.",
        "home_situation": "Lives alone, first-floor flat.",
        "carers": "",
        "consent": "given",
        "preferred_outcome": "To go home.",
        **overrides,
    }


def test_the_ward_refers_from_one_form(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    url = reverse("pathways:refer", args=[admission.pk])
    assert "Send the referral" in client.get(url).content.decode()
    response = client.post(url, referral_form())
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("pathways:referral", args=[referral.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Referred to the hub" in page and "Help with washing and dressing." in page


def test_a_pathway_0_referral_is_refused_beside_the_field(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    response = client.post(
        reverse("pathways:refer", args=[admission.pk]), referral_form(pathway="0")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_pathway-error"' in html and "Select a valid choice" in html
    assert not Referral.objects.exists()


def test_missing_needs_are_shown_beside_the_field(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    response = client.post(reverse("pathways:refer", args=[admission.pk]), referral_form(needs=""))
    assert response.status_code == 422
    assert 'id="id_needs-error"' in response.content.decode()
    assert not Referral.objects.exists()


def test_a_second_referral_is_refused_with_a_message(client, ward_nurse, referral):
    client.force_login(ward_nurse)
    response = client.post(reverse("pathways:refer", args=[referral.admission_id]), referral_form())
    assert response.status_code == 422
    assert "already has an open referral" in response.content.decode()
    assert Referral.objects.count() == 1


# --- Steps on the referral page ---------------------------------------------------------------


def test_the_hub_sees_only_its_steps(client, social_worker, referral):
    client.force_login(social_worker)
    html = client.get(reverse("pathways:referral", args=[referral.pk])).content.decode()
    assert 'id="step-triage"' in html and 'id="step-withdraw"' in html
    assert 'id="step-accept"' not in html and 'id="step-rerefer"' not in html


def test_a_step_by_someone_the_table_does_not_name_is_forbidden(client, ward_nurse, referral):
    client.force_login(ward_nurse)
    response = client.post(
        reverse("pathways:referral_step", args=[referral.pk, "triage"]),
        {"triage-expected_version": referral.version, "triage-pathway": "1"},
    )
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.state == State.REFERRED


def test_an_unknown_step_is_404(client, social_worker, referral):
    client.force_login(social_worker)
    assert (
        client.post(reverse("pathways:referral_step", args=[referral.pk, "teleport"])).status_code
        == 404
    )


def test_triage_and_offer_from_the_page(client, social_worker, referral, service):
    client.force_login(social_worker)
    url = lambda action: reverse("pathways:referral_step", args=[referral.pk, action])  # noqa: E731
    response = client.post(url("triage"), {"triage-expected_version": 1, "triage-pathway": "1"})
    assert response.status_code == 302
    page = client.get(reverse("pathways:referral", args=[referral.pk])).content.decode()
    assert "Reablement at home" in page, "the offer form lists the services that fit"
    response = client.post(url("offer"), {"offer-expected_version": 2, "offer-service": service.pk})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.state, referral.service) == (State.OFFERED, service)


def test_an_invalid_start_date_is_shown_beside_the_field(
    client, provider_carer, referral, everyone, service
):
    drive(referral, State.OFFERED, by=everyone, service=service)
    referral.refresh_from_db()
    client.force_login(provider_carer)
    early = timezone.localdate(referral.created_at) - dt.timedelta(days=2)
    response = client.post(
        reverse("pathways:referral_step", args=[referral.pk, "accept"]),
        {"accept-expected_version": referral.version, "accept-start_date": early.isoformat()},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_accept-start_date-error"' in html and "cannot be before the referral" in html
    referral.refresh_from_db()
    assert referral.state == State.OFFERED


def test_a_malformed_date_is_a_form_error(client, provider_carer, referral, everyone, service):
    drive(referral, State.OFFERED, by=everyone, service=service)
    referral.refresh_from_db()
    client.force_login(provider_carer)
    response = client.post(
        reverse("pathways:referral_step", args=[referral.pk, "accept"]),
        {"accept-expected_version": referral.version, "accept-start_date": "soon"},
    )
    assert response.status_code == 422
    assert "Enter a valid date" in response.content.decode()


def test_a_stale_step_answers_409_keeps_the_entry_and_saves_nothing(
    client, social_worker, discharge_coordinator, referral
):
    seen = referral.version
    step(referral, discharge_coordinator, Action.TRIAGE, pathway="1")
    client.force_login(social_worker)
    response = client.post(
        reverse("pathways:referral_step", args=[referral.pk, "triage"]),
        {
            "triage-expected_version": seen,
            "triage-pathway": "3",
            "triage-note": "Care home needed.",
        },
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else moved this referral on first" in html and "Tom Hughes" in html
    assert "Care home needed." in html, "their entry is kept"
    referral.refresh_from_db()
    assert referral.pathway_id == "1"
    assert f'value="{referral.version}"' in html


# --- The hub queue ----------------------------------------------------------------------------


def _referral_for_queue(ward, council, *, waited_hours: float) -> Referral:
    """A referral made ``waited_hours`` ago (the admission is three days old)."""
    admission = AdmissionFactory(current_ward=ward, patient__local_authority=council)
    return ReferralFactory(
        admission=admission, at=timezone.now() - dt.timedelta(hours=waited_hours)
    )


def test_the_queue_lists_the_longest_wait_first_with_targets(client, social_worker, ward, council):
    recent = _referral_for_queue(ward, council, waited_hours=1)
    oldest = _referral_for_queue(ward, council, waited_hours=70)
    client.force_login(social_worker)
    html = client.get(reverse("pathways:hub_queue")).content.decode()
    assert html.index(f'id="queue-row-{oldest.pk}"') < html.index(f'id="queue-row-{recent.pk}"')
    assert "Triage within 4 working hours" in html
    assert "Overdue" in html
    assert "X-HomeFirst-Background" in html, "polling does not keep an idle screen signed in"


def test_the_queue_filters_by_stage_pathway_service_and_council(
    client, social_worker, ward, council, everyone, service, other_service
):
    waiting = _referral_for_queue(ward, council, waited_hours=2)
    offered = drive(
        _referral_for_queue(ward, council, waited_hours=3),
        State.OFFERED,
        by=everyone,
        service=service,
    )
    started = drive(
        _referral_for_queue(ward, council, waited_hours=4),
        State.STARTED,
        by=everyone,
        service=service,
    )
    client.force_login(social_worker)
    queue = reverse("pathways:hub_queue")

    def rows(**params) -> set[int]:
        html = client.get(queue, params).content.decode()
        return {r.pk for r in (waiting, offered, started) if f'id="queue-row-{r.pk}"' in html}

    assert rows() == {waiting.pk, offered.pk}, "a started service is no longer waiting"
    assert rows(stage="started") == {started.pk}
    assert rows(stage="offered") == {offered.pk}
    assert rows(service=service.pk) == {offered.pk}
    assert rows(service=other_service.pk) == set()
    assert rows(pathway="2") == set()
    assert rows(council=council.pk) == {waiting.pk, offered.pk}
    assert rows(stage="nonsense", pathway="9", service="x") == {waiting.pk, offered.pk}


@pytest.mark.parametrize("referrals", [3, 12])
def test_the_queue_queries_do_not_grow_with_referrals(
    client,
    social_worker,
    ward,
    council,
    everyone,
    service,
    django_assert_max_num_queries,
    referrals,
):
    for i in range(referrals):
        referral = _referral_for_queue(ward, council, waited_hours=i + 1)
        discharge_services.ctr_review_record(
            admission=referral.admission, by=everyone, expected_version=None
        )
        if i % 3 == 1:
            drive(referral, State.OFFERED, by=everyone, service=service)
    signed_in(client, social_worker)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("pathways:hub_queue"))
    assert response.content.decode().count('id="queue-row-') == referrals
    with django_assert_max_num_queries(7):
        client.get(reverse("pathways:hub_queue_rows"), **HTMX)


def test_the_queue_suggests_the_delay_reason_and_confirms_it_in_the_row(
    client, social_worker, referral, ward_nurse
):
    discharge_services.ctr_review_record(
        admission=referral.admission, by=ward_nurse, expected_version=None
    )
    referral.admission.refresh_from_db()
    client.force_login(social_worker)
    html = client.get(reverse("pathways:hub_queue")).content.decode()
    assert "Reason needed" in html
    assert "Waiting for confirmation of immediate care needs and pathway" in html
    response = client.post(
        reverse("pathways:referral_delay", args=[referral.pk]),
        {"reason": "HUB03", "expected_version": referral.admission.version},
        **HTMX,
    )
    assert response.status_code == 200
    assert "Saved: delay reason" in response.content.decode()
    episode = DelayEpisode.objects.get()
    assert (episode.reason_id, episode.recorded_by) == ("HUB03", social_worker)


def test_a_stale_delay_confirmation_answers_409(client, social_worker, referral, ward_nurse):
    discharge_services.ctr_review_record(
        admission=referral.admission, by=ward_nurse, expected_version=None
    )
    referral.admission.refresh_from_db()
    seen = referral.admission.version
    discharge_services.edd_set(
        admission=referral.admission,
        by=ward_nurse,
        expected_discharge_date=timezone.localdate(),
        expected_version=seen,
    )
    client.force_login(social_worker)
    response = client.post(
        reverse("pathways:referral_delay", args=[referral.pk]),
        {"reason": "HUB03", "expected_version": seen},
        **HTMX,
    )
    assert response.status_code == 409
    assert not DelayEpisode.objects.exists()


# --- The tracker ------------------------------------------------------------------------------


def test_the_tracker_shows_offers_and_todays_people_with_one_tap_steps(
    client, provider_carer, ward, council, everyone, service
):
    offered = drive(
        ReferralFactory(
            admission=AdmissionFactory(current_ward=ward, patient__local_authority=council)
        ),
        State.OFFERED,
        by=everyone,
        service=service,
    )
    home = drive(
        ReferralFactory(
            admission=AdmissionFactory(current_ward=ward, patient__local_authority=council)
        ),
        State.DISCHARGED,
        by=everyone,
        service=service,
    )
    client.force_login(provider_carer)
    html = client.get(reverse("pathways:tracker")).content.decode()
    assert f'id="offer-{offered.pk}"' in html
    assert f'id="tracker-{home.pk}"' in html
    assert reverse("pathways:tracker_step", args=[home.pk, "first_visit"]) in html


def test_one_tap_records_the_first_visit(client, provider_carer, referral, everyone, service):
    referral = drive(referral, State.DISCHARGED, by=everyone, service=service)
    client.force_login(provider_carer)
    response = client.post(
        reverse("pathways:tracker_step", args=[referral.pk, "first_visit"]),
        {"first_visit-expected_version": referral.version},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Saved: first visit done" in html and "Service started" in html
    referral.refresh_from_db()
    assert referral.state == State.STARTED and referral.first_visit_at is not None


def test_a_stale_tap_answers_409_and_saves_nothing(
    client, provider_carer, referral, everyone, service
):
    referral = drive(referral, State.DISCHARGED, by=everyone, service=service)
    seen = referral.version
    step(referral, provider_carer, Action.NEEDS_CHANGE, note="Now needs two carers.")
    client.force_login(provider_carer)
    response = client.post(
        reverse("pathways:tracker_step", args=[referral.pk, "first_visit"]),
        {"first_visit-expected_version": seen},
        **HTMX,
    )
    assert response.status_code == 409
    assert "Someone updated this person first" in response.content.decode()
    referral.refresh_from_db()
    assert referral.state == State.DISCHARGED


def test_a_tap_that_no_longer_applies_answers_422(
    client, provider_carer, referral, everyone, service
):
    referral = drive(referral, State.STARTED, by=everyone, service=service)
    client.force_login(provider_carer)
    response = client.post(
        reverse("pathways:tracker_step", args=[referral.pk, "first_visit"]),
        {"first_visit-expected_version": referral.version},
        **HTMX,
    )
    assert response.status_code == 422
    assert "cannot be" in response.content.decode()


@pytest.mark.parametrize("people", [3, 12])
def test_the_tracker_queries_do_not_grow_with_people(
    client, provider_carer, ward, council, everyone, service, django_assert_max_num_queries, people
):
    for i in range(people):
        referral = ReferralFactory(
            admission=AdmissionFactory(current_ward=ward, patient__local_authority=council)
        )
        drive(
            referral,
            [State.OFFERED, State.DISCHARGED, State.STARTED][i % 3],
            by=everyone,
            service=service,
        )
    signed_in(client, provider_carer)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("pathways:tracker"))
    html = response.content.decode()
    assert html.count('id="offer-') + html.count('id="tracker-') == people


# --- Capacity ---------------------------------------------------------------------------------


def test_the_provider_declares_capacity(client, provider_carer, service):
    client.force_login(provider_carer)
    url = reverse("pathways:service_capacity", args=[service.pk])
    day = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(url, {"day": day.isoformat(), "available": 5})
    assert response.status_code == 302
    assert ServiceCapacity.objects.get().available == 5
    assert f'data-day="{day.isoformat()}"' in client.get(url).content.decode()


def test_negative_capacity_is_refused_beside_the_field(client, provider_carer, service):
    client.force_login(provider_carer)
    response = client.post(
        reverse("pathways:service_capacity", args=[service.pk]),
        {"day": timezone.localdate().isoformat(), "available": -2},
    )
    assert response.status_code == 422
    assert 'id="id_available-error"' in response.content.decode()
    assert not ServiceCapacity.objects.exists()


def test_capacity_against_demand_counts_waiting_and_booked(
    client, social_worker, provider_carer, referral, everyone, service, ward, council
):
    today = timezone.localdate()
    services.capacity_set(service=service, by=provider_carer, day=today, available=2)
    drive(referral, State.ACCEPTED, by=everyone, service=service)
    drive(
        ReferralFactory(
            admission=AdmissionFactory(current_ward=ward, patient__local_authority=council)
        ),
        State.OFFERED,
        by=everyone,
        service=service,
    )
    client.force_login(social_worker)
    html = client.get(reverse("pathways:capacity")).content.decode()
    row = html[html.index(f'id="service-{service.pk}"') :]
    assert f'data-day="{today.isoformat()}">1 / 2<' in row
    assert "data-awaiting>1<" in row
    assert "data-room-left>0" in row  # 2 declared - 1 booked - 1 waiting for an answer


@pytest.mark.parametrize("count", [2, 8])
def test_capacity_queries_do_not_grow_with_services(
    client, discharge_coordinator, provider, council, django_assert_max_num_queries, count
):
    for _ in range(count):
        ServiceFactory(provider=provider, councils=[council])
    signed_in(client, discharge_coordinator)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("pathways:capacity"))
    assert response.content.decode().count('id="service-') == count


# --- After discharge --------------------------------------------------------------------------


def test_the_91_day_checks_list_who_is_due_and_record_the_answer(
    client, social_worker, referral, everyone, service
):
    referral = drive(referral, State.STARTED, by=everyone, service=service)
    left = timezone.now() - dt.timedelta(days=95)
    type(referral.admission).objects.filter(pk=referral.admission_id).update(
        admitted_at=left - dt.timedelta(days=3), discharged_at=left
    )
    client.force_login(social_worker)
    html = client.get(reverse("pathways:at_home_checks")).content.decode()
    assert f'id="check-{referral.pk}"' in html
    response = client.post(
        reverse("pathways:at_home_record", args=[referral.pk]),
        {"expected_version": referral.version, "at_home": "yes"},
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.at_home_91_days is True
    assert (
        f'id="check-{referral.pk}"'
        not in client.get(reverse("pathways:at_home_checks")).content.decode()
    )


def test_an_early_91_day_check_is_refused_with_a_message(
    client, social_worker, referral, everyone, service
):
    referral = drive(referral, State.STARTED, by=everyone, service=service)
    client.force_login(social_worker)
    response = client.post(
        reverse("pathways:at_home_record", args=[referral.pk]),
        {"expected_version": referral.version, "at_home": "no"},
    )
    assert response.status_code == 422
    referral.refresh_from_db()
    assert referral.at_home_91_days is None


# --- The patient page and the board -----------------------------------------------------------


def test_the_patient_page_loads_the_referral_section(client, ward_nurse, referral):
    client.force_login(ward_nurse)
    html = client.get(
        reverse("discharge:patient", args=[referral.admission.patient_id])
    ).content.decode()
    assert reverse("pathways:admission_referrals", args=[referral.admission_id]) in html
    section = client.get(
        reverse("pathways:admission_referrals", args=[referral.admission_id]), **HTMX
    )
    assert section.status_code == 200
    assert "Referred to the hub" in section.content.decode()
    assert reverse("pathways:referral", args=[referral.pk]) in section.content.decode()


def test_the_patient_page_offers_the_ward_a_referral(client, ward_nurse, admission, social_worker):
    url = reverse("pathways:admission_referrals", args=[admission.pk])
    client.force_login(ward_nurse)
    assert "Refer to the care transfer hub" in client.get(url, **HTMX).content.decode()
    client.force_login(social_worker)
    assert "Refer to the care transfer hub" not in client.get(url, **HTMX).content.decode()


def test_the_board_row_shows_the_status_and_the_suggestion(
    client, ward_nurse, referral, everyone, service
):
    discharge_services.ctr_review_record(
        admission=referral.admission, by=ward_nurse, expected_version=None
    )
    drive(referral, State.OFFERED, by=everyone, service=service)
    client.force_login(ward_nurse)
    html = client.get(
        reverse("discharge:board", args=[referral.admission.current_ward_id])
    ).content.decode()
    assert 'id="transfer-status-' in html
    assert "Offered to a service" in html and "Reablement at home" in html
    assert "Home-based rehabilitation, reablement or recovery services not yet available" in html
    assert (
        reverse("pathways:ward_referral_statuses", args=[referral.admission.current_ward_id])
        in html
    )


def test_confirming_the_suggestion_on_the_board_records_the_delay(
    client, ward_nurse, referral, everyone, service
):
    discharge_services.ctr_review_record(
        admission=referral.admission, by=ward_nurse, expected_version=None
    )
    drive(referral, State.OFFERED, by=everyone, service=service)
    referral.admission.refresh_from_db()
    client.force_login(ward_nurse)
    board = client.get(reverse("discharge:board", args=[referral.admission.current_ward_id]))
    # The Confirm button sends the reason it suggests and the delay the row shows (none yet).
    assert """hx-vals='{"reason": "CAP05", "delay": ""}'""" in board.content.decode()
    response = client.post(
        reverse("pathways:board_delay_confirm", args=[referral.admission_id]),
        {"reason": "CAP05", "delay": ""},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "boardChanged"
    assert "Saved: delay reason" in response.content.decode()
    assert DelayEpisode.objects.get().reason_id == "CAP05"


def test_confirming_a_suggestion_that_has_since_changed_answers_409(
    client, ward_nurse, referral, everyone, service
):
    discharge_services.ctr_review_record(
        admission=referral.admission, by=ward_nurse, expected_version=None
    )
    drive(referral, State.OFFERED, by=everyone, service=service)
    client.force_login(ward_nurse)
    response = client.post(
        reverse("pathways:board_delay_confirm", args=[referral.admission_id]),
        {"reason": "CAP01", "delay": ""},
        **HTMX,
    )
    assert response.status_code == 409
    assert not DelayEpisode.objects.exists()
    # The row comes back with the suggestion as it is now, and says nothing was saved.
    html = response.content.decode()
    assert "Home-based rehabilitation, reablement or recovery services not yet available" in html
    assert "Not confirmed: the suggestion or the delay reason changed" in html


def test_confirming_after_a_colleague_recorded_a_delay_answers_409_and_keeps_theirs(
    client, ward_nurse, discharge_coordinator, referral, everyone, service
):
    admission = referral.admission
    discharge_services.ctr_review_record(admission=admission, by=ward_nurse, expected_version=None)
    drive(referral, State.OFFERED, by=everyone, service=service)
    client.force_login(ward_nurse)
    client.get(reverse("discharge:board", args=[admission.current_ward_id]))  # shows no delay
    admission.refresh_from_db()
    discharge_services.delay_reason_set(
        admission=admission, by=discharge_coordinator, reason="HUB01", expected_version=None
    )
    response = client.post(
        reverse("pathways:board_delay_confirm", args=[admission.pk]),
        {"reason": "CAP05", "delay": ""},
        **HTMX,
    )
    assert response.status_code == 409
    assert DelayEpisode.objects.get().reason_id == "HUB01"


def test_a_board_row_edited_elsewhere_still_confirms_what_it_shows(
    client, ward_nurse, referral, everyone, service
):
    # The row's own version is old (an EDD changed on another tablet); the suggestion is not.
    admission = referral.admission
    discharge_services.ctr_review_record(admission=admission, by=ward_nurse, expected_version=None)
    drive(referral, State.OFFERED, by=everyone, service=service)
    admission.refresh_from_db()
    discharge_services.edd_set(
        admission=admission,
        by=ward_nurse,
        expected_discharge_date=timezone.localdate() + dt.timedelta(days=2),
        expected_version=admission.version,
    )
    client.force_login(ward_nurse)
    response = client.post(
        reverse("pathways:board_delay_confirm", args=[admission.pk]),
        {"reason": "CAP05", "delay": ""},
        **HTMX,
    )
    assert response.status_code == 200
    assert DelayEpisode.objects.get().reason_id == "CAP05"


@pytest.mark.parametrize("patients", [4, 16])
def test_the_board_with_referrals_keeps_its_query_count(
    client, ward_nurse, ward, council, everyone, service, django_assert_max_num_queries, patients
):
    for i in range(patients):
        admission = AdmissionFactory(current_ward=ward, patient__local_authority=council)
        if i % 2:
            drive(
                ReferralFactory(admission=admission),
                [State.REFERRED, State.OFFERED][i % 4 // 2],
                by=everyone,
                service=service,
            )
    signed_in(client, ward_nurse)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("discharge:board", args=[ward.pk]))
    assert response.content.decode().count('id="transfer-status-') == patients
    with django_assert_max_num_queries(10):
        client.get(reverse("pathways:ward_referral_statuses", args=[ward.pk]), **HTMX)


# --- Polling: 304 while nothing changed -------------------------------------------------------


def _poll(client, url, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(url, **HTMX, **headers)


@pytest.mark.parametrize(
    "url_of",
    [
        lambda r: reverse("pathways:hub_queue_rows"),
        lambda r: reverse("pathways:admission_referrals", args=[r.admission_id]),
        lambda r: reverse("pathways:referral_status", args=[r.pk]),
        lambda r: reverse("pathways:ward_referral_statuses", args=[r.admission.current_ward_id]),
    ],
    ids=["hub queue", "patient page", "referral page", "ward board"],
)
def test_polled_regions_answer_304_until_something_changes(
    client, discharge_coordinator, social_worker, referral, url_of, django_assert_max_num_queries
):
    url = url_of(referral)
    signed_in(client, discharge_coordinator)
    first = _poll(client, url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag and "no-cache" in first["Cache-Control"] and "private" in first["Cache-Control"]
    with django_assert_max_num_queries(6):
        again = _poll(client, url, etag)
    assert again.status_code == 304 and again.content == b""
    step(referral, social_worker, Action.TRIAGE, pathway="2")
    changed = _poll(client, url, etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "Triaged by the hub" in changed.content.decode()


def test_the_board_statuses_stay_304_until_something_they_show_changes(
    client, ward_nurse, referral, everyone, service
):
    # An offered referral suggests a delay reason, shown once the patient is ready to leave.
    drive(referral, State.OFFERED, by=everyone, service=service)
    admission = referral.admission
    unreferred = AdmissionFactory(
        current_ward=admission.current_ward,
        patient__local_authority=admission.patient.local_authority,
    )
    url = reverse("pathways:ward_referral_statuses", args=[admission.current_ward_id])
    client.force_login(ward_nurse)
    etag = _poll(client, url)["ETag"]
    discharge_services.edd_set(
        admission=admission,
        by=ward_nurse,
        expected_discharge_date=timezone.localdate() + dt.timedelta(days=3),
        expected_version=None,
    )
    discharge_services.ctr_review_record(
        admission=admission, by=ward_nurse, criteria=["03"], expected_version=None
    )
    # Ready to leave, but nothing suggests a delay reason for this one: its status is as it was.
    discharge_services.ctr_review_record(admission=unreferred, by=ward_nurse, expected_version=None)
    assert _poll(client, url, etag).status_code == 304
    # Ready to leave with a suggestion: the Confirm button appears.
    discharge_services.ctr_review_record(admission=admission, by=ward_nurse, expected_version=None)
    ready = _poll(client, url, etag)
    assert ready.status_code == 200 and "Suggested delay reason" in ready.content.decode()
    etag = ready["ETag"]
    pathway = "3" if unreferred.planned_pathway_id != "3" else "2"
    discharge_services.planned_pathway_set(
        admission=unreferred, by=ward_nurse, pathway=pathway, expected_version=None
    )
    moved = _poll(client, url, etag)
    assert moved.status_code == 200 and moved["ETag"] != etag


def test_the_etag_depends_on_who_asks(client, discharge_coordinator, social_worker, referral):
    url = reverse("pathways:admission_referrals", args=[referral.admission_id])
    client.force_login(discharge_coordinator)
    etag = _poll(client, url)["ETag"]
    client.force_login(social_worker)
    assert _poll(client, url, etag).status_code == 200


# --- Finding the pages ------------------------------------------------------------------------


def test_each_role_finds_its_transfer_pages(
    client, social_worker, provider_carer, discharge_coordinator, ward_nurse, system_leader
):
    hub, tracker = reverse("pathways:hub_queue"), reverse("pathways:tracker")
    client.force_login(social_worker)
    home = client.get(reverse("home")).content.decode()
    assert hub in home and tracker not in home
    client.force_login(provider_carer)
    home = client.get(reverse("home")).content.decode()
    assert tracker in home and hub not in home
    client.force_login(discharge_coordinator)
    assert hub in client.get(reverse("discharge:site_overview")).content.decode()
    client.force_login(ward_nurse)
    assert hub not in client.get(reverse("discharge:site_overview")).content.decode()
    client.force_login(system_leader)
    assert reverse("pathways:capacity") not in client.get(reverse("home")).content.decode()


def test_the_91_day_checks_are_scoped_to_the_council_and_the_provider(
    client, other_social_worker, uninvolved_carer, provider_carer, referral, everyone, service
):
    referral = drive(referral, State.ENDED, by=everyone, service=service)
    left = timezone.now() - dt.timedelta(days=100)
    type(referral.admission).objects.filter(pk=referral.admission_id).update(
        admitted_at=left - dt.timedelta(days=3), discharged_at=left
    )
    for user in (other_social_worker, uninvolved_carer):
        client.force_login(user)
        assert (
            f'id="check-{referral.pk}"'
            not in client.get(reverse("pathways:at_home_checks")).content.decode()
        )
    client.force_login(provider_carer)
    assert (
        f'id="check-{referral.pk}"'
        in client.get(reverse("pathways:at_home_checks")).content.decode()
    )
