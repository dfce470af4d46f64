"""A system leader opens the flow dashboard, changes the dates and drills into a ward, in Chromium."""

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.dashboards.conftest import ago, at, recompute

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_leader_opens_the_dashboard_changes_the_range_and_drills_into_a_ward(
    page, sign_in, system_leader, story, ward
):
    for n in range(3):
        story(at(ago(20 + n), 10), on=ward).ready(ago(5)).discharge(ago(2 + n))
    story(at(ago(10), 10), on=ward).ready(ago(1))
    recompute(ago(40))
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    sign_in(system_leader)
    device = TOTPDevice.objects.get(user=system_leader)
    page.get_by_label("6-digit code from your authenticator app").fill(
        f"{totp(device.bin_key):06d}"
    )
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Flow dashboard").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Whole system")
    expect(page.locator('[data-headline="occupied"] .hf-count')).to_have_text("1")
    # Every chart is drawn (Chart.js runs under the strict content security policy).
    expect(page.locator("canvas[data-drawn]")).to_have_count(page.locator("canvas").count())

    page.get_by_label("From", exact=True).fill(ago(30).isoformat())
    page.get_by_label("To", exact=True).fill(ago(2).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"start={ago(30)}&end={ago(2)}"))
    expect(page.locator('[data-headline="discharges"] .hf-count')).to_have_text("1")
    expect(page.get_by_role("heading", name=re.compile("Trends"))).to_contain_text(
        f"{ago(2):%-d %b %Y}"
    )

    page.get_by_role("link", name=ward.site.name).click()
    expect(page).to_have_url(re.compile(rf"place=site-{ward.site_id}"))
    page.get_by_role("link", name=ward.name, exact=True).click()
    expect(page).to_have_url(re.compile(rf"place=ward-{ward.pk}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(ward.name)
    assert f"end={ago(2)}" in page.url  # the chosen range travels with the drill-down
    expect(page.locator('[data-headline="discharges"] .hf-count')).to_have_text("1")
    assert problems == []
