"""Bank holidays in England: the hub's working-time targets do not run on them.

The dates come from the ``holidays`` package (the statutory rules, substitute days included),
so no calendar needs keeping by hand.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

COUNTRY, REGION = "GB", "ENG"


@lru_cache(maxsize=32)
def _of_year(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays(COUNTRY, subdiv=REGION, years=year))


def bank_holidays(first: dt.date, last: dt.date) -> frozenset[dt.date]:
    """England's bank holidays from ``first`` to ``last``, inclusive."""
    found: set[dt.date] = set()
    for year in range(first.year, last.year + 1):
        found |= _of_year(year)
    return frozenset(day for day in found if first <= day <= last)
