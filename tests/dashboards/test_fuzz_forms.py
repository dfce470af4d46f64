"""Fuzzing the dashboards' query strings: filters, date ranges and export formats never fail."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import given, note
from hypothesis import strategies as st

from tests.fuzz import FUZZ, date_text, number, one_of_or_junk, rolled_back, shows_an_error

pytestmark = pytest.mark.django_db

DATES = date_text()
PERSONAS = ("system_leader", "ward_nurse", "social_worker", "outsider", "family_member")
PAGES = {
    "dashboards:index": (),
    "dashboards:status": (),
    "dashboards:export": ("csv",),
    "dashboards:sitrep": ("xlsx",),
    "dashboards:drd_timeliness": ("csv",),
}


@pytest.fixture
def people(request) -> dict:
    return {name: request.getfixturevalue(name) for name in PERSONAS}


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    page=st.sampled_from(list(PAGES)),
    fmt=st.one_of(st.none(), one_of_or_junk("csv", "xlsx").filter(lambda f: f and "/" not in f)),
    params=st.fixed_dictionaries(
        {},
        optional={
            "place": st.one_of(
                # A place with no id once failed ("ward", "ward-"): 404 now.
                st.sampled_from(["SITE", "WARD", "ward", "ward-", "site-", "site"]),
                number().map(lambda n: f"site-{n}"),
                number().map(lambda n: f"ward-{n}"),
                number(),
            ),
            "council": st.one_of(st.just("COUNCIL"), number()),
            "pathway": one_of_or_junk("0", "1", "2", "3"),
            "start": DATES,
            "end": DATES,
        },
    ),
)
def test_dashboards_answer_any_query_string_without_failing(
    client, people, ward, council, who, page, fmt, params
):
    tokens = {"SITE": f"site-{ward.site_id}", "WARD": f"ward-{ward.pk}", "COUNCIL": str(council.pk)}
    query = {name: tokens.get(value, value) for name, value in params.items()}
    args = (fmt,) if fmt is not None and PAGES[page] else PAGES[page]
    with rolled_back():
        client.force_login(people[who])
        response = client.get(reverse(page, args=args), query)
        note(f"{who} asked {page} {args} with {query}: {response.status_code}")
    assert response.status_code in (200, 304, 400, 404, 422)
    if who == "family_member":
        assert response.status_code == 404
    if response.status_code == 422:
        assert shows_an_error(response)
