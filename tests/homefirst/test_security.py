"""Sign-in lockout, session lifetimes, two-step sign-in and the Content Security Policy."""

import re
import time
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from homefirst import session_lifetime
from homefirst.models import Membership
from tests.factories import member

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


# --- Lockout -------------------------------------------------------------------------------------


def test_repeated_failures_lock_that_username_from_that_address(client, ward_nurse):
    for _ in range(4):
        assert sign_in(client, "nurse", "wrong").status_code == 200
    assert sign_in(client, "nurse", "wrong").status_code == 429  # the fifth failure locks
    locked = sign_in(client, "nurse", PASSWORD)
    assert locked.status_code == 429  # even the right password, for now
    assert "Too many attempts" in locked.content.decode()


def test_a_lockout_elsewhere_does_not_lock_the_colleague_out(client, ward_nurse):
    for _ in range(6):
        sign_in(client, "nurse", "wrong", address="10.9.9.9")
    assert sign_in(client, "nurse", PASSWORD, address="10.0.0.1").status_code == 302


@override_settings(AXES_COOLOFF_TIME=0.0001)
def test_the_lock_lifts_after_the_cool_off(client, ward_nurse):
    for _ in range(5):
        sign_in(client, "nurse", "wrong")
    time.sleep(1)
    assert sign_in(client, "nurse", PASSWORD).status_code == 302


# --- Session lifetimes ---------------------------------------------------------------------------


def _age_session(client, *, started=0.0, last_seen=0.0):
    session = client.session
    now = time.time()
    session[session_lifetime.STARTED] = now - started
    session[session_lifetime.LAST_SEEN] = now - last_seen
    session.save()


def test_thirty_minutes_idle_signs_out(client, ward_nurse):
    client.force_login(ward_nurse)
    _age_session(client, started=31 * 60, last_seen=31 * 60)
    response = client.get(reverse("discharge:site_overview"))
    assert response.status_code == 302 and "expired=1" in response["Location"]
    assert client.get(reverse("discharge:site_overview")).status_code == 302  # really signed out


def test_twelve_hours_in_all_signs_out_however_busy(client, ward_nurse):
    client.force_login(ward_nurse)
    _age_session(client, started=12 * 3600 + 60, last_seen=5)
    assert "expired=1" in client.get(reverse("discharge:site_overview"))["Location"]


def test_activity_keeps_the_session(client, ward_nurse):
    client.force_login(ward_nurse)
    _age_session(client, started=3600, last_seen=20 * 60)
    assert client.get(reverse("discharge:site_overview")).status_code == 200


def test_background_polling_does_not_keep_an_unattended_screen_signed_in(client, ward_nurse):
    client.force_login(ward_nurse)
    _age_session(client, started=3600, last_seen=20 * 60)
    client.get(reverse("discharge:site_overview"), HTTP_X_HOMEFIRST_BACKGROUND="1")
    last_seen = client.session[session_lifetime.LAST_SEEN]
    assert time.time() - last_seen >= 20 * 60 - 5


@override_settings(HOMEFIRST_SESSION_IDLE=60)
def test_idle_limit_is_configurable(client, ward_nurse):
    client.force_login(ward_nurse)
    _age_session(client, started=120, last_seen=90)
    assert client.get(reverse("discharge:site_overview")).status_code == 302


def test_htmx_requests_are_redirected_to_sign_in(client, ward_nurse):
    client.force_login(ward_nurse)
    _age_session(client, started=40 * 60, last_seen=40 * 60)
    response = client.get(reverse("discharge:site_overview"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/accounts/login/"


# --- Two-step sign-in ----------------------------------------------------------------------------


@pytest.fixture
def administrator(trust):
    return member(trust, Membership.Role.ADMINISTRATOR, username="administrator")


def test_leaders_and_administrators_must_set_up_two_step_sign_in(client, council, administrator):
    leader = member(council, Membership.Role.SYSTEM_LEADER, username="newleader")
    for user in (leader, administrator):
        client.logout()
        assert sign_in(client, user.username, PASSWORD).status_code == 302
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("two_factor_setup"))


def test_setting_up_with_a_valid_code_lets_the_leader_in(client, council):
    leader = member(council, Membership.Role.SYSTEM_LEADER, username="newleader")
    sign_in(client, "newleader", PASSWORD)
    page = client.get(reverse("two_factor_setup"))
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=leader)
    code = f"{totp(device.bin_key):06d}"
    response = client.post(reverse("two_factor_setup"), {"code": code, "next": "/"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_a_wrong_code_at_setup_is_refused_beside_the_field(client, council):
    member(council, Membership.Role.SYSTEM_LEADER, username="newleader")
    sign_in(client, "newleader", PASSWORD)
    response = client.post(reverse("two_factor_setup"), {"code": "000000"})
    assert response.status_code == 422
    assert 'id="id_code-error"' in response.content.decode()
    assert not TOTPDevice.objects.filter(user__username="newleader", confirmed=True).exists()


def test_a_user_with_a_device_is_asked_for_the_code_each_sign_in(client, system_leader):
    device = TOTPDevice.objects.get(user=system_leader)
    sign_in(client, "leader", PASSWORD)
    assert client.get(reverse("home"))["Location"].startswith(reverse("two_factor_verify"))
    assert client.post(reverse("two_factor_verify"), {"code": "12345"}).status_code == 422
    client.post(reverse("two_factor_verify"), {"code": f"{totp(device.bin_key):06d}"})
    assert client.get(reverse("home")).status_code == 200


def test_ward_staff_are_not_asked_for_a_second_factor(client, ward_nurse):
    sign_in(client, "nurse", PASSWORD)
    assert client.get(reverse("discharge:site_overview")).status_code == 200


# --- Content Security Policy ---------------------------------------------------------------------


def test_pages_carry_a_strict_content_security_policy(client, ward_nurse):
    client.force_login(ward_nurse)
    policy = client.get(reverse("discharge:site_overview"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_no_template_has_inline_script_or_style():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        if (
            re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
            or re.search(r"\sstyle=\"", text)
            or "<style" in text
        ):
            offenders.append(template.name)
        if re.search(r"\shx-on[:-]", text):
            offenders.append(f"{template.name} (hx-on needs eval)")
    assert offenders == []
