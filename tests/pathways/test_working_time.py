"""Working time: Monday to Friday, 08:00-18:00 in London, across evenings, weekends and clock changes."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pathways.working_time import LONDON, add_working_time, working_time_between

H = dt.timedelta(hours=1)


def at(day: str, time: str) -> dt.datetime:
    """A London wall-clock moment, e.g. at('2025-06-02', '09:00') (a Monday)."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=LONDON)


# June 2025: Monday 2nd to Sunday 8th, Monday 9th ...
@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (at("2025-06-02", "09:00"), at("2025-06-02", "13:00"), 4),  # within a morning
        (at("2025-06-02", "07:00"), at("2025-06-02", "19:00"), 10),  # the whole working day
        (at("2025-06-02", "17:00"), at("2025-06-03", "09:00"), 2),  # across an evening
        (at("2025-06-02", "18:30"), at("2025-06-03", "07:59"), 0),  # a whole night
        (at("2025-06-06", "16:00"), at("2025-06-09", "10:00"), 4),  # across a weekend
        (at("2025-06-06", "19:00"), at("2025-06-09", "08:00"), 0),  # Friday night to Monday 8am
        (at("2025-06-07", "10:00"), at("2025-06-08", "20:00"), 0),  # all weekend
        (at("2025-06-07", "10:00"), at("2025-06-09", "09:30"), 1.5),  # referred on a Saturday
        (at("2025-06-02", "08:00"), at("2025-06-16", "08:00"), 100),  # two whole weeks
        (at("2025-06-04", "12:00"), at("2025-06-25", "12:00"), 150),  # three weeks, mid-week
        (at("2025-06-02", "13:00"), at("2025-06-02", "09:00"), 0),  # end before start
    ],
)
def test_working_time_between(start, end, hours):
    assert working_time_between(start, end) == dt.timedelta(hours=hours)


def test_a_bank_holiday_is_not_worked():
    whit_monday = dt.date(2025, 6, 9)
    start, end = at("2025-06-06", "16:00"), at("2025-06-10", "10:00")
    assert working_time_between(start, end) == 14 * H
    assert working_time_between(start, end, holidays={whit_monday}) == 4 * H


def test_the_clocks_going_forward_do_not_shorten_the_working_week():
    # British Summer Time began at 01:00 UTC on Sunday 30 March 2025.
    start = dt.datetime(2025, 3, 28, 16, 0, tzinfo=dt.UTC)  # 16:00 GMT, Friday
    end = dt.datetime(2025, 3, 31, 9, 0, tzinfo=dt.UTC)  # 10:00 BST, Monday
    assert working_time_between(start, end) == 4 * H


def test_the_clocks_going_back_do_not_lengthen_it():
    # ... and ended at 01:00 UTC on Sunday 26 October 2025.
    start = dt.datetime(2025, 10, 24, 15, 0, tzinfo=dt.UTC)  # 16:00 BST, Friday
    end = dt.datetime(2025, 10, 27, 10, 0, tzinfo=dt.UTC)  # 10:00 GMT, Monday
    assert working_time_between(start, end) == 4 * H


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (at("2025-06-02", "09:00"), 4, at("2025-06-02", "13:00")),
        (at("2025-06-02", "14:00"), 4, at("2025-06-02", "18:00")),  # due at close of play
        (at("2025-06-02", "17:00"), 4, at("2025-06-03", "11:00")),  # overnight
        (at("2025-06-02", "20:00"), 4, at("2025-06-03", "12:00")),  # referred in the evening
        (at("2025-06-06", "16:00"), 4, at("2025-06-09", "10:00")),  # over the weekend
        (at("2025-06-06", "17:30"), 4, at("2025-06-09", "11:30")),
        (at("2025-06-07", "12:00"), 4, at("2025-06-09", "12:00")),  # referred on a Saturday
        (at("2025-06-07", "12:00"), 0, at("2025-06-09", "08:00")),  # the next working moment
        (at("2025-06-02", "08:00"), 50, at("2025-06-06", "18:00")),  # a working week
        (at("2025-06-02", "08:00"), 100, at("2025-06-13", "18:00")),  # two
        (at("2025-06-04", "12:00"), 53, at("2025-06-11", "15:00")),
    ],
)
def test_add_working_time(start, hours, due):
    assert add_working_time(start, dt.timedelta(hours=hours)) == due


def test_add_working_time_skips_holidays():
    due = add_working_time(at("2025-06-06", "16:00"), 4 * H, holidays={dt.date(2025, 6, 9)})
    assert due == at("2025-06-10", "10:00")


def test_naive_times_and_negative_durations_are_refused():
    with pytest.raises(ValueError):
        working_time_between(dt.datetime(2025, 6, 2, 9), at("2025-06-02", "10:00"))
    with pytest.raises(ValueError):
        add_working_time(at("2025-06-02", "10:00"), -H)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(
        min_value=dt.datetime(2024, 1, 1),
        max_value=dt.datetime(2027, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    minutes=st.integers(min_value=1, max_value=60 * 200),
)
def test_adding_then_measuring_gives_back_the_duration(start, minutes):
    duration = dt.timedelta(minutes=minutes)
    due = add_working_time(start, duration)
    assert working_time_between(start, due) == duration
    # And not a minute earlier would do.
    assert working_time_between(start, due - dt.timedelta(minutes=1)) < duration
