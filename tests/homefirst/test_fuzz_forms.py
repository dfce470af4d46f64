"""Fuzzing sign-in and two-step sign-in: hostile posts never fail and never redirect off the site."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import example, given, note
from hypothesis import strategies as st

from tests.fuzz import FUZZ, form, one_of_or_junk, rolled_back, shows_an_error, text

pytestmark = pytest.mark.django_db

NEXT = one_of_or_junk("/wards/", "//evil.example/", "https://evil.example/", "/\\evil.example")


def _stays_on_the_site(response) -> bool:
    return url_has_allowed_host_and_scheme(response.url, allowed_hosts={"testserver"})


@FUZZ
@given(
    page=st.sampled_from(["login", "admin:login"]),
    fields=form(
        username=one_of_or_junk("nurse", "NURSE"),
        password=one_of_or_junk("correct-horse-battery"),
        next=NEXT,
    ),
)
@example(page="login", fields={"username": "x" * 256, "password": "p"})
@example(page="admin:login", fields={"username": "x" * 256, "password": "p"})
def test_signing_in_answers_any_post_with_a_page_or_a_local_redirect(ward_nurse, page, fields):
    with rolled_back():
        response = Client().post(reverse(page), fields)
        note(f"signing in with {fields}: {response.status_code}")
    assert response.status_code in (200, 302, 403, 429)
    if response.status_code == 302:
        assert _stays_on_the_site(response)


@FUZZ
@given(
    page=st.sampled_from(["two_factor_verify", "two_factor_setup"]),
    query_next=NEXT,
    fields=form(code=st.one_of(st.from_regex(r"\A[0-9]{6}\Z"), text()), next=NEXT),
)
def test_two_step_sign_in_answers_any_code_with_an_error_beside_it(
    system_leader, ward_nurse, page, query_next, fields
):
    # The verify page is for someone with an app set up; the setup page for someone without.
    user = system_leader if page == "two_factor_verify" else ward_nurse
    with rolled_back():
        browser = Client()
        browser.force_login(user)
        url = f"{reverse(page)}?{urlencode({'next': query_next})}"
        response = browser.post(url, fields)
        note(f"{page} with {fields}: {response.status_code}")
    assert response.status_code in (302, 422)
    if response.status_code == 302:
        assert _stays_on_the_site(response)
    else:
        assert shows_an_error(response)
