"""Two colleagues and a relative working on one plan in real browsers (system Chromium)."""

import re

import pytest
from playwright.sync_api import expect

from recovery_plans import services
from recovery_plans.models import Goal, GoalProgressNote
from tests.factories import recovery_plan_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def open_as(browser, live_server, user, path, password="correct-horse-battery"):
    """A separate browser (its own cookies) signed in as the user, on the given page."""
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/?next={path}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    return page


def test_two_colleagues_edit_one_goal_and_resolve_the_conflict(
    browser, live_server, admission, ward_nurse, social_worker
):
    plan = recovery_plan_for(admission, ward_nurse)
    goal = services.goal_add(plan=plan, by=ward_nurse, description="Walk to the shop")
    path = f"/plans/{plan.pk}/"
    aisha = open_as(browser, live_server, social_worker, path)
    grace = open_as(browser, live_server, ward_nurse, path)
    goals_of = lambda page: page.locator("#plan-goals")  # noqa: E731

    # Both open the same goal.
    for page in (aisha, grace):
        goals_of(page).get_by_role("button", name=re.compile("Change goal")).click()
        expect(goals_of(page).get_by_label("Goal, in the person's own words")).to_be_visible()

    # Grace sees that Aisha is editing Goals (presence, within a poll or two).
    expect(grace.locator("#plan-poller")).to_contain_text(
        "Aisha (social worker, Council B) is editing Goals"
    )

    aisha_goals = goals_of(aisha)
    aisha_goals.get_by_label("Goal, in the person's own words").fill("Walk to the park")
    aisha_goals.get_by_role("button", name="Save").click()
    expect(aisha_goals.get_by_role("status")).to_have_text("Saved")

    grace_goals = goals_of(grace)
    grace_goals.get_by_label("Goal, in the person's own words").fill("Walk to the post office")
    grace_goals.get_by_role("button", name="Save").click()
    expect(grace_goals.get_by_role("alert")).to_contain_text("Aisha Khan changed this")
    expect(grace_goals.locator('[data-theirs="description"]')).to_have_text("Walk to the park")
    grace_goals.get_by_label("Goal, in the person's own words").fill(
        "Walk to the park and the post office"
    )
    grace_goals.get_by_role("button", name="Save my version").click()
    expect(grace_goals.get_by_role("status")).to_have_text("Saved")

    # Aisha's page picks up Grace's resolution without a reload.
    expect(aisha_goals).to_contain_text("Walk to the park and the post office", timeout=15_000)
    goal.refresh_from_db()
    assert goal.description == "Walk to the park and the post office"
    assert goal.version == 3


def test_relative_accepts_the_invitation_and_adds_a_progress_note(
    browser, live_server, admission, ward_nurse
):
    plan = recovery_plan_for(admission, ward_nurse)
    goal = services.goal_add(plan=plan, by=ward_nurse, description="Walk to the shop")
    grace = open_as(browser, live_server, ward_nurse, f"/plans/{plan.pk}/people/")
    grace.get_by_label("Their name").fill("Sam Lee")
    grace.get_by_label("Email address").fill("sam@example.org")
    grace.get_by_label("Relationship to the person").fill("Daughter")
    grace.get_by_role("button", name="Send invitation").click()
    link = grace.locator(".hf-invitation-link").inner_text()

    sam = browser.new_context().new_page()
    sam.goto(link)
    sam.get_by_label("Choose a username").fill("samlee")
    sam.get_by_label("Choose a password").fill("a-long-family-passphrase")
    sam.get_by_label("Type the password again").fill("a-long-family-passphrase")
    sam.get_by_role("button", name="Create my account").click()
    expect(sam.get_by_role("heading", level=1)).to_have_text(admission.patient.full_name)
    sam.wait_for_load_state("load")

    goals = sam.locator("#plan-goals")
    goals.get_by_label("Add a progress note").fill("Walked to the gate with me today")
    goals.get_by_role("button", name="Add note").click()
    expect(goals).to_contain_text("Walked to the gate with me today")
    assert GoalProgressNote.objects.get(goal=goal).written_by.username == "samlee"
    # The relative has no way to change other sections.
    expect(sam.locator("#plan-risks").get_by_role("button", name=re.compile("Edit"))).to_have_count(
        0
    )
    assert Goal.objects.get(pk=goal.pk).version == 1
