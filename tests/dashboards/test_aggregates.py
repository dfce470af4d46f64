"""Each figure's definition on small hand-built stories (see docs/metrics.md)."""

import datetime as dt

import pytest
from django.utils import timezone

from dashboards import figures
from discharge import services
from tests.dashboards.conftest import (
    admissions,
    ago,
    at,
    census,
    delays,
    discharges,
    recompute,
    today,
)
from tests.factories import WardFactory

pytestmark = pytest.mark.django_db


def plus(day: dt.date, n: int) -> dt.date:
    return day + dt.timedelta(days=n)


# --- Occupied beds at midnight ----------------------------------------------------------------


def test_occupied_beds_are_counted_at_the_midnight_that_ends_the_day(story):
    d = ago(10)
    story(at(d, 10)).discharge(plus(d, 2), 15)
    story(at(d, 23, 30))  # arrives late in the evening: in a bed at midnight
    story(at(d, 10)).discharge(d, 18)  # in and out the same day: no midnight in hospital
    recompute(plus(d, -1), plus(d, 3))
    assert [census(plus(d, n))["occupied"] for n in range(-1, 4)] == [0, 2, 2, 1, 1]


def test_today_counts_the_patients_in_hospital_now(story, ward_nurse):
    story(at(ago(1), 10))
    gone = story(at(ago(3), 10)).admission
    left = timezone.now() - dt.timedelta(minutes=1)
    services.admission_discharge(
        admission=gone,
        by=ward_nurse,
        discharged_at=left,
        destination="usual_residence",
        actual_pathway="0",
        expected_version=None,
    )
    recompute(ago(3))
    assert census(today())["occupied"] == 1
    # The one who left was in a bed at last midnight if they left today.
    assert census(ago(1))["occupied"] == (2 if timezone.localdate(left) == today() else 1)


def test_a_patient_moved_counts_on_the_ward_they_were_on_at_midnight(story, ward):
    other = WardFactory(site=ward.site)
    d = ago(5)
    story(at(d, 10)).move(plus(d, 1), other, 14)
    recompute(d, plus(d, 2))
    assert census(d, ward=ward)["occupied"] == 1
    assert census(plus(d, 1), ward=ward)["occupied"] == 0
    assert census(plus(d, 1), ward=other)["occupied"] == 1
    assert admissions(d, ward=ward) == 1 and admissions(d, ward=other) == 0


def test_a_stay_of_several_wards_is_counted_once_a_night_with_its_state_of_the_day(story, ward):
    other = WardFactory(site=ward.site)
    d = ago(10)
    patient = story(at(plus(d, -3), 10), on=ward).plan(plus(d, -2), "1")
    patient.move(plus(d, -1), other, 12).ready(d).delay(d, "CAP05").discharge(plus(d, 2))
    recompute(plus(d, -3), plus(d, 2))
    assert [census(plus(d, n))["occupied"] for n in range(-3, 3)] == [1, 1, 1, 1, 1, 0]
    assert [census(plus(d, n))["nctr"] for n in range(-3, 3)] == [0, 0, 0, 1, 1, 0]
    assert census(plus(d, -3), pathway="")["occupied"] == 1
    assert census(plus(d, -1), ward=other, pathway="1")["occupied"] == 1
    assert delays(plus(d, 1)) == {"CAP05": 1}


def test_a_move_to_another_site_moves_the_count_between_sites(story, ward):
    elsewhere = WardFactory(site__organisation=ward.site.organisation)
    d = ago(5)
    story(at(d, 10)).move(plus(d, 1), elsewhere, 14)
    recompute(d, plus(d, 1))
    assert census(d, site=ward.site)["occupied"] == 1
    assert census(plus(d, 1), site=ward.site)["occupied"] == 0
    assert census(plus(d, 1), site=elsewhere.site)["occupied"] == 1


# --- Criteria to reside, DRD and delays -------------------------------------------------------


def test_nctr_remaining_each_midnight_and_discharged_on_the_day_they_leave(story):
    d = ago(10)
    story(at(plus(d, -2), 10)).meets(plus(d, -1)).ready(d).ready(plus(d, 1)).discharge(plus(d, 2))
    recompute(plus(d, -2), plus(d, 3))
    assert [census(plus(d, n))["nctr"] for n in range(-1, 3)] == [0, 1, 1, 0]
    left = discharges(plus(d, 2))
    assert left["discharges"] == 1 and left["nctr"] == 1
    assert left["drd_2_3"] == 1 and left["delay_days"] == 2


def test_a_clinical_exception_is_not_nctr_and_the_next_ready_review_starts_a_new_drd(story):
    d = ago(10)
    patient = story(at(plus(d, -1), 10)).ready(d)
    patient.review(plus(d, 1), exception="Awaiting the echo result")
    patient.ready(plus(d, 2)).discharge(plus(d, 3))
    recompute(d, plus(d, 3))
    assert [census(plus(d, n))["nctr"] for n in range(3)] == [1, 0, 1]
    left = discharges(plus(d, 3))
    assert left["drd_1"] == 1 and left["delay_days"] == 1  # from the new DRD, not the first


def test_a_drd_reset_counts_from_the_new_date_and_delayed_bed_days_follow_each_run(story):
    d = ago(12)
    patient = story(at(plus(d, -1), 10)).ready(d).meets(plus(d, 1))
    patient.ready(plus(d, 3)).discharge(plus(d, 5))
    recompute(d, plus(d, 5))
    remaining = [census(plus(d, n))["nctr"] for n in range(6)]
    assert remaining == [1, 0, 0, 1, 1, 0]
    assert sum(remaining) == 3  # delayed bed days: the first run's night and the second's two
    left = discharges(plus(d, 5))
    assert left["drd_2_3"] == 1 and left["delay_days"] == 2


def test_ready_and_unready_on_the_same_day_is_not_nctr_that_day(story):
    d = ago(4)
    story(at(plus(d, -1), 10)).ready(d, hour=9).meets(d, hour=16)
    recompute(d, d)
    assert census(d)["nctr"] == 0


def test_discharged_on_the_drd_is_a_zero_day_delay_and_noon_divides_the_day(story):
    d = ago(6)
    story(at(plus(d, -1), 10)).ready(d, hour=8).discharge(d, 11, 59)
    story(at(plus(d, -1), 10)).ready(d, hour=8).discharge(d, 12, 0)
    recompute(d, d)
    left = discharges(d)
    assert left["discharges"] == 2 and left["drd_0"] == 2 and left["delay_days"] == 0
    assert left["before_noon"] == 1


def test_drd_buckets_sum_to_the_discharges_with_no_drd_a_bucket_of_its_own(story):
    leave = ago(2)
    for delay in (0, 1, 2, 4, 7, 14, 21):
        drd = plus(leave, -delay)
        story(at(plus(drd, -1), 10)).ready(drd).discharge(leave)
    story(at(plus(leave, -3), 10)).meets(plus(leave, -1)).discharge(leave)  # never ready
    recompute(leave, leave)
    left = discharges(leave)
    buckets = [left[column] for column, _label in figures.DRD_BUCKETS]
    assert buckets == [1, 1, 1, 1, 1, 1, 1, 1]
    assert sum(buckets) == left["discharges"] == 8
    assert left["nctr"] == 7 and left["delay_days"] == 0 + 1 + 2 + 4 + 7 + 14 + 21

    frame = figures.daily_frame(first=leave, last=leave, census=[], admissions=[],
                                discharges=[{"day": leave, "pathway": "0", **left}])  # fmt: skip
    _table, averages = figures.timeliness(frame.sum())
    assert averages["mean_delay"] == pytest.approx(49 / 7)
    assert averages["mean_delay_delayed"] == pytest.approx(49 / 6)


def test_delay_reasons_follow_the_episode_open_at_midnight(story):
    d = ago(8)
    story(at(plus(d, -1), 10)).ready(d).delay(d, "HOS03").delay(plus(d, 1), "CAP05")
    story(at(plus(d, -1), 10)).ready(d)  # ready with no reason recorded
    recompute(d, plus(d, 1))
    assert delays(d) == {"HOS03": 1, "": 1}
    assert delays(plus(d, 1)) == {"CAP05": 1, "": 1}
    assert sum(delays(d).values()) == census(d)["nctr"]


def test_a_reason_ends_when_the_patient_needs_the_bed_again(story):
    d = ago(8)
    story(at(plus(d, -1), 10)).ready(d).delay(d, "HOS03").meets(plus(d, 1))
    recompute(d, plus(d, 1))
    assert delays(d) == {"HOS03": 1}
    assert delays(plus(d, 1)) == {}


# --- Length of stay ---------------------------------------------------------------------------


def test_long_stays_count_whole_days_since_admission_as_the_board_does(story):
    d = ago(3)
    story(at(plus(d, -21), 10))
    story(at(plus(d, -14), 23))
    story(at(plus(d, -6), 10))
    recompute(d, d)
    day = census(d)
    assert (day["los_7"], day["los_14"], day["los_21"]) == (2, 2, 1)
    assert day["los_7_days"] == 21 + 14 and day["los_21_days"] == 21


# --- Discharges -------------------------------------------------------------------------------


def test_deaths_in_hospital_are_not_discharges(story):
    d = ago(5)
    story(at(plus(d, -2), 10)).ready(plus(d, -1)).die(d)
    recompute(plus(d, -2), d)
    assert discharges(d)["discharges"] == 0
    assert census(plus(d, -1))["occupied"] == 1 and census(d)["occupied"] == 0


def test_discharges_by_pathway_and_destination(story):
    d = ago(5)
    story(at(plus(d, -3), 10)).ready(d).discharge(d, pathway="1")
    story(at(plus(d, -3), 10)).ready(d).discharge(d, pathway="2", destination="rehab_bed")
    story(at(plus(d, -3), 10)).ready(d).discharge(d, pathway="3", destination="care_home_new")
    recompute(d, d)
    assert discharges(d, pathway="1", destination="usual_residence")["discharges"] == 1
    assert discharges(d, pathway="2", destination="rehab_bed")["discharges"] == 1
    assert discharges(d, pathway="3")["discharges"] == 1


def test_weekend_discharges_are_those_on_saturdays_and_sundays(story):
    saturday = ago(7 + (ago(7).weekday() - 5) % 7)
    for day in (saturday, plus(saturday, 1), plus(saturday, 2)):  # Saturday, Sunday, Monday
        story(at(plus(day, -2), 10)).ready(plus(day, -1)).discharge(day)
    first, last = saturday, plus(saturday, 2)
    recompute(first, last)
    rows = [{"day": d, "pathway": "0", **discharges(d)} for d in figures.days(first, last)]
    frame = figures.daily_frame(first=first, last=last, census=[], discharges=rows, admissions=[])
    table = figures.discharge_quality(frame, frame.sum())
    weekend = next(row for row in table.rows if row[0].text == "Weekend discharges")
    assert [cell.text for cell in weekend[1:]] == ["2", "3", "66.7%"]


def test_edd_accuracy_counts_discharges_on_or_before_the_edd_in_force(story):
    d = ago(5)
    story(at(plus(d, -3), 10)).edd(plus(d, -3), d).ready(d).discharge(d)
    story(at(plus(d, -3), 10)).edd(plus(d, -3), plus(d, 4)).ready(d).discharge(d)
    story(at(plus(d, -3), 10)).edd(plus(d, -3), plus(d, -1)).ready(d).discharge(d)
    story(at(plus(d, -3), 10)).ready(d).discharge(d)  # no EDD
    recompute(d, d)
    left = discharges(d)
    assert (left["discharges"], left["edd_set"], left["edd_met"]) == (4, 3, 2)


def test_emergency_readmission_within_30_days_counts_against_the_discharge(story):
    d = ago(45)
    back = story(at(plus(d, -2), 10)).ready(d).discharge(d)
    story(at(plus(d, 30), 9), patient=back.admission.patient)
    late = story(at(plus(d, -2), 10)).ready(d).discharge(d)
    story(at(plus(d, 31), 9), patient=late.admission.patient)
    planned = story(at(plus(d, -2), 10)).ready(d).discharge(d)
    story(at(plus(d, 5), 9), patient=planned.admission.patient, method="elective")
    recompute(d, d)
    assert discharges(d)["discharges"] == 3
    assert discharges(d)["readmitted"] == 1


def test_days_away_from_home_run_from_admission_to_discharge_with_no_bed_stay_after(story):
    d = ago(5)
    story(at(plus(d, -4), 22)).ready(d).discharge(d, pathway="2", destination="rehab_bed")
    story(at(d, 8)).ready(d).discharge(d, 17)
    recompute(d, d)
    assert discharges(d)["days_away"] == 4 + 0


def test_admissions_are_counted_on_their_day_by_method(story):
    d = ago(3)
    story(at(d, 1))
    story(at(d, 23, 59), method="elective")
    story(at(plus(d, 1), 0, 0))
    recompute(d, plus(d, 1))
    assert admissions(d) == 2
    assert admissions(d, method="elective") == 1
    assert admissions(plus(d, 1)) == 1


# --- Dimensions -------------------------------------------------------------------------------


def test_census_carries_the_planned_pathway_at_midnight_and_the_council_of_residence(
    story, council, other_council
):
    d = ago(4)
    story(at(plus(d, -1), 10)).plan(d, "1").plan(plus(d, 1), "2")
    story(at(plus(d, -1), 10), lives_in=other_council)
    recompute(plus(d, -1), plus(d, 1))
    assert census(plus(d, -1), pathway="")["occupied"] == 2
    assert census(d, pathway="1")["occupied"] == 1
    assert census(plus(d, 1), pathway="2")["occupied"] == 1
    assert census(d, council=council)["occupied"] == 1
    assert census(d, council=other_council)["occupied"] == 1
