"""Dashboard figures in the API: counts only, scoped like the dashboards, small numbers hidden system-wide."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import DailyCensusFactory, DailyTransfersFactory, WardFactory
from tests.interop.conftest import bearer, signed_in

pytestmark = pytest.mark.django_db

URL = "api:dashboard-daily"


@pytest.fixture
def census(ward, council):
    return DailyCensusFactory(ward=ward, council=council, occupied=20, nctr=4)


def today_row(response):
    assert response.status_code == 200, response.content
    return next(d for d in response.json()["days"] if d["day"] == timezone.localdate().isoformat())


def test_ward_staff_see_their_trusts_figures(client, census, ward_nurse):
    signed_in(client, ward_nurse)
    row = today_row(client.get(reverse(URL)))
    assert row["census"]["occupied"] == 20
    assert row["census"]["nctr"] == 4


def test_transfers_of_care_are_counted_on_the_day_people_left(client, ward, council, ward_nurse):
    DailyTransfersFactory(ward=ward, council=council, transfers=6, started=4, at_home_91=1)
    signed_in(client, ward_nurse)
    row = today_row(client.get(reverse(URL)))
    assert row["transfers"]["transfers"] == 6
    assert row["transfers"]["started"] == 4
    assert row["transfers"]["at_home_91"] == 1


def test_a_system_leader_sees_everything_with_small_numbers_hidden(client, census, system_leader):
    signed_in(client, system_leader)
    response = client.get(reverse(URL))
    assert response.json()["small_numbers_suppressed"] is True
    row = today_row(response)
    assert row["census"]["occupied"] == 20
    assert row["census"]["nctr"] is None  # 4 people: too few to leave the system


def test_another_trusts_client_sees_none_of_these_figures(client, census, other_trust_token):
    row = today_row(client.get(reverse(URL), **bearer(other_trust_token)))
    assert row["census"] == {}
    assert (
        client.get(reverse(URL), {"site": census.site_id}, **bearer(other_trust_token)).status_code
        == 404
    )


@pytest.mark.parametrize("persona", ["outsider_without_trust", "family_member", "provider_carer"])
def test_those_without_dashboards_get_404(client, request, persona, census, db):
    from tests.factories import UserFactory

    user = (
        UserFactory(username="nobody")
        if persona == "outsider_without_trust"
        else request.getfixturevalue(persona)
    )
    signed_in(client, user)
    assert client.get(reverse(URL)).status_code == 404


def test_a_bad_range_is_400_naming_the_field(client, census, ward_nurse):
    signed_in(client, ward_nurse)
    response = client.get(reverse(URL), {"start": "2020-01-01", "end": "2026-01-01"})
    assert response.status_code == 400 and "start" in response.json()
    assert client.get(reverse(URL), {"end": "soon"}).status_code == 400


def test_figures_filter_to_a_site(client, census, ward_nurse, ward):
    other = DailyCensusFactory(
        ward=WardFactory(site__organisation=ward.site.organisation), occupied=7
    )
    signed_in(client, ward_nurse)
    both = today_row(client.get(reverse(URL)))
    assert both["census"]["occupied"] == 27
    one = today_row(client.get(reverse(URL), {"site": other.site_id}))
    assert one["census"]["occupied"] == 7
