"""Dashboard pages and partials: who sees which figures, drill-downs, bad input, query counts."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from dashboards.models import PendingRecompute
from tests.dashboards.conftest import ago, at, recompute, today
from tests.factories import (
    DailyAdmissionsFactory,
    DailyCensusFactory,
    DailyDelayFactory,
    DailyDischargesFactory,
    DailyTransfersFactory,
    WardFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def every_url(query: str = "") -> list[str]:
    """The page, its partial and every export, with the same query string."""
    urls = [reverse("dashboards:index"), reverse("dashboards:status")]
    for name in ("export", "sitrep", "drd_timeliness"):
        urls += [reverse(f"dashboards:{name}", args=[fmt]) for fmt in ("csv", "xlsx")]
    return [f"{url}?{query}" if query else url for url in urls]


def headline(html: str, key: str) -> int:
    """The number shown for a headline figure."""
    match = re.search(rf'data-headline="{key}">\s*<span class="hf-count">([^<]+)<', html)
    return int(match.group(1))


@pytest.fixture
def two_trusts(story, ward, other_trust, council, other_council):
    """Two inpatients at trust A (one from each council) and three at trust Z, counted."""
    elsewhere = WardFactory(site__organisation=other_trust, name="Riverside Ward 7")
    story(at(ago(3), 10), on=ward)
    story(at(ago(3), 10), on=ward, lives_in=other_council)
    for _ in range(3):
        story(at(ago(3), 10), on=elsewhere, lives_in=other_council)
    recompute(ago(3))
    return elsewhere


# --- Who may see what -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["provider_carer", "family_member"])
def test_people_without_dashboards_get_404_everywhere(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    for url in every_url():
        assert client.get(url).status_code == 404, url
        assert client.get(url, **HTMX).status_code == 404, url


def test_ward_staff_of_another_trust_get_404_for_our_site_and_ward(client, outsider, ward):
    client.force_login(outsider)
    for query in (f"place=site-{ward.site_id}", f"place=ward-{ward.pk}"):
        for url in every_url(query):
            assert client.get(url).status_code == 404, url


def test_a_social_worker_gets_404_for_another_council(client, social_worker, other_council):
    client.force_login(social_worker)
    for url in every_url(f"council={other_council.pk}"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(
    "query", ["place=site-999999", "place=ward-abc", "place=bed-1", "place=ward-", "pathway=7"]
)
def test_unknown_places_and_pathways_are_404(client, system_leader, query):
    client.force_login(system_leader)
    for url in every_url(query):
        assert client.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("dashboards:index"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_ward_staff_see_only_their_own_trusts_figures(client, ward_nurse, outsider, two_trusts):
    client.force_login(ward_nurse)
    html = client.get(reverse("dashboards:index")).content.decode()
    assert headline(html, "occupied") == 2
    assert "Riverside" not in html
    client.force_login(outsider)
    html = client.get(reverse("dashboards:index")).content.decode()
    assert headline(html, "occupied") == 3
    assert "Ward 7" not in html.replace("Riverside Ward 7", "")


def test_another_trusts_ward_staff_do_not_see_our_transfers_of_care(
    client, ward_nurse, outsider, ward, council
):
    DailyTransfersFactory(day=ago(1), ward=ward, council=council, transfers=7)
    client.force_login(outsider)
    html = client.get(reverse("dashboards:index")).content.decode()
    transfers = html[html.index('id="table-transfers"') :]
    assert "No figures for this view." in transfers[: transfers.index("</table>")]
    csv = client.get(reverse("dashboards:export", args=["csv"])).content.decode()
    assert ",7," not in csv
    client.force_login(ward_nurse)
    html = client.get(reverse("dashboards:index")).content.decode()
    assert "All transfers of care" in html


def test_a_social_worker_sees_their_councils_residents_wherever_they_are(
    client, social_worker, two_trusts
):
    client.force_login(social_worker)
    html = client.get(reverse("dashboards:index")).content.decode()
    assert headline(html, "occupied") == 1


def test_system_leaders_see_the_whole_system_in_counts_and_no_one_by_name(
    client, system_leader, two_trusts
):
    client.force_login(system_leader)
    response = client.get(reverse("dashboards:index"))
    html = response.content.decode()
    assert headline(html, "occupied") == 5
    # The page's content, not the header naming the signed-in leader (a patient may share
    # their surname).
    content = html[html.index("<main") :]
    from discharge.models import Patient

    for patient in Patient.objects.all():
        for identity in (patient.family_name, patient.nhs_number, patient.nhs_number_display):
            assert identity not in content
        for url in every_url()[2:]:
            body = client.get(url).content
            assert patient.nhs_number.encode() not in body
            assert patient.family_name.encode() not in body


# --- The page ---------------------------------------------------------------------------------


def test_the_page_shows_headlines_against_yesterday_and_last_week(client, system_leader, ward):
    for day, occupied in ((today(), 30), (ago(1), 25), (ago(7), 33)):
        DailyCensusFactory(day=day, ward=ward, occupied=occupied)
    client.force_login(system_leader)
    html = client.get(reverse("dashboards:index")).content.decode()
    assert headline(html, "occupied") == 30
    assert "+5 on the day before" in html
    assert "-3 on a week before" in html


def test_every_figure_has_its_definition_beside_it(client, system_leader):
    client.force_login(system_leader)
    html = client.get(reverse("dashboards:index")).content.decode()
    assert html.count('class="nhsuk-details hf-definition"') >= 20
    assert "A clinical exception" in html
    assert (
        "Number of patients remaining in hospital who no longer meet the criteria to reside" in html
    )


def test_every_chart_has_a_table_of_the_same_numbers(client, system_leader, ward):
    DailyCensusFactory(day=today(), ward=ward, occupied=30)
    client.force_login(system_leader)
    html = client.get(reverse("dashboards:index")).content.decode()
    charts = re.findall(r'data-chart="(chart-[a-z-]+)"', html)
    assert len(charts) >= 5
    for chart in charts:
        assert f'id="{chart}" type="application/json"' in html
        assert f'id="table-{chart.removeprefix("chart-")}"' in html


def test_the_date_range_and_filters_live_in_the_url(client, system_leader, ward):
    DailyCensusFactory(day=ago(40), ward=ward, occupied=12)
    client.force_login(system_leader)
    url = reverse("dashboards:index")
    query = f"start={ago(45)}&end={ago(40)}&place=ward-{ward.pk}&pathway="
    html = client.get(f"{url}?{query}").content.decode()
    assert headline(html, "occupied") == 12
    assert f'value="{ago(45)}"' in html and f'value="{ago(40)}"' in html
    assert f'<option value="ward-{ward.pk}" selected>' in html
    assert f"end={ago(40)}" in html  # exports and drill-downs keep the range


def test_drill_down_from_system_to_site_to_ward_and_council(client, system_leader, ward, council):
    DailyCensusFactory(day=today(), ward=ward, council=council)
    client.force_login(system_leader)
    url = reverse("dashboards:index")
    system = client.get(url).content.decode()
    assert f"place=site-{ward.site_id}" in system
    assert f"council={council.pk}" in system
    site = client.get(f"{url}?place=site-{ward.site_id}").content.decode()
    assert f"place=ward-{ward.pk}" in site
    ward_page = client.get(f"{url}?place=ward-{ward.pk}")
    assert ward_page.status_code == 200
    assert ward.name in ward_page.content.decode()


def test_a_bad_date_range_is_explained_beside_the_field(client, system_leader):
    client.force_login(system_leader)
    url = reverse("dashboards:index")
    tomorrow = today() + dt.timedelta(days=1)
    for query, message in (
        (f"end={tomorrow}", "The figures go up to today"),
        (f"start={today()}&end={ago(3)}", "must start on or before"),
        ("start=yesterday", "Enter a valid date"),
        (f"start={ago(800)}", "at most 731 days"),
        ("end=0001-01-05", "Choose a day from 01 January 2000 on"),
        ("start=0001-01-01&end=0001-01-02", "Choose a day from 01 January 2000 on"),
    ):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 422, query
        assert message in response.content.decode(), query
    export = client.get(f"{reverse('dashboards:export', args=['csv'])}?end={tomorrow}")
    assert export.status_code == 400
    assert "The figures go up to today" in export.content.decode()


def test_the_page_says_when_figures_were_computed_and_whether_changes_wait(
    client, system_leader, story, ward
):
    story(at(ago(1), 10), on=ward)
    recompute(ago(1))
    client.force_login(system_leader)
    html = client.get(reverse("dashboards:index")).content.decode()
    assert "Figures computed at" in html and 'data-pending="0"' in html
    PendingRecompute.objects.create(site=ward.site, first_day=today(), requested_at=at(today(), 0))
    partial = client.get(reverse("dashboards:status"), **HTMX).content.decode()
    assert partial.lstrip().startswith('<div id="dashboard-status"')
    assert "Changes pending" in partial and 'data-pending="1"' in partial


def test_the_status_poll_answers_304_until_the_figures_change(client, system_leader, story, ward):
    story(at(ago(1), 10), on=ward)
    recompute(ago(1))
    client.force_login(system_leader)
    url = reverse("dashboards:status")
    first = client.get(url, **HTMX)
    assert first.status_code == 200
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert again.status_code == 304
    PendingRecompute.objects.create(site=ward.site, first_day=today(), requested_at=at(today(), 0))
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert changed.status_code == 200 and "Changes pending" in changed.content.decode()
    page = client.get(reverse("dashboards:index")).content.decode()
    assert "If-None-Match" in page and 'hx-trigger="every 30s"' in page


def test_a_pathway_view_leaves_admissions_out(client, system_leader, ward):
    DailyAdmissionsFactory(day=today(), ward=ward, admissions=9)
    DailyCensusFactory(day=today(), ward=ward, pathway="1", occupied=4)
    client.force_login(system_leader)
    url = reverse("dashboards:index")
    assert headline(client.get(url).content.decode(), "admissions") == 9
    html = client.get(f"{url}?pathway=1").content.decode()
    assert headline(html, "occupied") == 4
    assert re.search(r'data-headline="admissions">\s*<span class="hf-count">\u2013<', html)


def test_transfers_of_care_show_start_times_outcomes_and_the_91_day_check(
    client, system_leader, ward, council
):
    DailyTransfersFactory(day=ago(1), ward=ward, council=council)
    DailyTransfersFactory(day=ago(2), ward=ward, council=council, kind="home_care", independent=3,
                          reduced_support=0)  # fmt: skip
    client.force_login(system_leader)
    html = client.get(reverse("dashboards:index")).content.decode()
    transfers = html[html.index('id="table-transfers"') :]
    transfers = transfers[: transfers.index("</table>")]
    row = re.search(r"All transfers of care</th>(.*?)</tr>", transfers).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    # 12 transfers, 8 started, 6 by the next day, 10/8 days from discharge and 20/8 from the
    # DRD to the start, 6 ended, 4 checked at 91 days and 2 of them at home.
    assert cells == ["12", "8", "50.0%", "1.2", "2.5", "6", "4", "50.0%"]
    outcomes = html[html.index('id="table-outcomes"') :]
    outcomes = outcomes[: outcomes.index("</table>")]
    assert re.search(r"Independent</th><td[^>]*>5</td><td[^>]*>83.3%</td>", outcomes)
    assert 'data-chart="chart-transfers"' in html


@pytest.mark.parametrize(("wards", "days"), [(2, 10), (8, 90)])
def test_page_queries_do_not_grow_with_wards_or_history(
    client, system_leader, trust, council, django_assert_max_num_queries, wards, days
):
    for _ in range(wards):
        ward = WardFactory(site__organisation=trust)
        for n in range(days):
            day = ago(n)
            DailyCensusFactory(day=day, ward=ward, council=council)
            DailyDischargesFactory(day=day, ward=ward, council=council)
            DailyDelayFactory(day=day, ward=ward, council=council)
            DailyAdmissionsFactory(day=day, ward=ward, council=council)
            DailyTransfersFactory(day=day, ward=ward, council=council)
    client.force_login(system_leader)
    client.get(reverse("dashboards:index"))  # the session's first request settles its checks
    with django_assert_max_num_queries(22):
        assert client.get(reverse("dashboards:index")).status_code == 200
    site = WardFactory._meta.model.objects.filter(site__organisation=trust).first().site
    with django_assert_max_num_queries(22):
        assert client.get(f"{reverse('dashboards:index')}?place=site-{site.pk}").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("dashboards:status"), **HTMX).status_code == 200


def test_the_home_page_links_system_leaders_to_the_dashboards(client, system_leader):
    client.force_login(system_leader)
    assert reverse("dashboards:index") in client.get(reverse("home")).content.decode()
