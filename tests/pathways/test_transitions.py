"""The state machine: the table against an independent expectation, then every (state, action) pair."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError

from discharge import services as discharge_services
from pathways.models import ReferralTransition
from pathways.services import NotAllowed
from pathways.transitions import (
    TABLE,
    Action,
    Actor,
    IllegalTransition,
    State,
    actions_for,
    next_state,
)
from tests.pathways.conftest import discharge_home, drive, step

# Written out by hand from the issue, not derived from the table: (state, action) -> next state.
EXPECTED = {
    ("referred", "triage"): "triaged",
    ("triaged", "triage"): "triaged",
    ("triaged", "offer"): "offered",
    ("offered", "decline"): "triaged",
    ("offered", "accept"): "accepted",
    ("accepted", "reschedule"): "accepted",
    ("accepted", "needs_change"): "accepted",
    ("accepted", "discharge"): "discharged",
    ("discharged", "discharge_cancel"): "accepted",
    ("discharged", "first_visit"): "started",
    ("discharged", "care_start"): "started",
    ("started", "care_start"): "started",
    ("discharged", "needs_change"): "discharged",
    ("started", "needs_change"): "started",
    ("discharged", "readmit"): "ended",
    ("started", "readmit"): "ended",
    ("discharged", "end"): "ended",
    ("started", "end"): "ended",
    ("referred", "withdraw"): "withdrawn",
    ("triaged", "withdraw"): "withdrawn",
    ("offered", "withdraw"): "withdrawn",
    ("accepted", "withdraw"): "withdrawn",
    ("withdrawn", "rerefer"): "referred",
}
WHO = {
    "triage": {"hub"},
    "offer": {"hub"},
    "decline": {"provider"},
    "accept": {"provider"},
    "reschedule": {"provider"},
    "needs_change": {"provider"},
    "discharge": {"ward"},
    "discharge_cancel": {"ward"},
    "first_visit": {"provider"},
    "care_start": {"provider"},
    "readmit": {"provider"},
    "end": {"provider"},
    "withdraw": {"ward", "hub"},
    "rerefer": {"ward"},
}
ALL_PAIRS = list(itertools.product(State, Action))


def test_the_table_is_exactly_the_expected_machine():
    assert {(s.value, a.value): t.to.value for (s, a), t in TABLE.items()} == EXPECTED


@pytest.mark.parametrize("pair", list(TABLE), ids=lambda pair: f"{pair[0].value}-{pair[1].value}")
def test_each_legal_step_names_who_may_take_it(pair):
    assert {actor.value for actor in TABLE[pair].by} == WHO[pair[1].value]


def test_nothing_leads_out_of_an_ended_episode():
    assert actions_for(State.ENDED, set(Actor)) == []


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS)
def test_next_state_follows_the_table_or_names_why_not(state, action):
    expected = EXPECTED.get((state.value, action.value))
    if expected:
        assert next_state(state, action).to == expected
    else:
        with pytest.raises(IllegalTransition) as refused:
            next_state(state, action)
        assert state.label.lower() in str(refused.value)
        assert action.label.lower() in str(refused.value)


def _data(action: Action, service, referral) -> dict:
    return {
        Action.TRIAGE: {"pathway": "1"},
        Action.OFFER: {"service": service},
        Action.ACCEPT: {"start_date": referral.created_at.date()},
        Action.RESCHEDULE: {"start_date": referral.created_at.date()},
        Action.END: {"outcome": "reduced_support"},
        Action.DECLINE: {"note": "No carers free in that area."},
        Action.WITHDRAW: {"note": "Went home with family support."},
    }.get(action, {})


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS)
def test_every_pair_through_the_service(referral, everyone, service, state, action):
    """Legal pairs move the referral and write one row; illegal ones are refused and save nothing."""
    referral = drive(referral, state, by=everyone, service=service)
    rows_before = ReferralTransition.objects.filter(referral=referral).count()
    expected = EXPECTED.get((state.value, action.value))
    if expected and action == Action.DISCHARGE:
        discharge_home(referral.admission, everyone)  # the ward's discharge moves the referral
    elif expected and action == Action.DISCHARGE_CANCEL:
        referral.admission.refresh_from_db()  # and so does cancelling it
        discharge_services.admission_discharge_cancel(admission=referral.admission, by=everyone)
    elif expected:
        step(referral, everyone, action, **_data(action, service, referral))
    else:
        with pytest.raises(ValidationError) as refused:
            step(referral, everyone, action, **_data(action, service, referral))
        assert "cannot be" in refused.value.message_dict["action"][0]
    referral.refresh_from_db()
    rows = list(ReferralTransition.objects.filter(referral=referral).order_by("at", "id"))
    if expected:
        assert referral.state == expected
        assert len(rows) == rows_before + 1
        last = rows[-1]
        assert (last.action, last.from_state, last.to_state) == (action, state, expected)
        assert last.by == everyone
    else:
        assert referral.state == state
        assert len(rows) == rows_before


PERSONA_ACTORS = {"ward_nurse": "ward", "social_worker": "hub", "provider_carer": "provider"}


@pytest.mark.parametrize(
    ("pair", "persona"),
    [
        (pair, persona)
        for pair in TABLE
        # Recorded on the ward board (or by ADT), not as a step.
        if pair[1] not in (Action.DISCHARGE, Action.DISCHARGE_CANCEL)
        for persona in PERSONA_ACTORS
    ],
    ids=lambda v: v if isinstance(v, str) else f"{v[0].value}-{v[1].value}",
)
def test_only_the_parts_the_table_names_may_take_a_step(
    request, referral, everyone, service, pair, persona
):
    state, action = pair
    referral = drive(referral, state, by=everyone, service=service)
    user = request.getfixturevalue(persona)
    allowed = PERSONA_ACTORS[persona] in WHO[action.value]
    if allowed:
        step(referral, user, action, **_data(action, service, referral))
        referral.refresh_from_db()
        assert referral.state == EXPECTED[(state.value, action.value)]
    else:
        with pytest.raises(NotAllowed):
            step(referral, user, action, **_data(action, service, referral))
        referral.refresh_from_db()
        assert referral.state == state
