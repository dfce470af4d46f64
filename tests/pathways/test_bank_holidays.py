"""England's bank holidays, substitute days included."""

import datetime as dt

from pathways.bank_holidays import bank_holidays


def test_england_has_eight_bank_holidays_a_year_with_substitute_days():
    days = bank_holidays(dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    assert len(days - {dt.date(2027, 12, 25), dt.date(2027, 12, 26)}) == 8
    # Christmas Day and Boxing Day 2027 fall at the weekend: Monday 27th and Tuesday 28th.
    assert {dt.date(2027, 12, 27), dt.date(2027, 12, 28)} <= days


def test_only_the_days_asked_for_across_years():
    days = bank_holidays(dt.date(2026, 12, 20), dt.date(2027, 1, 5))
    assert days == {
        dt.date(2026, 12, 25),
        dt.date(2026, 12, 26),
        dt.date(2026, 12, 28),
        dt.date(2027, 1, 1),
    }
    assert bank_holidays(dt.date(2026, 6, 1), dt.date(2026, 6, 30)) == frozenset()
