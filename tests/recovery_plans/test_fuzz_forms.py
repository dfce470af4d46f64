"""Fuzzing the recovery plan: hostile posts to every form, no server error, no half-save."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given, note
from hypothesis import strategies as st

from homefirst.models import User
from recovery_plans import services
from recovery_plans.models import Action, Goal, Participant, RecoveryPlan
from recovery_plans.sections import ALL_SECTION_KEYS, SECTIONS
from recovery_plans.selectors import plan_for_page
from recovery_plans.views import ITEM_KINDS
from tests.factories import AdmissionFactory, WardFactory, recovery_plan_for
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

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PERSONAS = ("ward_nurse", "social_worker", "provider_carer", "outsider", "family_member")
PLANS = ("own", "closed", "foreign")
KEYS = [*ALL_SECTION_KEYS, "nope", "x" * 200]
SECTION_FIELDS = {name: text() for spec in SECTIONS for name, _label in spec.fields}
ITEM_FIELDS = form(
    description=text(),
    measure=text(),
    target_date=date_text(),
    status=one_of_or_junk(*Goal.Status.values, *Action.Status.values),
    what=text(),
    owner_organisation=st.one_of(st.sampled_from(["COUNCIL", "OTHER_TRUST"]), number()),
    owner_person=text(),
    due_date=date_text(),
    name=text(),
    role=text(),
    phone=text(),
    about=text(),
    due_on=date_text(),
    purpose=text(),
    done=one_of_or_junk("on", "true", ""),
)
VERSION = st.one_of(st.sampled_from(["current", "stale"]), number())


@pytest.fixture
def people(request) -> dict:
    return {name: request.getfixturevalue(name) for name in PERSONAS}


@pytest.fixture
def world(plan, ward, council, ward_nurse, family_member, outsider, other_trust, other_council):
    """Our plan with one item of each list and the family on it, a closed one and another trust's."""
    Participant.objects.create(
        plan=plan, user=family_member, kind=Participant.Kind.FAMILY, relationship="Daughter"
    )
    today = timezone.localdate()
    items = {
        "goals": services.goal_add(plan=plan, by=ward_nurse, description="Walk to the shop"),
        "actions": services.action_add(
            plan=plan, by=ward_nurse, what="Fit a rail", owner_organisation=council, due_date=today
        ),
        "contacts": services.contact_add(plan=plan, by=ward_nurse, name="Sam", phone="0113"),
        "reviews": services.review_add(plan=plan, by=ward_nurse, due_on=today),
    }
    closed = recovery_plan_for(
        AdmissionFactory(current_ward=ward, patient__local_authority=council), ward_nurse
    )
    closed_goal = services.goal_add(plan=closed, by=ward_nurse, description="Home by June")
    services.plan_close(plan=closed, by=ward_nurse, outcome="home_independent")
    foreign_admission = AdmissionFactory(
        current_ward=WardFactory(site__organisation=other_trust),
        patient__local_authority=other_council,
    )
    foreign = recovery_plan_for(foreign_admission, outsider)
    foreign_goal = services.goal_add(plan=foreign, by=outsider, description="Garden")
    return {
        "plans": {"own": plan.pk, "closed": closed.pk, "foreign": foreign.pk},
        "items": {kind: item.pk for kind, item in items.items()},
        "foreign_goal": foreign_goal.pk,
        "goals": {"own": items["goals"].pk, "closed": closed_goal.pk, "foreign": foreign_goal.pk},
        "organisations": {"COUNCIL": council.pk, "OTHER_TRUST": other_trust.pk},
    }


def _version(token: str, current: int) -> str:
    return {"current": str(current), "stale": str(current + 1)}.get(token, token)


def _visible(user: User, plan_id: int) -> bool:
    return plan_for_page(user=user, plan_id=plan_id) is not None


def _refused(response, before: dict, after: dict, *, saved: tuple[int, ...] = (200,)) -> None:
    """Anything but a save changed nothing, and a 422 or 409 says what went wrong."""
    if response.status_code not in saved:
        assert changed_tables(before, after) == []
    if response.status_code == 422:
        assert shows_an_error(response)
    if response.status_code == 409:
        assert "Save my version" in response.content.decode()


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from(PLANS),
    key=st.sampled_from(KEYS),
    version=VERSION,
    fields=st.fixed_dictionaries({}, optional=SECTION_FIELDS),
)
def test_section_edits_refuse_bad_input_and_save_nothing(
    client, people, world, who, target, key, version, fields
):
    plan_id = world["plans"][target]
    section = (
        RecoveryPlan.objects.get(pk=plan_id).sections.filter(key=key).values("version").first()
    )
    data = {**fields, "expected_version": _version(version, section["version"] if section else 1)}
    with rolled_back():
        user = people[who]
        client.force_login(user)
        visible = _visible(user, plan_id)
        before = db_state()
        url = reverse("recovery_plans:section_edit", args=[plan_id, key])
        response = client.post(url, data, **HTMX)
        after = db_state()
        note(f"{who} posted {data} to {target} {key}: {response.status_code}")

    assert response.status_code in (200, 403, 404, 409, 422)
    if not visible or section is None:
        assert response.status_code == 404
    _refused(response, before, after)


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from(PLANS),
    kind=st.sampled_from([*ITEM_KINDS, "nope"]),
    fields=ITEM_FIELDS,
)
def test_adding_to_a_list_refuses_bad_input_and_saves_nothing(
    client, people, world, who, target, kind, fields
):
    plan_id = world["plans"][target]
    organisations = world["organisations"]
    data = {
        k: str(organisations.get(v, v)) if k == "owner_organisation" else v
        for k, v in fields.items()
    }
    with rolled_back():
        user = people[who]
        client.force_login(user)
        visible = _visible(user, plan_id)
        before = db_state()
        url = reverse("recovery_plans:item_add", args=[plan_id, kind])
        response = client.post(url, data, **HTMX)
        after = db_state()
        note(f"{who} added {data} to {target} {kind}: {response.status_code}")

    assert response.status_code in (200, 403, 404, 422)
    if not visible or kind not in ITEM_KINDS:
        assert response.status_code == 404
    if who == "family_member" and response.status_code != 404:
        assert response.status_code in (403, 422)
    _refused(response, before, after)


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    kind=st.sampled_from(list(ITEM_KINDS)),
    item=st.sampled_from(["own", "foreign", "missing"]),
    version=VERSION,
    fields=ITEM_FIELDS,
)
@example(who="ward_nurse", kind="goals", item="own", version="current", fields={"description": ""})
def test_editing_a_list_item_refuses_bad_input_and_saves_nothing(
    client, people, world, who, kind, item, version, fields
):
    plan_id = world["plans"]["own"]
    item_id = {
        "own": world["items"][kind],
        "foreign": world["foreign_goal"],
        "missing": 2**62,
    }[item]
    model = ITEM_KINDS[kind].model
    current = model.objects.filter(pk=item_id).values_list("version", flat=True).first() or 1
    organisations = world["organisations"]
    data = {
        k: str(organisations.get(v, v)) if k == "owner_organisation" else v
        for k, v in fields.items()
    }
    data["expected_version"] = _version(version, current)
    with rolled_back():
        user = people[who]
        client.force_login(user)
        visible = _visible(user, plan_id)
        before = db_state()
        url = reverse("recovery_plans:item_edit", args=[plan_id, kind, item_id])
        response = client.post(url, data, **HTMX)
        after = db_state()
        note(f"{who} edited {kind} {item} with {data}: {response.status_code}")

    assert response.status_code in (200, 403, 404, 409, 422)
    if not visible or item != "own":
        assert response.status_code == 404
    _refused(response, before, after)


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from(PLANS),
    key=st.sampled_from(KEYS),
    goal=st.sampled_from([*PLANS, "missing"]),
    fields=form(text=text()),
)
def test_comments_and_progress_notes_refuse_bad_input(
    client, people, world, who, target, key, goal, fields
):
    plan_id = world["plans"][target]
    goal_id = world["goals"].get(goal, 2**62)
    with rolled_back():
        user = people[who]
        client.force_login(user)
        visible = _visible(user, plan_id)
        before = db_state()
        comment = client.post(
            reverse("recovery_plans:comment", args=[plan_id, key]), fields, **HTMX
        )
        middle = db_state()
        progress = client.post(
            reverse("recovery_plans:progress_note", args=[plan_id, goal_id]), fields, **HTMX
        )
        after = db_state()
        note(f"{who} wrote {fields} on {target} {key} / goal {goal}: {comment} {progress}")

    for response in (comment, progress):
        assert response.status_code in (200, 404, 422)
        if not visible:
            assert response.status_code == 404
    if key not in ALL_SECTION_KEYS:
        assert comment.status_code == 404
    if goal != target:
        assert progress.status_code == 404
    _refused(comment, before, middle)
    _refused(progress, middle, after)


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from(PLANS),
    fields=st.one_of(
        form(outcome=one_of_or_junk(*RecoveryPlan.Outcome.values)),
        form(invite=st.just("1"), name=text(), email=text(), relationship=text()),
        form(add_staff=st.just("1"), username=one_of_or_junk("nurse", "family", "leader")),
    ),
)
def test_closing_and_adding_people_refuse_bad_input(client, people, world, who, target, fields):
    plan_id = world["plans"][target]
    page = "recovery_plans:close" if "outcome" in fields or not fields else "recovery_plans:people"
    with rolled_back():
        user = people[who]
        client.force_login(user)
        visible = _visible(user, plan_id)
        before = db_state()
        response = client.post(reverse(page, args=[plan_id]), fields)
        after = db_state()
        note(f"{who} posted {fields} to {page} of {target}: {response.status_code}")

    assert response.status_code in (200, 302, 403, 404, 422)
    if not visible:
        assert response.status_code == 404
    _refused(response, before, after, saved=(200, 302))


@pytest.fixture
def invitations(plan, ward_nurse) -> dict[str, str]:
    """Live invitation links: one for a short name, one for the longest name the form allows."""
    links = {}
    for label, name in (("short", "Jo Bloggs"), ("long", "A" * 200), ("spaced", "B " * 99 + "C")):
        invited = services.family_invite(
            plan=plan,
            by=ward_nurse,
            name=name,
            email=f"{label}@example.org",
            relationship="Son",
            accept_url="http://testserver/plans/invitations/{token}/",
        )
        links[label] = invited.token
    return links


@FUZZ
@given(
    token=st.one_of(st.sampled_from(["short", "long", "spaced"]), text().filter(lambda t: t)),
    fields=form(
        username=one_of_or_junk("jo", "nurse", "NURSE", "a" * 151),
        password=one_of_or_junk("a-long-enough-passphrase"),
        password_again=one_of_or_junk("a-long-enough-passphrase"),
    ),
)
@example(
    token="long",
    fields={
        "username": "jo",
        "password": "a-long-enough-passphrase",
        "password_again": "a-long-enough-passphrase",
    },
)
@example(
    token="short",
    fields={
        "username": "jo bloggs/<3",
        "password": "a-long-enough-passphrase",
        "password_again": "a-long-enough-passphrase",
    },
)
def test_accepting_an_invitation_refuses_bad_input_and_creates_a_valid_account(
    client, ward_nurse, invitations, token, fields
):
    secret = invitations.get(token, token).replace("/", "_")
    client.logout()
    with rolled_back():
        before = db_state()
        response = client.post(reverse("recovery_plans:invitation", args=[secret]), fields)
        after = db_state()
        note(f"accepting {token} with {fields}: {response.status_code}")
        if response.status_code == 302:
            created = User.objects.get(username=fields["username"].strip())
            created.full_clean(exclude=["password"])

    assert response.status_code in (200, 302, 410, 422)
    if token not in invitations:
        assert response.status_code == 410
    if response.status_code != 302:
        assert changed_tables(before, after) == []
    if response.status_code == 422:
        assert shows_an_error(response)


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from(PLANS),
    key=st.sampled_from(KEYS),
    since=number(),
    leaving=st.sampled_from(["", "1"]),
)
def test_polling_and_presence_take_any_input(
    client, people, world, who, target, key, since, leaving
):
    plan_id = world["plans"][target]
    with rolled_back():
        user = people[who]
        client.force_login(user)
        visible = _visible(user, plan_id)
        poll = client.get(reverse("recovery_plans:poll", args=[plan_id]), {"since": since})
        presence = client.post(
            reverse("recovery_plans:presence", args=[plan_id, key]), {"leaving": leaving}, **HTMX
        )
    assert poll.status_code == (200 if visible else 404)
    assert presence.status_code in (200, 204, 403, 404)
    if not visible or key not in ALL_SECTION_KEYS:
        assert presence.status_code == 404
    # Only a relative, and only on a part of the plan they may not change, is refused.
    family_keys = {s.key for s in SECTIONS if s.family_may_edit}
    refused = visible and who == "family_member" and key in ALL_SECTION_KEYS
    assert (presence.status_code == 403) == (refused and key not in family_keys)


@FUZZ
@given(who=st.sampled_from(PERSONAS), target=st.sampled_from(["own", "foreign", "missing"]))
def test_starting_a_plan_is_404_out_of_reach(client, people, world, admission, who, target):
    foreign = RecoveryPlan.objects.get(pk=world["plans"]["foreign"]).patient_id
    patient_id = {"own": admission.patient_id, "foreign": foreign}.get(target, 2**62)
    with rolled_back():
        client.force_login(people[who])
        response = client.post(reverse("recovery_plans:start", args=[patient_id]))
    assert response.status_code in (302, 403, 404)
    if target == "missing" or (target == "foreign") != (who == "outsider"):
        assert response.status_code == 404


# --- Found by fuzzing ---------------------------------------------------------------------------


def test_a_comment_on_a_closed_plan_says_the_plan_is_closed(client, ward_nurse, world):
    """The comment box is gone on a closed plan, so its error had nowhere to show."""
    client.force_login(ward_nurse)
    url = reverse("recovery_plans:comment", args=[world["plans"]["closed"], "about_me"])
    response = client.post(url, {"text": "Still here?"}, **HTMX)
    assert response.status_code == 422
    assert "This plan has been closed" in response.content.decode()


def test_an_invitation_for_a_long_name_makes_an_account_with_the_name_cut_to_fit(
    client, invitations
):
    """A 200-character name overflowed the account's 150-character first name: a server error."""
    url = reverse("recovery_plans:invitation", args=[invitations["long"]])
    password = "a-long-enough-passphrase"
    data = {"username": "jo", "password": password, "password_again": password}
    assert client.post(url, data).status_code == 302
    assert User.objects.get(username="jo").first_name == "A" * 150
