"""Exports: CSV and Excel of a view, the sitrep long format, the monthly DRD table, small numbers."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from dashboards.exports import SITREP_COLUMNS
from dashboards.figures import DAILY_COLUMNS
from tests.dashboards.conftest import ago
from tests.factories import (
    DailyAdmissionsFactory,
    DailyCensusFactory,
    DailyDelayFactory,
    DailyDischargesFactory,
    WardFactory,
)

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def url(name: str, fmt: str, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{reverse(f'dashboards:{name}', args=[fmt])}?{query}"


@pytest.fixture
def three_days(ward, council):
    """Three days of figures on the ward: large counts, and on the last day some small ones."""
    for n in (2, 1):
        DailyCensusFactory(day=ago(n), ward=ward, council=council, occupied=20)
        DailyDischargesFactory(day=ago(n), ward=ward, council=council)
    DailyCensusFactory(day=ago(0), ward=ward, council=council, occupied=3, nctr=0)
    DailyDischargesFactory(
        day=ago(0), ward=ward, council=council, discharges=2, nctr=2, drd_0=1, drd_1=1,
        drd_2_3=0, delay_days=1, before_noon=0, edd_set=0, edd_met=0, readmitted=0, days_away=9,
    )  # fmt: skip
    DailyDelayFactory(
        day=ago(0), ward=ward, council=council, reason="CAP05", family="Capacity", patients=2
    )
    DailyAdmissionsFactory(day=ago(0), ward=ward, council=council, admissions=7)
    return {"start": ago(2), "end": ago(0)}


def test_the_csv_has_a_row_per_day_and_a_column_per_figure(client, ward_nurse, three_days):
    client.force_login(ward_nurse)
    response = client.get(url("export", "csv", **three_days))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response)
    assert list(rows[0]) == ["Day", *(label for _c, label, _p in DAILY_COLUMNS)]
    assert [r["Day"] for r in rows] == [str(ago(2)), str(ago(1)), str(ago(0))]
    assert [r["Occupied beds at midnight"] for r in rows] == ["20", "20", "3"]
    assert rows[2]["Admissions"] == "7"
    assert rows[2]["Days away from home (sum)"] == "9"


def test_the_excel_workbook_carries_every_table_of_the_view(client, ward_nurse, three_days):
    client.force_login(ward_nurse)
    response = client.get(url("export", "xlsx", **three_days))
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Daily figures",
        "Delay reasons",
        "DRD timeliness",
        "Pathway mix",
        "Definitions",
        "About",
    ]
    daily = list(book["Daily figures"].values)
    assert daily[0][:2] == ("Day", "Occupied beds at midnight")
    assert len(daily) == 4
    reasons = list(book["Delay reasons"].values)
    assert reasons[1][:4] == ("CAP05", reasons[1][1], "Capacity", 2)
    definitions = [row[0] for row in book["Definitions"].values]
    assert "Number of patients discharged" in definitions


def test_the_sitrep_is_in_nhs_englands_long_format_one_block_per_trust(
    client, system_leader, ward, other_trust, council
):
    elsewhere = WardFactory(site__organisation=other_trust)
    DailyCensusFactory(day=ago(0), ward=ward, council=council, occupied=40, nctr=9)
    DailyCensusFactory(day=ago(0), ward=elsewhere, council=council, occupied=30, nctr=6)
    DailyDischargesFactory(day=ago(0), ward=ward, council=council, pathway="1", discharges=12,
                           nctr=12, drd_0=8, drd_1=2, drd_2_3=2, delay_days=6)  # fmt: skip
    client.force_login(system_leader)
    rows = rows_of(client.get(url("sitrep", "csv", end=ago(0))))
    assert list(rows[0]) == SITREP_COLUMNS
    assert {r["Period"] for r in rows} == {str(ago(0))}
    assert {r["Org Code"] for r in rows} == {"RTA", "RTZ"}
    trust_a = {r["Metric"]: r for r in rows if r["Org Code"] == "RTA"}
    assert trust_a["Occupied beds at midnight"]["Value"] == "40"
    assert trust_a["Number of patients discharged"]["Value"] == "12"
    assert trust_a["Pathway 1"]["Metric Group"] == "Discharges by pathway"
    assert trust_a["Pathway 1"]["Value"] == "12"
    remaining = "Number of patients remaining in hospital who no longer meet the criteria to reside"
    assert trust_a[remaining]["Value"] == "9"
    assert trust_a["Number of patients who no longer meet the criteria to reside"]["Value"] == "21"
    mean = "Average days from DRD to discharge, including 0 day delays"
    assert trust_a[mean]["Value"] == "0.5"


def test_the_monthly_drd_table_has_a_row_per_month_whose_buckets_sum_to_the_discharges(
    client, ward_nurse, ward, council
):
    for day, discharges in ((ago(40), 5), (ago(0), 4)):
        DailyDischargesFactory(day=day, ward=ward, council=council, discharges=discharges,
                               nctr=discharges, drd_0=discharges - 2, drd_1=1, drd_2_3=1,
                               delay_days=3)  # fmt: skip
    client.force_login(ward_nurse)
    rows = rows_of(client.get(url("drd_timeliness", "csv", start=ago(40), end=ago(0))))
    assert [r["Month"] for r in rows] == sorted({f"{ago(40):%Y-%m}", f"{ago(0):%Y-%m}"})
    buckets = [
        "Discharged on the DRD (0 days)", "1 day after", "2 to 3 days after", "4 to 6 days after",
        "7 to 13 days after", "14 to 20 days after", "21 or more days after", "No DRD recorded",
    ]  # fmt: skip
    for row in rows:
        assert sum(int(row[b]) for b in buckets) == int(row["Discharges"])
    assert sum(int(r["Discharges"]) for r in rows) == 9


# --- Small numbers ----------------------------------------------------------------------------


def test_leaders_exports_show_counts_of_one_to_four_as_under_five(
    client, system_leader, three_days
):
    client.force_login(system_leader)
    rows = rows_of(client.get(url("export", "csv", **three_days)))
    today = rows[2]
    assert today["Occupied beds at midnight"] == "<5"
    assert today["Discharges"] == "<5"
    assert today["Days from DRD to discharge (sum)"] == "<5"  # a sum over two people
    assert today["Days away from home (sum)"] == "<5"
    assert today["NCTR, remaining in hospital"] == "0"  # zero is not hidden
    assert rows[0]["Occupied beds at midnight"] == "20"
    sitrep = rows_of(client.get(url("sitrep", "csv", end=three_days["end"])))
    values = {r["Metric"]: r["Value"] for r in sitrep}
    assert values["Occupied beds at midnight"] == "<5"
    assert values["Pathway 0"] == "<5"


def test_the_trusts_own_staff_export_the_exact_counts(client, ward_nurse, three_days):
    client.force_login(ward_nurse)
    today = rows_of(client.get(url("export", "csv", **three_days)))[2]
    assert today["Occupied beds at midnight"] == "3"
    assert today["Discharges"] == "2"


def test_a_social_worker_exports_the_exact_counts_of_their_residents_only(
    client, social_worker, three_days, ward, other_council
):
    DailyCensusFactory(day=ago(0), ward=ward, council=other_council, occupied=50)
    client.force_login(social_worker)
    today = rows_of(client.get(url("export", "csv", **three_days)))[2]
    assert today["Occupied beds at midnight"] == "3"


def test_the_excel_export_suppresses_too(client, system_leader, three_days):
    client.force_login(system_leader)
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(url("export", "xlsx", **three_days)).content)
    )
    daily = list(book["Daily figures"].values)
    assert daily[3][1] == "<5"
    assert [row[3] for row in book["Delay reasons"].values][1] == "<5"
    about = dict(row for row in book["About"].values if row[0])
    assert "<5" in about["Small numbers"]
