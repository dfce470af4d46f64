"""Pure rules of discharge readiness, shared by the services and the demo-data generator."""

from __future__ import annotations

import datetime as dt

# Destinations a discharge on each pathway may go to (see DESIGN.md, Discharge to Assess).
DESTINATIONS_BY_PATHWAY: dict[str, frozenset[str]] = {
    "0": frozenset(
        {"usual_residence", "care_home_return", "temporary_residence", "other_hospital", "hospice"}
    ),
    "1": frozenset({"usual_residence", "temporary_residence", "care_home_return", "hospice"}),
    "2": frozenset({"rehab_bed"}),
    "3": frozenset({"care_home_new", "hospice"}),
}


def next_discharge_ready_date(
    *, current: dt.date | None, ready: bool, review_date: dt.date
) -> dt.date | None:
    """The discharge ready date after a review.

    The DRD is the day a patient was *first* found ready to leave in the current run: a later
    ready review keeps it; a review that finds them meeting a criterion again (or held by a
    clinical exception) clears it, and the next ready review starts a new run.
    """
    if not ready:
        return None
    return current or review_date


def days_delayed(*, discharge_ready_date: dt.date | None, until: dt.date) -> int | None:
    """Days from the DRD to discharge (or to ``until`` for an inpatient); 0 when left on the DRD."""
    if discharge_ready_date is None:
        return None
    return max((until - discharge_ready_date).days, 0)
