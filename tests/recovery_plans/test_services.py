import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from recovery_plans import services
from recovery_plans.models import Action, Goal, Participant, PlanChange, PlanSection, RecoveryPlan
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def section(plan, key):
    return PlanSection.objects.get(plan=plan, key=key)


def save_about_me(plan, by, version, **content):
    return services.section_update(
        plan=plan, key="about_me", by=by, content=content, expected_version=version
    )


# --- Starting and closing ---------------------------------------------------------------------


def test_starting_a_plan_creates_every_section(plan):
    assert set(plan.sections.values_list("key", flat=True)) == {
        "about_me",
        "support_network",
        "needs",
        "services",
        "risks",
    }


def test_one_active_plan_per_person(plan, admission, ward_nurse):
    with pytest.raises(ValidationError, match="already has an active recovery plan"):
        services.plan_start(patient=admission.patient, by=ward_nurse)
    assert RecoveryPlan.objects.count() == 1


def test_database_refuses_a_second_active_plan(plan, ward_nurse):
    with pytest.raises(IntegrityError, match="plan_one_active_per_patient"), transaction.atomic():
        RecoveryPlan.objects.create(patient=plan.patient, started_by=ward_nurse)


def test_a_closed_plan_makes_way_for_a_new_one(plan, admission, ward_nurse):
    services.plan_close(plan=plan, by=ward_nurse, outcome="home_independent")
    assert services.plan_start(patient=admission.patient, by=ward_nurse).pk != plan.pk


def test_a_closed_plan_cannot_be_edited(plan, ward_nurse):
    services.plan_close(plan=plan, by=ward_nurse, outcome="home_with_support")
    with pytest.raises(ValidationError, match="closed"):
        save_about_me(plan, ward_nurse, 1, what_matters="Home")


def test_unknown_outcome_is_refused(plan, ward_nurse):
    with pytest.raises(ValidationError) as error:
        services.plan_close(plan=plan, by=ward_nurse, outcome="vanished")
    assert "outcome" in error.value.message_dict


# --- Co-editing -------------------------------------------------------------------------------


def test_save_from_the_latest_version_applies(plan, ward_nurse):
    saved = save_about_me(plan, ward_nurse, 1, what_matters="My garden")
    assert saved.merged is False
    assert section(plan, "about_me").content["what_matters"] == "My garden"
    assert section(plan, "about_me").version == 2


def test_edits_to_different_fields_merge(plan, ward_nurse, social_worker):
    save_about_me(plan, social_worker, 1, what_matters="My garden", about_me="")
    saved = save_about_me(plan, ward_nurse, 1, what_matters="", about_me="Retired teacher")
    content = section(plan, "about_me").content
    assert saved.merged is True
    assert (content["what_matters"], content["about_me"]) == ("My garden", "Retired teacher")


def test_edits_to_the_same_field_conflict_and_save_nothing(plan, ward_nurse, social_worker):
    save_about_me(plan, social_worker, 1, what_matters="My garden")
    with pytest.raises(services.PlanConflict) as conflict:
        save_about_me(plan, ward_nurse, 1, what_matters="My cat")
    assert conflict.value.conflicts == ("what_matters",)
    assert conflict.value.theirs["what_matters"] == "My garden"
    assert conflict.value.by == social_worker
    assert section(plan, "about_me").content["what_matters"] == "My garden"
    assert section(plan, "about_me").version == 2


def test_resolving_a_conflict_saves_from_the_newer_version(plan, ward_nurse, social_worker):
    save_about_me(plan, social_worker, 1, what_matters="My garden")
    saved = save_about_me(plan, ward_nurse, 2, what_matters="My garden and my cat")
    assert saved.instance.content["what_matters"] == "My garden and my cat"


def test_every_save_announces_its_section(plan, ward_nurse):
    before = RecoveryPlan.objects.get(pk=plan.pk).revision
    save_about_me(plan, ward_nurse, 1, what_matters="x")
    plan.refresh_from_db()
    assert plan.revision == before + 1
    assert PlanChange.objects.filter(plan=plan, revision=plan.revision, section="about_me").exists()


def test_oversize_text_is_refused_naming_the_field(plan, ward_nurse):
    with pytest.raises(ValidationError) as error:
        save_about_me(plan, ward_nurse, 1, what_matters="x" * 5000)
    assert "what_matters" in error.value.message_dict
    assert section(plan, "about_me").version == 1


# --- Goals, actions, contacts, reviews ---------------------------------------------------------


def test_goal_needs_words(plan, ward_nurse):
    with pytest.raises(ValidationError) as error:
        services.goal_add(plan=plan, by=ward_nurse, description="   ")
    assert "description" in error.value.message_dict
    assert not Goal.objects.exists()


def test_goal_edits_merge_field_by_field(plan, ward_nurse, social_worker):
    goal = services.goal_add(plan=plan, by=ward_nurse, description="Walk to the shop")
    services.goal_update(goal=goal, by=social_worker, expected_version=1, status="in_progress")
    services.goal_update(goal=goal, by=ward_nurse, expected_version=1, measure="Twice a week")
    goal.refresh_from_db()
    assert (goal.status, goal.measure, goal.version) == ("in_progress", "Twice a week", 3)


def test_action_due_before_the_plan_started_is_refused(plan, ward_nurse, trust):
    with pytest.raises(ValidationError) as error:
        services.action_add(
            plan=plan,
            by=ward_nurse,
            what="Order a commode",
            owner_organisation=trust,
            due_date=TODAY() - dt.timedelta(days=30),
        )
    assert "due_date" in error.value.message_dict


def test_action_owner_must_be_involved_in_the_care(plan, ward_nurse):
    stranger = OrganisationFactory(ods_code="XYZ99")
    with pytest.raises(ValidationError) as error:
        services.action_add(
            plan=plan, by=ward_nurse, what="Visit", owner_organisation=stranger, due_date=TODAY()
        )
    assert "owner_organisation" in error.value.message_dict
    assert not Action.objects.exists()


def test_council_and_trust_can_own_actions(plan, ward_nurse, trust, council):
    for owner in (trust, council):
        services.action_add(
            plan=plan, by=ward_nurse, what="Call", owner_organisation=owner, due_date=TODAY()
        )
    assert Action.objects.count() == 2


def test_marking_an_action_done_records_who_and_when(plan, ward_nurse, social_worker, council):
    action = services.action_add(
        plan=plan, by=ward_nurse, what="Assess", owner_organisation=council, due_date=TODAY()
    )
    services.action_update(action=action, by=social_worker, expected_version=1, status="done")
    action.refresh_from_db()
    assert action.done_by == social_worker and action.done_at is not None


def test_contacts_and_reviews(plan, ward_nurse):
    contact = services.contact_add(
        plan=plan, by=ward_nurse, name="Sam (daughter)", phone="07700 900123", about="Everything"
    )
    services.contact_update(
        contact=contact, by=ward_nurse, expected_version=1, phone="07700 900456"
    )
    contact.refresh_from_db()
    assert contact.phone == "07700 900456"
    review = services.review_add(plan=plan, by=ward_nurse, due_on=TODAY() + dt.timedelta(days=14))
    with pytest.raises(ValidationError):
        services.review_update(
            review=review, by=ward_nurse, expected_version=1, due_on=TODAY() - dt.timedelta(days=40)
        )


# --- Family -----------------------------------------------------------------------------------


def invite(plan, by):
    return services.family_invite(
        plan=plan,
        by=by,
        name="Sam Lee",
        email="sam@example.org",
        relationship="Daughter",
        accept_url="http://testserver/plans/invitations/{token}/",
    )


def test_invitation_is_emailed_with_a_single_use_link(
    plan, ward_nurse, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(plan, ward_nurse)
    assert len(mail.outbox) == 1
    assert invitation.token in mail.outbox[0].body
    assert invitation.invitation.token_hash != invitation.token  # only a hash is stored


def test_accepting_creates_a_family_account_on_that_plan_only(plan, ward_nurse):
    invitation = invite(plan, ward_nurse)
    user = services.family_invitation_accept(
        token=invitation.token, username="samlee", password="a-long-family-passphrase"
    )
    participant = Participant.objects.get(user=user)
    assert (participant.plan, participant.kind) == (plan, "family")
    assert not user.memberships.exists()


def test_an_invitation_works_once(plan, ward_nurse):
    invitation = invite(plan, ward_nurse)
    services.family_invitation_accept(
        token=invitation.token, username="samlee", password="a-long-family-passphrase"
    )
    with pytest.raises(ValidationError, match="already been used"):
        services.family_invitation_accept(
            token=invitation.token, username="other", password="a-long-family-passphrase"
        )


def test_an_expired_invitation_is_refused(plan, ward_nurse):
    invitation = invite(plan, ward_nurse)
    type(invitation.invitation).objects.filter(pk=invitation.invitation.pk).update(
        invited_at=timezone.now() - dt.timedelta(days=9),
        expires_at=timezone.now() - dt.timedelta(days=2),
    )
    with pytest.raises(ValidationError, match="expired"):
        services.family_invitation_accept(
            token=invitation.token, username="samlee", password="a-long-family-passphrase"
        )
    assert not Participant.objects.exists()


def test_a_weak_password_saves_nothing(plan, ward_nurse):
    invitation = invite(plan, ward_nurse)
    with pytest.raises(ValidationError) as error:
        services.family_invitation_accept(
            token=invitation.token, username="samlee", password="password"
        )
    assert "password" in error.value.message_dict
    assert not Participant.objects.exists()
    services.family_invitation_accept(
        token=invitation.token, username="samlee", password="a-long-family-passphrase"
    )


@pytest.fixture
def relative(plan, ward_nurse):
    invitation = invite(plan, ward_nurse)
    return services.family_invitation_accept(
        token=invitation.token, username="samlee", password="a-long-family-passphrase"
    )


def test_family_may_write_about_me_progress_notes_and_comments(plan, relative, ward_nurse):
    save_about_me(plan, relative, 1, what_matters="Being home for the grandchildren")
    goal = services.goal_add(plan=plan, by=ward_nurse, description="Walk to the shop")
    services.goal_progress_note_add(goal=goal, by=relative, text="Walked to the gate today")
    services.comment_add(plan=plan, by=relative, section="needs", text="She prefers showers")
    assert goal.progress_notes.count() == 1


def test_family_may_not_change_other_sections(plan, relative):
    with pytest.raises(PermissionError):
        services.section_update(
            plan=plan, key="risks", by=relative, content={"risks": "none"}, expected_version=1
        )
    with pytest.raises(PermissionError):
        services.goal_add(plan=plan, by=relative, description="x")


# --- Presence ---------------------------------------------------------------------------------


def test_leases_show_who_is_editing_and_lapse_on_their_own(plan, social_worker, ward_nurse):
    from recovery_plans.selectors import presence_on

    services.lease_renew(plan=plan, section="goals", user=social_worker)
    [present] = presence_on(plan=plan, user=ward_nurse)
    assert (present.name, present.role, present.organisation, present.section_title) == (
        "Aisha",
        "social worker",
        "Council B",
        "Goals",
    )
    assert presence_on(plan=plan, user=social_worker) == []  # not yourself
    plan.leases.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert presence_on(plan=plan, user=ward_nurse) == []
