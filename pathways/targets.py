"""How long a referral has waited at its stage, against the stage's target (pure functions).

Targets: the hub triages within 4 working hours of the referral; on pathway 1 the service
starts by the day after the discharge ready date. Working hours skip England's bank holidays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pathways import working_time
from pathways.bank_holidays import bank_holidays
from pathways.transitions import State

TRIAGE_WITHIN = dt.timedelta(hours=4)
# Far enough ahead for any triage target: four working hours never span more than Christmas
# and a weekend.
TRIAGE_HORIZON = dt.timedelta(days=14)
# Stages after triage at which the pathway 1 start target applies (until the first visit).
START_TARGET_STATES = frozenset({State.TRIAGED, State.OFFERED, State.ACCEPTED, State.DISCHARGED})


@dataclass(frozen=True)
class Target:
    """A stage's target: what it is, when it falls due and whether it has been missed."""

    label: str
    due: dt.datetime | dt.date
    overdue: bool
    # Triage counts working time; the start target counts days.
    working_time_waited: dt.timedelta | None = None


def triage_due(referred_at: dt.datetime) -> dt.datetime:
    """When the hub should have triaged a referral made at ``referred_at``."""
    day = referred_at.astimezone(working_time.LONDON).date()
    return working_time.add_working_time(
        referred_at, TRIAGE_WITHIN, holidays=bank_holidays(day, day + TRIAGE_HORIZON)
    )


def start_due(discharge_ready_date: dt.date) -> dt.date:
    """The day a pathway 1 service should start by: the day after the discharge ready date."""
    return discharge_ready_date + dt.timedelta(days=1)


def stage_target(
    *,
    state: str,
    pathway: str,
    state_changed_at: dt.datetime,
    discharge_ready_date: dt.date | None,
    now: dt.datetime,
) -> Target | None:
    """The target that applies at this stage, or None when the stage has none."""
    if state == State.REFERRED:
        due = triage_due(state_changed_at)
        return Target(
            label="Triage within 4 working hours",
            due=due,
            overdue=now > due,
            working_time_waited=working_time.working_time_between(
                state_changed_at,
                now,
                holidays=bank_holidays(
                    state_changed_at.astimezone(working_time.LONDON).date(),
                    now.astimezone(working_time.LONDON).date(),
                ),
            ),
        )
    if pathway == "1" and state in START_TARGET_STATES and discharge_ready_date is not None:
        due_day = start_due(discharge_ready_date)
        today = now.astimezone(working_time.LONDON).date()
        return Target(
            label="Start by the day after the ready date", due=due_day, overdue=today > due_day
        )
    return None


def duration_text(duration: dt.timedelta) -> str:
    """A duration as people say it: '2 d 3 h', '3 h 20 min', '45 min'."""
    minutes = max(0, int(duration.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"
