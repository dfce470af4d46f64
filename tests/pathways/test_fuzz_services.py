"""Fuzzing transfer-of-care services: any step, by anyone, with typed but hostile input, in any order.

Each call either succeeds and leaves the referral where its steps say, or raises ValidationError,
StaleReferral, StaleEdit or NotAllowed and writes nothing; no database error or TypeError leaks.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given, note
from hypothesis import strategies as st

from discharge import services as discharge_services
from discharge.models import Admission
from pathways import services
from pathways.models import Consent, Outcome, Referral, ServiceCapacity, ServiceKind
from pathways.transitions import Action, State, actions_from
from tests.factories import AdmissionFactory, ReferralFactory, ServiceFactory
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
    whole_number,
    words,
)
from tests.pathways.conftest import referral_in_each_state
from tests.pathways.consistency import assert_referral_consistent

pytestmark = pytest.mark.django_db

REFUSALS = (
    ValidationError,
    services.StaleReferral,
    services.NotAllowed,
    discharge_services.StaleEdit,
)
PEOPLE = ("everyone", "ward_nurse", "social_worker", "provider_carer", "uninvolved_carer")
# Mostly someone who plays every part, so that the rules after the permission check get their turn.
WHO = st.one_of(st.just("everyone"), st.just("everyone"), st.sampled_from(PEOPLE))


@pytest.fixture
def people(request) -> dict:
    return {name: request.getfixturevalue(name) for name in PEOPLE}


@pytest.fixture
def world(ward, council, ward_nurse, everyone, service, other_service, provider) -> dict:
    """A referral in each state, each of its own inpatient, and services to offer them to."""
    referrals = referral_in_each_state(
        ward=ward, council=council, ward_nurse=ward_nurse, everyone=everyone, service=service
    )
    # A day and more of history: referred 30 hours ago, triaged 20 hours ago.
    hours_ago = lambda hours: timezone.now() - dt.timedelta(hours=hours)  # noqa: E731
    history = ReferralFactory(
        admission=AdmissionFactory(
            current_ward=ward, patient__local_authority=council, admitted_at=hours_ago(40)
        ),
        referred_by=ward_nurse,
        at=hours_ago(30),
    )
    services.referral_transition(
        referral=history,
        by=everyone,
        action=Action.TRIAGE,
        pathway="1",
        expected_version=None,
        at=hours_ago(20),
    )
    referrals["history"] = history.pk
    closed = ServiceFactory(provider=provider, name="Closed", councils=[council])
    closed.active = False
    closed.save(update_fields=["active"])
    return {
        "referrals": referrals,
        "services": {
            "ours": service,
            "theirs": other_service,
            "closed": closed,
            "bed": ServiceFactory(
                provider=provider, kind=ServiceKind.CARE_HOME_BED, councils=[council]
            ),
            "elsewhere": ServiceFactory(provider=provider, councils=[]),
            "none": None,
        },
    }


def _step(world: dict) -> st.SearchStrategy[dict]:
    """One referral step with generated arguments, or a discharge from the ward board."""
    return st.one_of(
        st.fixed_dictionaries(
            {
                # Mostly what the step needs, so that sequences of steps get somewhere.
                "action": st.just("LEGAL"),
                "note": st.one_of(plain(), st.just(""), words()),
                "pathway": st.one_of(st.just("1"), st.none(), code("1", "2", "3", "0")),
                "service": st.one_of(st.just("ours"), st.sampled_from(list(world["services"]))),
                "start_date": st.one_of(st.just(timezone.localdate()), st.none(), day()),
                "outcome": st.one_of(st.just(""), code(*Outcome.values)),
                "at": st.one_of(st.none(), moment()),
            }
        ),
        st.fixed_dictionaries(
            {
                "action": st.just("confirm_delay"),
                "reason": code("HOS03", "HUB01", "CAP01", "INT01"),
            }
        ),
        st.fixed_dictionaries({"action": st.just("at_home"), "at_home": st.booleans()}),
        st.fixed_dictionaries(
            {
                "action": st.just("leave_hospital"),
                "destination": st.sampled_from(["usual_residence", "died", "rehab_bed"]),
                "actual_pathway": st.sampled_from(["1", "2", None]),
            }
        ),
    )


def _call(world: dict, people: dict, referral_id: int, who: str, step: dict, choice):
    """The service call a step stands for, bound to the referral as it now is."""
    step = dict(step)
    action = step.pop("action")
    by = people[who]
    referral = Referral.objects.get(pk=referral_id)
    if action == "confirm_delay":
        current = Admission.objects.get(pk=referral.admission_id).version
        return partial(
            services.referral_delay_reason_confirm,
            referral=referral,
            by=by,
            expected_version=resolve_version(choice, current),
            **step,
        )
    if action == "at_home":
        return partial(
            services.referral_at_home_91_days_record,
            referral=referral,
            by=by,
            expected_version=resolve_version(choice, referral.version),
            **step,
        )
    if action == "leave_hospital":
        return partial(
            discharge_services.admission_discharge,
            admission=referral.admission,
            by=by,
            discharged_at=timezone.now() - dt.timedelta(minutes=1),
            expected_version=None,
            **step,
        )
    step["service"] = world["services"][step["service"]]
    return partial(
        services.referral_transition,
        referral=referral,
        by=by,
        action=action,
        expected_version=resolve_version(choice, referral.version),
        **step,
    )


@FUZZ
@given(data=st.data())
def test_referral_steps_refuse_cleanly_or_leave_the_referral_where_its_steps_say(
    world, people, data
):
    target = data.draw(st.sampled_from(list(world["referrals"])), label="referral")
    steps = data.draw(st.lists(_step(world), min_size=1, max_size=5), label="steps")
    referral_id = world["referrals"][target]
    with rolled_back():
        for step in steps:
            if step["action"] == "LEGAL":
                # Mostly a step the table allows from where the referral now stands.
                state = Referral.objects.get(pk=referral_id).state
                legal = [a.value for a in actions_from(state)] or list(Action.values)
                step = {**step, "action": data.draw(code(*legal), label="action")}
            who = data.draw(WHO, label="by")
            call = _call(world, people, referral_id, who, step, data.draw(version(), "version"))
            note(f"{who}: {call.func.__name__}({step})")
            call_and_check(
                call, refusals=REFUSALS, check=lambda: assert_referral_consistent(referral_id)
            )


NEW_REFERRAL = mutated(
    {
        "pathway": st.sampled_from(["1", "2", "3"]),
        "needs": plain(),
        "home_situation": plain(),
        "carers": st.one_of(st.just(""), plain()),
        "consent": st.sampled_from(Consent.values),
        "preferred_outcome": plain(),
        "at": st.none(),
    },
    {
        "pathway": nasty(),
        "needs": nasty(),
        "home_situation": nasty(),
        "carers": nasty(),
        "consent": nasty(),
        "preferred_outcome": nasty(),
        "at": moment(),
    },
)


@FUZZ
@given(
    target=st.sampled_from(["fresh", State.REFERRED.value, State.WITHDRAWN.value, "left"]),
    who=WHO,
    values=NEW_REFERRAL,
)
def test_referring_refuses_cleanly_or_opens_one_consistent_referral(
    world, people, admission, target, who, values
):
    if target == "fresh":
        admission_id = admission.pk
    elif target == "left":
        admission_id = Referral.objects.get(pk=world["referrals"]["discharged"]).admission_id
    else:
        admission_id = Referral.objects.get(pk=world["referrals"][target]).admission_id
    with rolled_back():
        made = []
        call_and_check(
            lambda: made.append(
                services.referral_create(
                    admission=Admission.objects.get(pk=admission_id), by=people[who], **values
                )
            ),
            refusals=REFUSALS,
            check=lambda: assert_referral_consistent(made[0].pk),
        )


@FUZZ
@given(
    which=st.sampled_from(["ours", "ours", "theirs", "closed"]),
    who=WHO,
    on=day(),
    available=whole_number(),
)
def test_declaring_capacity_refuses_cleanly_or_keeps_one_row_a_day(
    world, people, which, who, on, available
):
    service = world["services"][which]
    with rolled_back():
        call_and_check(
            lambda: services.capacity_set(
                service=service, by=people[who], day=on, available=available
            ),
            refusals=REFUSALS,
            check=lambda: ServiceCapacity.objects.get(service=service, day=on).full_clean(),
        )


# --- Found by fuzzing ---------------------------------------------------------------------------


def test_a_nul_in_the_referral_is_a_validation_error(admission, ward_nurse):
    """It reached Postgres, which refuses NUL in text: a database error, not a message."""
    with pytest.raises(ValidationError) as refused:
        services.referral_create(
            admission=admission,
            by=ward_nurse,
            pathway="1",
            needs="Help\x00 with stairs",
            home_situation="Flat",
            consent="given",
            preferred_outcome="Home",
        )
    assert set(refused.value.message_dict) == {"needs"}
    assert not Referral.objects.exists()


def test_capacity_beyond_the_column_is_a_validation_error(service, provider_carer):
    """2**31 places overflowed the integer column: a database error."""
    with pytest.raises(ValidationError) as refused:
        services.capacity_set(
            service=service, by=provider_carer, day=timezone.localdate(), available=2**31
        )
    assert set(refused.value.message_dict) == {"available"}
    assert not ServiceCapacity.objects.exists()


def test_a_step_after_one_that_changed_nothing_keeps_the_steps_in_order(
    admission, ward_nurse, everyone, service
):
    """A triage that left the state as it was did not count as the last step: the next step
    could be dated before it, and the history no longer chained."""
    hours_ago = lambda hours: timezone.now() - dt.timedelta(hours=hours)  # noqa: E731
    referral = ReferralFactory(admission=admission, referred_by=ward_nurse, at=hours_ago(10))
    for at in (hours_ago(5), hours_ago(2)):
        referral.refresh_from_db()
        services.referral_transition(
            referral=referral,
            by=everyone,
            action="triage",
            pathway="1",
            expected_version=None,
            at=at,
        )
    with pytest.raises(ValidationError):
        services.referral_transition(
            referral=referral,
            by=everyone,
            action="offer",
            service=service,
            expected_version=None,
            at=hours_ago(4),
        )
    discharge_services.admission_discharge(
        admission=Admission.objects.get(pk=admission.pk),
        by=ward_nurse,
        discharged_at=hours_ago(3),
        destination="usual_residence",
        actual_pathway="1",
        expected_version=None,
    )
    assert_referral_consistent(referral.pk)
