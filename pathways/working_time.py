"""Working-time arithmetic: Monday to Friday, 08:00 to 18:00, Europe/London.

Pure functions of aware datetimes. The working day is a wall-clock window that never holds a
clock change (those happen at 01:00 on Sundays), so each working day is exactly ten hours.
Bank holidays are not working days when passed in ``holidays``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
DAY_START = dt.time(8, 0)
DAY_END = dt.time(18, 0)
WORKING_DAY = dt.timedelta(hours=10)
WEEKDAYS = 5  # Monday (0) to Friday (4)


def _local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("Working time needs aware datetimes.")
    return moment.astimezone(LONDON).replace(tzinfo=None)


def is_working_day(day: dt.date, holidays: Collection[dt.date] = ()) -> bool:
    """Monday to Friday, and not a holiday."""
    return day.weekday() < WEEKDAYS and day not in holidays


def _window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.combine(day, DAY_START), dt.datetime.combine(day, DAY_END)


def _overlap(day: dt.date, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Working time on one day between two local wall-clock moments."""
    opens, closes = _window(day)
    return max(dt.timedelta(0), min(end, closes) - max(start, opens))


def _working_days_between(first: dt.date, last: dt.date, holidays: Collection[dt.date]) -> int:
    """Working days strictly after ``first`` and strictly before ``last``."""
    days = (last - first).days - 1
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    count = weeks * WEEKDAYS
    count += sum(1 for i in range(1, rest + 1) if (first + dt.timedelta(days=i)).weekday() < 5)
    count -= sum(1 for h in holidays if first < h < last and h.weekday() < WEEKDAYS)
    return count


def working_time_between(
    start: dt.datetime, end: dt.datetime, *, holidays: Collection[dt.date] = ()
) -> dt.timedelta:
    """Working time from ``start`` to ``end``; zero when ``end`` is not after ``start``."""
    local_start, local_end = _local(start), _local(end)
    if local_end <= local_start:
        return dt.timedelta(0)
    first, last = local_start.date(), local_end.date()
    if first == last:
        if not is_working_day(first, holidays):
            return dt.timedelta(0)
        return _overlap(first, local_start, local_end)
    total = dt.timedelta(0)
    if is_working_day(first, holidays):
        total += _overlap(first, local_start, _window(first)[1])
    if is_working_day(last, holidays):
        total += _overlap(last, _window(last)[0], local_end)
    return total + WORKING_DAY * _working_days_between(first, last, holidays)


def add_working_time(
    start: dt.datetime, duration: dt.timedelta, *, holidays: Collection[dt.date] = ()
) -> dt.datetime:
    """The moment ``duration`` of working time after ``start`` (aware, Europe/London)."""
    if duration < dt.timedelta(0):
        raise ValueError("Add a duration of zero or more.")
    moment = _local(start)
    remaining = duration
    day = moment.date()
    # Whole weeks first, so a long duration costs no more than a short one.
    # (A duration of exactly whole weeks still ends on a Friday evening, not the Monday after.)
    weeks = max(0, (remaining - dt.timedelta(microseconds=1)) // (WORKING_DAY * WEEKDAYS))
    if weeks and not holidays:
        remaining -= weeks * WORKING_DAY * WEEKDAYS
        moment += dt.timedelta(weeks=weeks)
        day = moment.date()
    while True:
        if is_working_day(day, holidays):
            opens, closes = _window(day)
            begin = max(moment, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).replace(tzinfo=LONDON)
                remaining -= available
        day += dt.timedelta(days=1)
        moment = dt.datetime.combine(day, dt.time.min)
