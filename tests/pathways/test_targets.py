"""Stage targets: triage within 4 working hours; pathway 1 starts by the day after the ready date."""

from __future__ import annotations

import datetime as dt

from pathways.targets import duration_text, stage_target, start_due, triage_due
from pathways.working_time import LONDON


def at(day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=LONDON)


def test_a_friday_afternoon_referral_is_due_for_triage_on_monday_morning():
    assert triage_due(at("2025-06-06", "16:00")) == at("2025-06-09", "10:00")


def test_bank_holidays_are_not_working_time():
    # Christmas 2026: Friday 25th, Boxing Day on the Saturday, so Monday 28th is its substitute.
    assert triage_due(at("2026-12-24", "16:00")) == at("2026-12-29", "10:00")
    # Easter 2027: Good Friday 26 March and Easter Monday 29 March.
    assert triage_due(at("2027-03-25", "17:00")) == at("2027-03-30", "11:00")
    waited = stage_target(
        state="referred",
        pathway="1",
        state_changed_at=at("2026-12-24", "16:00"),
        discharge_ready_date=None,
        now=at("2026-12-29", "09:00"),
    )
    assert waited.working_time_waited == dt.timedelta(hours=3)
    assert not waited.overdue


def test_triage_target_counts_working_time_and_turns_overdue():
    referred = at("2025-06-06", "16:00")
    on_monday = stage_target(
        state="referred",
        pathway="1",
        state_changed_at=referred,
        discharge_ready_date=None,
        now=at("2025-06-09", "09:00"),
    )
    assert not on_monday.overdue
    assert on_monday.working_time_waited == dt.timedelta(hours=3)
    later = stage_target(
        state="referred",
        pathway="2",
        state_changed_at=referred,
        discharge_ready_date=None,
        now=at("2025-06-09", "10:01"),
    )
    assert later.overdue


def test_pathway_1_should_start_by_the_day_after_the_ready_date():
    ready = dt.date(2025, 6, 6)
    assert start_due(ready) == dt.date(2025, 6, 7)
    kwargs = {
        "pathway": "1",
        "state_changed_at": at("2025-06-06", "10:00"),
        "discharge_ready_date": ready,
    }
    in_time = stage_target(state="offered", now=at("2025-06-07", "23:00"), **kwargs)
    assert in_time.due == dt.date(2025, 6, 7) and not in_time.overdue
    late = stage_target(state="accepted", now=at("2025-06-08", "00:30"), **kwargs)
    assert late.overdue


def test_no_start_target_without_a_ready_date_on_other_pathways_or_once_started():
    base = {"state_changed_at": at("2025-06-06", "10:00"), "now": at("2025-06-20", "10:00")}
    assert stage_target(state="offered", pathway="1", discharge_ready_date=None, **base) is None
    ready = dt.date(2025, 6, 6)
    assert stage_target(state="offered", pathway="2", discharge_ready_date=ready, **base) is None
    assert stage_target(state="started", pathway="1", discharge_ready_date=ready, **base) is None


def test_durations_read_as_people_say_them():
    assert duration_text(dt.timedelta(minutes=45)) == "45 min"
    assert duration_text(dt.timedelta(hours=3, minutes=20)) == "3 h 20 min"
    assert duration_text(dt.timedelta(hours=5)) == "5 h"
    assert duration_text(dt.timedelta(days=2, hours=3, minutes=5)) == "2 d 3 h"
    assert duration_text(dt.timedelta(days=1)) == "1 d"
    assert duration_text(dt.timedelta(seconds=-5)) == "0 min"
