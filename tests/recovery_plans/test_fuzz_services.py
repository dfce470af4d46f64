"""Fuzzing the recovery plan's services: typed but hostile input, by staff, family or neither.

Each call either succeeds and leaves the plan consistent, or raises ValidationError,
PlanConflict or PermissionError and writes nothing; no database error or TypeError leaks.
"""

from __future__ import annotations

from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given, note
from hypothesis import strategies as st

from homefirst.models import User
from recovery_plans import services
from recovery_plans.models import Action, Contact, Goal, Participant, PlanReview, RecoveryPlan
from recovery_plans.sections import ALL_SECTION_KEYS, SECTIONS, SECTIONS_BY_KEY
from tests.fuzz import FUZZ, rolled_back
from tests.fuzz_services import (
    call_and_check,
    code,
    day,
    mutated,
    nasty,
    plain,
    resolve_version,
    version,
    words,
)
from tests.recovery_plans.consistency import assert_plan_consistent

pytestmark = pytest.mark.django_db

REFUSALS = (ValidationError, services.PlanConflict, PermissionError)
PEOPLE = ("ward_nurse", "ward_nurse", "family_member", "system_leader")
FIELDS = sorted({name for spec in SECTIONS for name, _label in spec.fields})
ITEMS = {"goal": Goal, "action": Action, "contact": Contact, "review": PlanReview}
ACCEPT_URL = "https://homefirst.example/plans/invitations/{token}/"


@pytest.fixture
def people(request) -> dict:
    return {name: request.getfixturevalue(name) for name in set(PEOPLE)}


@pytest.fixture
def world(plan, ward_nurse, family_member, council, other_trust) -> dict:
    """The plan with the family on it and one item of each list."""
    Participant.objects.create(plan=plan, user=family_member, kind=Participant.Kind.FAMILY)
    today = timezone.localdate()
    return {
        "plan": plan,
        "items": {
            "goal": services.goal_add(plan=plan, by=ward_nurse, description="Walk to the shop"),
            "action": services.action_add(
                plan=plan, by=ward_nurse, what="Rail", owner_organisation=council, due_date=today
            ),
            "contact": services.contact_add(plan=plan, by=ward_nurse, name="Sam"),
            "review": services.review_add(plan=plan, by=ward_nurse, due_on=today),
        },
        "organisations": {"council": council, "other_trust": other_trust},
    }


def _operation(world: dict) -> st.SearchStrategy[dict]:
    """One call of a plan service, named, with generated arguments."""
    organisations = st.sampled_from(sorted(world["organisations"]))
    item_values = st.fixed_dictionaries(
        {},
        optional={
            "description": words(),
            "measure": words(),
            "target_date": st.one_of(st.none(), day()),
            "status": code(*Goal.Status.values, *Action.Status.values),
            "what": words(),
            "owner_organisation": organisations,
            "owner_person": words(),
            "due_date": st.one_of(st.none(), day()),
            "name": words(),
            "role": words(),
            "phone": words(),
            "about": words(),
            "due_on": st.one_of(st.none(), day()),
            "purpose": words(),
            "done": st.booleans(),
        },
    )
    return st.one_of(
        st.fixed_dictionaries(
            {
                "call": st.just("section_update"),
                "key": code(*ALL_SECTION_KEYS),
                "content": st.dictionaries(code(*FIELDS), words(), max_size=3),
            }
        ),
        st.fixed_dictionaries(
            {
                "call": st.just("goal_add"),
                "description": words(),
                "measure": words(),
                "target_date": st.one_of(st.none(), day()),
            }
        ),
        st.fixed_dictionaries(
            {
                "call": st.just("action_add"),
                "what": words(),
                "owner_organisation": organisations,
                "due_date": day(),
                "owner_person": words(),
            }
        ),
        st.fixed_dictionaries(
            {"call": st.just("contact_add"), "name": words(), "role": words(), "phone": words()}
        ),
        st.fixed_dictionaries(
            {
                "call": st.just("review_add"),
                "due_on": st.one_of(st.none(), day()),
                "purpose": words(),
            }
        ),
        st.fixed_dictionaries(
            {
                "call": st.just("item_update"),
                "item": st.sampled_from(sorted(ITEMS)),
                "values": item_values,
            }
        ),
        st.fixed_dictionaries({"call": st.just("progress_note"), "text": words()}),
        st.fixed_dictionaries(
            {"call": st.just("comment_add"), "section": code(*ALL_SECTION_KEYS), "text": words()}
        ),
        st.fixed_dictionaries(
            {
                "call": st.just("family_invite"),
                "name": words(),
                "email": st.one_of(st.just("jo@example.org"), words()),
                "relationship": words(),
            }
        ),
        st.fixed_dictionaries(
            {"call": st.just("plan_close"), "outcome": code(*RecoveryPlan.Outcome.values)}
        ),
        st.fixed_dictionaries(
            {
                "call": st.sampled_from(["lease_renew", "lease_release"]),
                "section": code(*ALL_SECTION_KEYS),
            }
        ),
    )


def _bind(world: dict, by: User, op: dict, choice) -> partial:
    """The service call an operation stands for, with the rows as they now are."""
    op = dict(op)
    name = op.pop("call")
    plan = RecoveryPlan.objects.get(pk=world["plan"].pk)
    organisations = world["organisations"]
    if "owner_organisation" in op:
        op["owner_organisation"] = organisations[op["owner_organisation"]]
    if name == "item_update":
        kind = op["item"]
        item = ITEMS[kind].objects.get(pk=world["items"][kind].pk)
        values = dict(op["values"])
        if "owner_organisation" in values:
            values["owner_organisation"] = organisations[values["owner_organisation"]]
        update = getattr(services, f"{kind}_update")
        return partial(
            update,
            **{kind: item},
            by=by,
            expected_version=resolve_version(choice, item.version) or item.version,
            **values,
        )
    if name == "progress_note":
        goal = Goal.objects.get(pk=world["items"]["goal"].pk)
        return partial(services.goal_progress_note_add, goal=goal, by=by, **op)
    if name == "section_update":
        known = op["key"] in SECTIONS_BY_KEY
        section = plan.sections.filter(key=op["key"]).first() if known else None
        current = section.version if section else 1
        return partial(
            services.section_update,
            plan=plan,
            by=by,
            expected_version=resolve_version(choice, current) or current,
            **op,
        )
    if name in ("lease_renew", "lease_release"):
        return partial(getattr(services, name), plan=plan, user=by, **op)
    if name == "family_invite":
        return partial(services.family_invite, plan=plan, by=by, accept_url=ACCEPT_URL, **op)
    return partial(getattr(services, name), plan=plan, by=by, **op)


@FUZZ
@given(data=st.data())
def test_plan_services_refuse_cleanly_or_leave_the_plan_consistent(world, people, data):
    operations = data.draw(st.lists(_operation(world), min_size=1, max_size=5), label="calls")
    plan_id = world["plan"].pk
    with rolled_back():
        for op in operations:
            who = data.draw(st.sampled_from(PEOPLE), label="by")
            call = _bind(world, people[who], op, data.draw(version(), label="version"))
            note(f"{who}: {call.func.__name__}({op})")
            call_and_check(call, refusals=REFUSALS, check=lambda: assert_plan_consistent(plan_id))


ACCEPTANCE = mutated(
    {
        "username": plain().map(lambda s: s.replace(" ", "").replace("'", "") or "jo"),
        "password": st.just("a-long-enough-passphrase"),
    },
    {"username": nasty(), "password": nasty()},
)


@FUZZ
@given(name=st.one_of(plain(), nasty()), values=ACCEPTANCE)
def test_accepting_an_invitation_refuses_cleanly_or_makes_a_valid_account(
    world, ward_nurse, name, values
):
    with rolled_back():
        invited = []
        call_and_check(
            lambda: invited.append(
                services.family_invite(
                    plan=world["plan"],
                    by=ward_nurse,
                    name=name,
                    email="jo@example.org",
                    relationship="Daughter",
                    accept_url=ACCEPT_URL,
                )
            ),
            refusals=(ValidationError,),
            check=lambda: None,
        )
        if invited:
            made = []
            call_and_check(
                lambda: made.append(
                    services.family_invitation_accept(token=invited[0].token, **values)
                ),
                refusals=(ValidationError,),
                check=lambda: made[0].full_clean(exclude=["password"]),
            )


# --- Found by fuzzing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda plan, by: services.contact_add(plan=plan, by=by, name="Sam", role="\x00"),
        lambda plan, by: services.goal_add(plan=plan, by=by, description="Walk\x00"),
        lambda plan, by: services.comment_add(plan=plan, by=by, section="needs", text="a\x00"),
        lambda plan, by: services.section_update(
            plan=plan, key="needs", by=by, content={"meals": "\x00"}, expected_version=1
        ),
        lambda plan, by: services.lease_release(plan=plan, section="\x00", user=by),
    ],
)
def test_a_nul_in_plan_text_is_a_validation_error(world, ward_nurse, call):
    """Each reached Postgres, which refuses NUL in text (and in JSON): a database error."""
    revision = RecoveryPlan.objects.get(pk=world["plan"].pk).revision
    with pytest.raises(ValidationError):
        call(world["plan"], ward_nurse)
    assert RecoveryPlan.objects.get(pk=world["plan"].pk).revision == revision
