"""Fuzzing transfer-of-care pages: hostile posts and query strings, no server error, no half-save."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import given, note
from hypothesis import strategies as st

from discharge.models import Admission
from pathways.forms import STEP_FORMS
from pathways.models import Consent, Outcome, Referral
from pathways.selectors import TRACKER_STEPS, referral_for
from pathways.transitions import Action, State
from tests.factories import AdmissionFactory, ReferralFactory, WardFactory
from tests.fuzz import (
    FUZZ,
    changed_tables,
    date_text,
    db_state,
    form,
    number,
    one_of_or_junk,
    rolled_back,
    shows_an_error,
    text,
)
from tests.pathways.conftest import LIVE_STATES, referral_in_each_state
from tests.pathways.consistency import assert_referral_consistent

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PERSONAS = (
    "ward_nurse",
    "discharge_coordinator",
    "social_worker",
    "provider_carer",
    "uninvolved_carer",
    "outsider",
    "family_member",
)
# They play no part in the referrals below, whatever state they are in.
STRANGERS = {"uninvolved_carer", "outsider", "family_member"}
PATHWAYS = ["0", "1", "2", "3"]
SERVICE_TOKENS = ["SERVICE", "OTHER_SERVICE"]


@pytest.fixture
def people(request) -> dict:
    return {name: request.getfixturevalue(name) for name in PERSONAS}


@pytest.fixture
def referrals(ward, council, ward_nurse, everyone, service, other_trust, other_council) -> dict:
    """One referral in each state, each of its own inpatient, and one of another trust."""
    made = referral_in_each_state(
        ward=ward, council=council, ward_nurse=ward_nurse, everyone=everyone, service=service
    )
    foreign = AdmissionFactory(
        current_ward=WardFactory(site__organisation=other_trust),
        patient__local_authority=other_council,
    )
    made["foreign"] = ReferralFactory(admission=foreign).pk
    return made


def _fill(fields: dict, *, referral_id: int, services: dict, prefix: str = "") -> dict:
    """Put real values behind the tokens: the referral's version, a service's id."""
    current = Referral.objects.filter(pk=referral_id).values_list("version", flat=True).first()
    versions = {"current": str(current or 1), "stale": str((current or 1) + 1)}
    filled = {}
    for name, value in fields.items():
        if name == "expected_version":
            value = versions.get(value, value)
        if name == "service":
            value = str(services[value].pk) if value in services else value
        filled[f"{prefix}{name}" if name not in ("id", "pk", "by") else name] = value
    return filled


STEP_FIELDS = form(
    expected_version=st.one_of(st.sampled_from(["current", "stale"]), number()),
    note=text(),
    pathway=one_of_or_junk(*PATHWAYS),
    service=st.one_of(st.sampled_from(SERVICE_TOKENS), number()),
    start_date=date_text(),
    outcome=one_of_or_junk(*Outcome.values),
)


def _stranger(who: str, target: str) -> bool:
    """Nobody but the other trust's nurse sees its referral; strangers see none of ours."""
    if target == "foreign":
        return who != "outsider"
    return who in STRANGERS or target == "missing"


def _check_refused(response, before: dict, after: dict) -> None:
    """A refused step saved nothing and said why (or answered 404/403 with nothing to show)."""
    assert changed_tables(before, after) == []
    if response.status_code == 422:
        assert shows_an_error(response)
    if response.status_code == 409:
        assert "Someone else moved this referral on first" in response.content.decode()


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from([*(s.value for s in LIVE_STATES), "foreign", "missing"]),
    action=st.one_of(st.sampled_from(list(Action)), st.sampled_from(["nope", "x" * 300])),
    fields=STEP_FIELDS,
)
def test_referral_steps_refuse_bad_input_and_save_nothing(
    client, people, referrals, service, other_service, who, target, action, fields
):
    referral_id = referrals.get(target, 2**62)
    slug = action.value if isinstance(action, Action) else action
    services = {"SERVICE": service, "OTHER_SERVICE": other_service}
    with rolled_back():
        user = people[who]
        client.force_login(user)
        visible = referral_for(user=user, referral_id=referral_id) is not None
        data = _fill(fields, referral_id=referral_id, services=services, prefix=f"{slug}-")
        before = db_state()
        response = client.post(reverse("pathways:referral_step", args=[referral_id, slug]), data)
        after = db_state()
        note(f"{who} posted {data} to {target} {slug}: {response.status_code}")
        if response.status_code == 302:
            assert_referral_consistent(referral_id)

    assert response.status_code in (302, 403, 404, 409, 422)
    if _stranger(who, target) or not visible:
        assert response.status_code == 404
    elif action in STEP_FORMS:
        assert response.status_code != 404
    if response.status_code != 302:
        _check_refused(response, before, after)


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from([State.DISCHARGED.value, State.STARTED.value, State.ACCEPTED.value]),
    action=st.sampled_from(TRACKER_STEPS),
    fields=form(
        expected_version=st.one_of(st.sampled_from(["current", "stale"]), number()), note=text()
    ),
)
def test_tracker_taps_refuse_bad_input_and_save_nothing(
    client, people, referrals, who, target, action, fields
):
    referral_id = referrals[target]
    with rolled_back():
        client.force_login(people[who])
        data = _fill(fields, referral_id=referral_id, services={}, prefix=f"{action.value}-")
        before = db_state()
        url = reverse("pathways:tracker_step", args=[referral_id, action.value])
        response = client.post(url, data, **HTMX)
        after = db_state()
        note(f"{who} tapped {action} on {target} with {data}: {response.status_code}")
        if response.status_code == 200:
            assert_referral_consistent(referral_id)

    assert response.status_code in (200, 403, 404, 409, 422)
    if who in STRANGERS:
        assert response.status_code == 404
    if response.status_code != 200:
        assert changed_tables(before, after) == []
    if response.status_code in (409, 422):
        assert shows_an_error(response)


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from([*(s.value for s in LIVE_STATES), "foreign"]),
    htmx=st.booleans(),
    fields=form(
        expected_version=st.one_of(st.sampled_from(["current", "stale"]), number()),
        reason=one_of_or_junk("HOS03", "HUB01", "CAP01", "INT01", "WEL01"),
    ),
)
def test_delay_reason_from_the_referral_refuses_bad_input(
    client, people, referrals, who, target, htmx, fields
):
    referral_id = referrals[target]
    admission_id = Referral.objects.get(pk=referral_id).admission_id
    current = Admission.objects.get(pk=admission_id).version
    versions = {"current": str(current), "stale": str(current + 1)}
    data = {k: versions.get(v, v) if k == "expected_version" else v for k, v in fields.items()}
    with rolled_back():
        client.force_login(people[who])
        before = db_state()
        url = reverse("pathways:referral_delay", args=[referral_id])
        response = client.post(url, data, **(HTMX if htmx else {}))
        after = db_state()
        note(f"{who} posted {data} to {target}: {response.status_code}")

    assert response.status_code in (200, 204, 302, 403, 404, 409, 422)
    if _stranger(who, target):
        assert response.status_code == 404
    if response.status_code in (403, 404, 409, 422):
        assert changed_tables(before, after) == []
    if response.status_code in (409, 422):
        assert shows_an_error(response)


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from(["fresh", State.REFERRED.value, State.WITHDRAWN.value, "foreign"]),
    fields=form(
        pathway=one_of_or_junk(*PATHWAYS),
        needs=text(),
        home_situation=text(),
        carers=text(),
        consent=one_of_or_junk(*Consent.values),
        preferred_outcome=text(),
    ),
)
def test_the_referral_form_refuses_bad_input_and_saves_nothing(
    client, people, referrals, admission, who, target, fields
):
    if target == "fresh":
        admission_id = admission.pk
    else:
        admission_id = Referral.objects.get(pk=referrals[target]).admission_id
    with rolled_back():
        client.force_login(people[who])
        before = db_state()
        response = client.post(reverse("pathways:refer", args=[admission_id]), fields)
        after = db_state()
        note(f"{who} referred {target} with {fields}: {response.status_code}")
        if response.status_code == 302:
            made = Referral.objects.filter(admission_id=admission_id).order_by("-pk").first()
            assert_referral_consistent(made.pk)

    assert response.status_code in (302, 403, 404, 422)
    ward = who in ("ward_nurse", "discharge_coordinator") and target != "foreign"
    if not ward and not (who == "outsider" and target == "foreign"):
        assert response.status_code == 404
    if response.status_code != 302:
        assert changed_tables(before, after) == []
    if response.status_code == 422:
        assert shows_an_error(response)


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from(["SERVICE", "OTHER_SERVICE", "missing"]),
    fields=form(day=date_text(), available=number()),
)
def test_capacity_declarations_refuse_bad_input(
    client, people, service, other_service, who, target, fields
):
    service_id = {"SERVICE": service.pk, "OTHER_SERVICE": other_service.pk}.get(target, 2**62)
    with rolled_back():
        client.force_login(people[who])
        before = db_state()
        response = client.post(reverse("pathways:service_capacity", args=[service_id]), fields)
        after = db_state()
        note(f"{who} declared {fields} for {target}: {response.status_code}")

    assert response.status_code in (302, 404, 422)
    if (who, target) not in {("provider_carer", "SERVICE"), ("uninvolved_carer", "OTHER_SERVICE")}:
        assert response.status_code == 404
    if response.status_code != 302:
        assert changed_tables(before, after) == []
    if response.status_code == 422:
        assert shows_an_error(response)


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from([*(s.value for s in LIVE_STATES), "foreign"]),
    fields=form(
        reason=st.one_of(st.just("suggested"), text()),
        delay=st.one_of(st.just("none"), st.just("HUB01"), text()),
    ),
)
def test_confirming_the_suggested_delay_from_the_board_refuses_bad_input(
    client, people, referrals, who, target, fields
):
    referral = Referral.objects.get(pk=referrals[target])
    admission_id = referral.admission_id
    shown = {"suggested": str(referral.proposed_delay_reason_id), "none": ""}
    data = {k: shown.get(v, v) for k, v in fields.items()}
    with rolled_back():
        client.force_login(people[who])
        before = db_state()
        url = reverse("pathways:board_delay_confirm", args=[admission_id])
        response = client.post(url, data, **HTMX)
        after = db_state()
        note(f"{who} confirmed on {target} with {data}: {response.status_code}")

    assert response.status_code in (200, 403, 404, 409, 422)
    ward = who in ("ward_nurse", "discharge_coordinator") and target != "foreign"
    if not ward and not (who == "outsider" and target == "foreign"):
        assert response.status_code == 404
    if response.status_code != 200:
        assert changed_tables(before, after) == []


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from([*(s.value for s in LIVE_STATES), "foreign"]),
    fields=form(
        expected_version=st.one_of(st.sampled_from(["current", "stale"]), number()),
        at_home=one_of_or_junk("yes", "no"),
    ),
)
def test_the_91_day_check_refuses_bad_input(client, people, referrals, who, target, fields):
    referral_id = referrals[target]
    with rolled_back():
        client.force_login(people[who])
        data = _fill(fields, referral_id=referral_id, services={})
        before = db_state()
        response = client.post(reverse("pathways:at_home_record", args=[referral_id]), data)
        after = db_state()
        note(f"{who} posted {data} to {target}: {response.status_code}")

    assert response.status_code in (302, 403, 404, 422)
    if _stranger(who, target):
        assert response.status_code == 404
    if response.status_code != 302 or response.url != reverse("pathways:at_home_checks"):
        assert changed_tables(before, after) == []


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    page=st.sampled_from(
        ["pathways:hub_queue", "pathways:hub_queue_rows", "pathways:tracker", "pathways:capacity"]
    ),
    params=st.fixed_dictionaries(
        {},
        optional={
            "pathway": one_of_or_junk(*PATHWAYS),
            "service": st.one_of(st.sampled_from(SERVICE_TOKENS), number()),
            "council": number(),
            "stage": one_of_or_junk(*State.values),
            "show": one_of_or_junk("all"),
        },
    ),
)
def test_queue_tracker_and_capacity_pages_take_any_query_string(
    client, people, referrals, service, other_service, who, page, params
):
    services = {"SERVICE": service, "OTHER_SERVICE": other_service}
    query = {k: str(services[v].pk) if v in services else v for k, v in params.items()}
    with rolled_back():
        client.force_login(people[who])
        response = client.get(reverse(page), query)
    assert response.status_code in (200, 404)


# --- Found by fuzzing ---------------------------------------------------------------------------


def test_an_empty_referral_form_says_what_is_missing(client, ward_nurse, admission):
    """An empty post left the form unbound: 422 with no error at all."""
    client.force_login(ward_nurse)
    response = client.post(reverse("pathways:refer", args=[admission.pk]), {})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert not Referral.objects.exists()


def test_a_step_not_offered_any_more_says_why_at_the_top(client, social_worker, referral):
    """The refused step had no form on the page to show its error beside."""
    client.force_login(social_worker)
    url = reverse("pathways:referral_step", args=[referral.pk, "care_start"])
    response = client.post(url, {"care_start-expected_version": str(referral.version)})
    assert response.status_code == 422
    assert shows_an_error(response)
    assert "cannot be" in response.content.decode()
    referral.refresh_from_db()
    assert referral.state == State.REFERRED


def test_a_delay_reason_for_a_patient_not_ready_to_leave_is_refused_visibly(
    client, ward_nurse, referral
):
    """The delay form is offered only once the patient is ready to leave, so its error was hidden."""
    client.force_login(ward_nurse)
    url = reverse("pathways:referral_delay", args=[referral.pk])
    version = Admission.objects.get(pk=referral.admission_id).version
    response = client.post(url, {"expected_version": str(version), "reason": "HOS03"})
    assert response.status_code == 422
    assert "no longer meets the criteria to reside" in response.content.decode()
