import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from recovery_plans import services
from recovery_plans.models import (
    EditingLease,
    FamilyInvitation,
    Participant,
    PlanSection,
    RecoveryPlan,
)
from tests.factories import AdmissionFactory, recovery_plan_for

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def plan_urls(plan, goal_id=1):
    pk = plan.pk
    return {
        "get": [
            reverse("recovery_plans:plan", args=[pk]),
            reverse("recovery_plans:print", args=[pk]),
            reverse("recovery_plans:history", args=[pk]),
            reverse("recovery_plans:people", args=[pk]),
            reverse("recovery_plans:close", args=[pk]),
            reverse("recovery_plans:poll", args=[pk]),
            reverse("recovery_plans:section", args=[pk, "about_me"]),
            reverse("recovery_plans:section_edit", args=[pk, "about_me"]),
            reverse("recovery_plans:item_add", args=[pk, "goals"]),
        ],
        "post": [
            reverse("recovery_plans:section_edit", args=[pk, "about_me"]),
            reverse("recovery_plans:comment", args=[pk, "about_me"]),
            reverse("recovery_plans:presence", args=[pk, "about_me"]),
            reverse("recovery_plans:item_add", args=[pk, "goals"]),
            reverse("recovery_plans:progress_note", args=[pk, goal_id]),
            reverse("recovery_plans:close", args=[pk]),
            reverse("recovery_plans:people", args=[pk]),
        ],
    }


@pytest.fixture
def other_family(ward, council, ward_nurse):
    """A family member invited to someone else's plan."""
    other_plan = recovery_plan_for(
        AdmissionFactory(current_ward=ward, patient__local_authority=council), ward_nurse
    )
    invitation = services.family_invite(
        plan=other_plan,
        by=ward_nurse,
        name="Kim Roe",
        email="kim@example.org",
        relationship="Son",
        accept_url="http://x/{token}/",
    )
    return services.family_invitation_accept(
        token=invitation.token, username="kim", password="another-long-passphrase"
    )


@pytest.fixture
def relative(plan, ward_nurse):
    invitation = services.family_invite(
        plan=plan,
        by=ward_nurse,
        name="Sam Lee",
        email="sam@example.org",
        relationship="Daughter",
        accept_url="http://x/{token}/",
    )
    return services.family_invitation_accept(
        token=invitation.token, username="sam", password="a-long-family-passphrase"
    )


# --- Access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["outsider", "system_leader", "provider_carer", "family_member", "other_family"]
)
def test_everything_on_a_plan_is_404_to_those_not_involved(
    client, request, persona, plan, ward_nurse
):
    goal = services.goal_add(plan=plan, by=ward_nurse, description="Walk")
    client.force_login(request.getfixturevalue(persona))
    urls = plan_urls(plan, goal.pk)
    for url in urls["get"]:
        assert client.get(url, **HTMX).status_code == 404, url
    for url in urls["post"]:
        assert client.post(url, {"text": "x", "expected_version": 1}, **HTMX).status_code == 404, (
            url
        )
    assert client.post(reverse("recovery_plans:start", args=[plan.patient_id])).status_code == 404
    assert PlanSection.objects.get(plan=plan, key="about_me").version == 1


def test_social_worker_of_the_persons_council_can_open_the_plan(client, social_worker, plan):
    client.force_login(social_worker)
    assert client.get(reverse("recovery_plans:plan", args=[plan.pk])).status_code == 200


def test_a_colleague_added_to_the_plan_can_open_it(client, plan, ward_nurse, provider_carer):
    services.participant_add(plan=plan, by=ward_nurse, user=provider_carer)
    client.force_login(provider_carer)
    assert client.get(reverse("recovery_plans:plan", args=[plan.pk])).status_code == 200


@pytest.mark.parametrize("goals", [2, 12])
def test_plan_page_queries_do_not_grow_with_items(
    client, plan, ward_nurse, trust, django_assert_max_num_queries, goals
):
    for n in range(goals):
        goal = services.goal_add(plan=plan, by=ward_nurse, description=f"Goal {n}")
        services.goal_progress_note_add(goal=goal, by=ward_nurse, text="Going well")
        services.action_add(
            plan=plan,
            by=ward_nurse,
            what=f"Action {n}",
            owner_organisation=trust,
            due_date=timezone.localdate(),
        )
        services.comment_add(plan=plan, by=ward_nurse, section="needs", text="Noted")
    client.force_login(ward_nurse)
    with django_assert_max_num_queries(26):
        response = client.get(reverse("recovery_plans:plan", args=[plan.pk]))
    assert response.content.decode().count('class="hf-plan-item"') == goals


# --- Starting ----------------------------------------------------------------------------------


def test_starting_from_the_patient_page_opens_the_new_plan(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    response = client.post(reverse("recovery_plans:start", args=[admission.patient_id]))
    plan = RecoveryPlan.objects.get(patient=admission.patient)
    assert response["Location"] == reverse("recovery_plans:plan", args=[plan.pk])
    client.post(reverse("recovery_plans:start", args=[admission.patient_id]))
    assert RecoveryPlan.objects.count() == 1  # starting again opens the same plan


def test_patient_page_and_board_show_the_plan_and_overdue_actions(
    client, ward_nurse, admission, plan, trust
):
    action = services.action_add(
        plan=plan,
        by=ward_nurse,
        what="Order a bed",
        owner_organisation=trust,
        due_date=timezone.localdate(),
    )
    type(action).objects.filter(pk=action.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=1)
    )
    client.force_login(ward_nurse)
    patient_page = client.get(
        reverse("discharge:patient", args=[admission.patient_id])
    ).content.decode()
    assert reverse("recovery_plans:plan", args=[plan.pk]) in patient_page
    board = client.get(
        reverse("discharge:board", args=[admission.current_ward_id])
    ).content.decode()
    assert reverse("recovery_plans:plan", args=[plan.pk]) in board
    assert "1 overdue" in board


# --- Co-editing through the page ----------------------------------------------------------------


def post_about_me(client, plan, version, **fields):
    url = reverse("recovery_plans:section_edit", args=[plan.pk, "about_me"])
    data = {
        "expected_version": version,
        "what_matters": "",
        "about_me": "",
        "how_to_support": "",
        **fields,
    }
    return client.post(url, data, **HTMX)


def test_section_save_re_renders_the_section(client, ward_nurse, plan):
    client.force_login(ward_nurse)
    response = post_about_me(client, plan, 1, what_matters="My garden")
    assert response.status_code == 200
    assert "My garden" in response.content.decode()
    assert response["HX-Trigger"] == "planSaved"


def test_conflicting_save_answers_409_with_both_versions(client, ward_nurse, social_worker, plan):
    services.section_update(
        plan=plan,
        key="about_me",
        by=social_worker,
        content={"what_matters": "My garden"},
        expected_version=1,
    )
    client.force_login(ward_nurse)
    response = post_about_me(client, plan, 1, what_matters="My cat")
    html = response.content.decode()
    assert response.status_code == 409
    assert "Aisha Khan changed this" in html
    assert re.search(r'data-theirs="what_matters">My garden<', html)
    assert re.search(r'data-mine="what_matters">My cat<', html)
    assert 'name="expected_version" value="2"' in html
    assert PlanSection.objects.get(plan=plan, key="about_me").content["what_matters"] == "My garden"


def test_saving_again_after_a_conflict_keeps_a_third_persons_change(
    client, ward_nurse, social_worker, discharge_coordinator, plan
):
    """B changes one field, C another, A clashes with C: A's retry must not undo B."""
    services.section_update(
        plan=plan,
        key="about_me",
        by=discharge_coordinator,
        content={"how_to_support": "Speak slowly"},
        expected_version=1,
    )
    services.section_update(
        plan=plan,
        key="about_me",
        by=social_worker,
        content={"what_matters": "My garden"},
        expected_version=2,
    )
    client.force_login(ward_nurse)
    clash = post_about_me(client, plan, 1, what_matters="My cat")
    html = clash.content.decode()
    assert clash.status_code == 409
    # The form to resubmit holds the nurse's clashing value and the coordinator's change.
    assert re.search(r'name="how_to_support"[^>]*>\s*Speak slowly\s*<', html)
    assert 'name="expected_version" value="3"' in html
    again = post_about_me(client, plan, 3, what_matters="My cat", how_to_support="Speak slowly")
    assert again.status_code == 200
    content = PlanSection.objects.get(plan=plan, key="about_me").content
    assert (content["what_matters"], content["how_to_support"]) == ("My cat", "Speak slowly")


def test_edit_to_a_different_field_merges_silently(client, ward_nurse, social_worker, plan):
    services.section_update(
        plan=plan,
        key="about_me",
        by=social_worker,
        content={"what_matters": "My garden"},
        expected_version=1,
    )
    client.force_login(ward_nurse)
    # The nurse's form started from version 1 and changed only "about me"; it also sends the
    # other fields as they were then (empty), which must not wipe Aisha's words.
    response = post_about_me(client, plan, 1, about_me="Retired teacher")
    content = PlanSection.objects.get(plan=plan, key="about_me").content
    assert response.status_code == 200
    assert (content["what_matters"], content["about_me"]) == ("My garden", "Retired teacher")


def test_oversize_text_shows_an_error_beside_the_field(client, ward_nurse, plan):
    client.force_login(ward_nurse)
    response = post_about_me(client, plan, 1, what_matters="x" * 4001)
    assert response.status_code == 422
    assert 'id="id_what_matters-error"' in response.content.decode()
    assert PlanSection.objects.get(plan=plan, key="about_me").version == 1


def test_empty_goal_is_refused_beside_the_field(client, ward_nurse, plan):
    client.force_login(ward_nurse)
    response = client.post(
        reverse("recovery_plans:item_add", args=[plan.pk, "goals"]),
        {"description": "  ", "status": "not_started"},
        **HTMX,
    )
    assert response.status_code == 422
    assert 'id="id_description-error"' in response.content.decode()


def test_action_owner_not_involved_is_refused_beside_the_field(
    client, ward_nurse, plan, other_trust
):
    client.force_login(ward_nurse)
    response = client.post(
        reverse("recovery_plans:item_add", args=[plan.pk, "actions"]),
        {
            "what": "Visit",
            "owner_organisation": other_trust.pk,
            "due_date": timezone.localdate().isoformat(),
            "status": "open",
        },
        **HTMX,
    )
    assert response.status_code == 422
    assert "involved in this person" in response.content.decode()


def test_action_due_before_the_plan_is_refused(client, ward_nurse, plan, trust):
    client.force_login(ward_nurse)
    response = client.post(
        reverse("recovery_plans:item_add", args=[plan.pk, "actions"]),
        {
            "what": "Visit",
            "owner_organisation": trust.pk,
            "status": "open",
            "due_date": (timezone.localdate() - dt.timedelta(days=3)).isoformat(),
        },
        **HTMX,
    )
    assert response.status_code == 422
    assert "before the plan started" in response.content.decode()


def test_goal_conflict_through_the_page(client, ward_nurse, social_worker, plan):
    goal = services.goal_add(plan=plan, by=ward_nurse, description="Walk to the shop")
    services.goal_update(
        goal=goal, by=social_worker, expected_version=1, description="Walk to the park"
    )
    client.force_login(ward_nurse)
    response = client.post(
        reverse("recovery_plans:item_edit", args=[plan.pk, "goals", goal.pk]),
        {
            "expected_version": 1,
            "description": "Walk to the post office",
            "measure": "",
            "status": "not_started",
        },
        **HTMX,
    )
    assert response.status_code == 409
    assert "Walk to the park" in response.content.decode()


# --- Live updates and presence -----------------------------------------------------------------


def test_poll_answers_304_while_nothing_changed_then_names_the_changed_section(
    client, ward_nurse, social_worker, plan
):
    client.force_login(ward_nurse)
    url = reverse("recovery_plans:poll", args=[plan.pk])
    first = client.get(url, {"since": plan.revision}, **HTMX)
    etag = first["ETag"]
    assert (
        client.get(url, {"since": plan.revision}, HTTP_IF_NONE_MATCH=etag, **HTMX).status_code
        == 304
    )
    services.section_update(
        plan=plan, key="needs", by=social_worker, content={"mobility": "Frame"}, expected_version=1
    )
    changed = client.get(url, {"since": plan.revision}, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert changed.status_code == 200
    assert changed["HX-Trigger"] == "plan-needs"


def test_poll_shows_who_else_is_editing(client, ward_nurse, social_worker, plan):
    client.force_login(social_worker)
    assert (
        client.post(reverse("recovery_plans:presence", args=[plan.pk, "goals"]), **HTMX).status_code
        == 204
    )
    client.force_login(ward_nurse)
    html = client.get(reverse("recovery_plans:poll", args=[plan.pk]), **HTMX).content.decode()
    assert "Aisha</strong> (social worker, Council B) is editing Goals" in html


def test_cancel_releases_the_lease(client, social_worker, ward_nurse, plan):
    client.force_login(social_worker)
    url = reverse("recovery_plans:presence", args=[plan.pk, "goals"])
    client.post(url, **HTMX)
    assert client.post(url, {"leaving": "1"}, **HTMX).status_code == 200
    client.force_login(ward_nurse)
    assert (
        "is editing"
        not in client.get(reverse("recovery_plans:poll", args=[plan.pk]), **HTMX).content.decode()
    )


# --- Family -------------------------------------------------------------------------------------


def test_staff_invite_a_relative_by_email_and_see_the_link(
    client, ward_nurse, plan, django_capture_on_commit_callbacks
):
    client.force_login(ward_nurse)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("recovery_plans:people", args=[plan.pk]),
            {
                "invite": "1",
                "name": "Sam Lee",
                "email": "sam@example.org",
                "relationship": "Daughter",
            },
        )
    html = response.content.decode()
    link = re.search(r"http://testserver/plans/invitations/[\w-]+/", html).group(0)
    assert link in mail.outbox[0].body
    assert FamilyInvitation.objects.get().name == "Sam Lee"


def test_bad_invitation_input_is_refused_beside_the_field(client, ward_nurse, plan):
    client.force_login(ward_nurse)
    response = client.post(
        reverse("recovery_plans:people", args=[plan.pk]),
        {"invite": "1", "name": "Sam", "email": "not-an-email", "relationship": "Daughter"},
    )
    assert response.status_code == 422
    assert 'id="id_email-error"' in response.content.decode()
    assert not FamilyInvitation.objects.exists()


def test_relative_accepts_and_lands_on_the_plan(client, ward_nurse, plan):
    invitation = services.family_invite(
        plan=plan,
        by=ward_nurse,
        name="Sam Lee",
        email="sam@example.org",
        relationship="Daughter",
        accept_url="http://x/{token}/",
    )
    url = reverse("recovery_plans:invitation", args=[invitation.token])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "username": "sam",
            "password": "a-long-family-passphrase",
            "password_again": "a-long-family-passphrase",
        },
    )
    assert response["Location"] == reverse("recovery_plans:plan", args=[plan.pk])
    assert client.get(response["Location"]).status_code == 200
    assert (
        client.post(
            url,
            {
                "username": "sam2",
                "password": "a-long-family-passphrase",
                "password_again": "a-long-family-passphrase",
            },
        ).status_code
        == 410
    )


def test_expired_invitation_says_so(client, ward_nurse, plan):
    invitation = services.family_invite(
        plan=plan,
        by=ward_nurse,
        name="Sam Lee",
        email="sam@example.org",
        relationship="Daughter",
        accept_url="http://x/{token}/",
    )
    FamilyInvitation.objects.update(
        invited_at=timezone.now() - dt.timedelta(days=10),
        expires_at=timezone.now() - dt.timedelta(days=3),
    )
    response = client.get(reverse("recovery_plans:invitation", args=[invitation.token]))
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_mismatched_passwords_save_nothing(client, ward_nurse, plan):
    invitation = services.family_invite(
        plan=plan,
        by=ward_nurse,
        name="Sam Lee",
        email="sam@example.org",
        relationship="Daughter",
        accept_url="http://x/{token}/",
    )
    response = client.post(
        reverse("recovery_plans:invitation", args=[invitation.token]),
        {"username": "sam", "password": "a-long-family-passphrase", "password_again": "other"},
    )
    assert response.status_code == 422
    assert not Participant.objects.exists()


def test_relative_may_add_to_about_me_but_not_change_other_sections(client, relative, plan):
    client.force_login(relative)
    assert post_about_me(client, plan, 1, what_matters="Her garden").status_code == 200
    risks = reverse("recovery_plans:section_edit", args=[plan.pk, "risks"])
    assert (
        client.post(
            risks, {"expected_version": 1, "risks": "x", "safeguarding": ""}, **HTMX
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("recovery_plans:item_add", args=[plan.pk, "goals"]),
            {"description": "x", "status": "not_started"},
            **HTMX,
        ).status_code
        == 403
    )
    page = client.get(reverse("recovery_plans:plan", args=[plan.pk])).content.decode()
    assert reverse("recovery_plans:section_edit", args=[plan.pk, "risks"]) not in page


def test_relative_sees_nothing_else_in_the_system(client, relative, admission):
    client.force_login(relative)
    assert client.get(reverse("discharge:patient", args=[admission.patient_id])).status_code == 404
    assert (
        client.get(reverse("discharge:board", args=[admission.current_ward_id])).status_code == 404
    )


def test_relative_adds_a_progress_note_and_a_comment(client, relative, plan, ward_nurse):
    goal = services.goal_add(plan=plan, by=ward_nurse, description="Walk to the shop")
    client.force_login(relative)
    note = client.post(
        reverse("recovery_plans:progress_note", args=[plan.pk, goal.pk]),
        {"text": "To the gate"},
        **HTMX,
    )
    assert note.status_code == 200 and "To the gate" in note.content.decode()
    comment = client.post(
        reverse("recovery_plans:comment", args=[plan.pk, "needs"]), {"text": "Showers"}, **HTMX
    )
    assert comment.status_code == 200 and "Showers" in comment.content.decode()
    empty = client.post(
        reverse("recovery_plans:comment", args=[plan.pk, "needs"]), {"text": " "}, **HTMX
    )
    assert empty.status_code == 422


# --- Print and history --------------------------------------------------------------------------


def test_print_view_puts_contacts_first(client, ward_nurse, plan):
    services.contact_add(
        plan=plan, by=ward_nurse, name="Reablement team", phone="0113 000 0000", about="Visits"
    )
    services.goal_add(plan=plan, by=ward_nurse, description="Walk to the shop")
    client.force_login(ward_nurse)
    html = client.get(reverse("recovery_plans:print", args=[plan.pk])).content.decode()
    assert html.index("Who to contact") < html.index("Reablement team") < html.index("My goals")


def test_history_shows_who_from_where_and_before_and_after(client, ward_nurse, social_worker, plan):
    services.section_update(
        plan=plan,
        key="about_me",
        by=social_worker,
        content={"what_matters": "Garden"},
        expected_version=1,
    )
    services.section_update(
        plan=plan,
        key="about_me",
        by=ward_nurse,
        content={"what_matters": "Garden and cat"},
        expected_version=2,
    )
    client.force_login(ward_nurse)
    html = client.get(reverse("recovery_plans:history", args=[plan.pk])).content.decode()
    assert "Aisha Khan" in html and "Council B" in html
    assert "Garden and cat" in html and "About me and what matters to me changed" in html


def test_closing_needs_an_outcome(client, ward_nurse, plan):
    client.force_login(ward_nurse)
    url = reverse("recovery_plans:close", args=[plan.pk])
    assert client.post(url, {"outcome": ""}).status_code == 422
    assert client.post(url, {"outcome": "home_independent"}).status_code == 302
    plan.refresh_from_db()
    assert plan.status == "closed"


def test_unknown_section_is_404(client, ward_nurse, plan):
    client.force_login(ward_nurse)
    assert (
        client.get(reverse("recovery_plans:section", args=[plan.pk, "secrets"])).status_code == 404
    )


def test_family_member_home_lists_their_plan_and_logs_the_view(client, relative, plan):
    from discharge.models import PatientRecordView

    client.force_login(relative)
    assert (
        reverse("recovery_plans:plan", args=[plan.pk])
        in client.get(reverse("home")).content.decode()
    )
    logged = PatientRecordView.objects.get(user=relative)
    assert (logged.patient_id, logged.path) == (plan.patient_id, reverse("home"))


def test_opening_or_printing_a_plan_is_logged(client, social_worker, plan):
    from discharge.models import PatientRecordView

    client.force_login(social_worker)
    client.get(reverse("recovery_plans:plan", args=[plan.pk]))
    client.get(reverse("recovery_plans:print", args=[plan.pk]))
    logged = PatientRecordView.objects.filter(user=social_worker, patient=plan.patient)
    assert sorted(v.path for v in logged) == [f"/plans/{plan.pk}/", f"/plans/{plan.pk}/print/"]


def test_services_involved_shows_the_persons_transfers_of_care(client, ward_nurse, admission, plan):
    from tests.factories import ReferralFactory

    referral = ReferralFactory(admission=admission)
    client.force_login(ward_nurse)
    html = client.get(reverse("recovery_plans:plan", args=[plan.pk])).content.decode()
    services_section = html[html.index('id="plan-services"') : html.index('id="plan-risks"')]
    assert reverse("pathways:referral", args=[referral.pk]) in services_section


def test_family_see_no_referral_details(client, relative, admission, plan):
    from tests.factories import ReferralFactory

    referral = ReferralFactory(admission=admission)
    client.force_login(relative)
    html = client.get(reverse("recovery_plans:plan", args=[plan.pk])).content.decode()
    assert reverse("pathways:referral", args=[referral.pk]) not in html


def test_family_are_refused_the_forms_they_may_not_save(client, relative, ward_nurse, plan):
    goal = services.goal_add(plan=plan, by=ward_nurse, description="Walk to the shop")
    client.force_login(relative)
    refused = [
        reverse("recovery_plans:close", args=[plan.pk]),
        reverse("recovery_plans:item_add", args=[plan.pk, "goals"]),
        reverse("recovery_plans:item_edit", args=[plan.pk, "goals", goal.pk]),
        reverse("recovery_plans:section_edit", args=[plan.pk, "support_network"]),
    ]
    for url in refused:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "not change this part of it" in response.content.decode()
    # Nor do they show as editing a part they may not change.
    presence = reverse("recovery_plans:presence", args=[plan.pk, "support_network"])
    assert client.post(presence, HTTP_HX_REQUEST="true").status_code == 403
    assert not EditingLease.objects.filter(user=relative).exists()
    # "About me" is the family's to write in.
    about_me = reverse("recovery_plans:section_edit", args=[plan.pk, "about_me"])
    assert client.get(about_me, HTTP_HX_REQUEST="true").status_code == 200


def test_a_page_that_is_not_there_is_an_nhs_styled_404(client, ward_nurse):
    client.force_login(ward_nurse)
    response = client.get("/plans/999999/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "nhsuk-header" in response.content.decode()
