"""The aggregate modules that build the snapshot tables, in the order a recompute runs them.

Each module turns a scope (sites and a range of days) into one SQL statement that writes
its tables. A new source of figures is one more module here.
"""

from __future__ import annotations

from dashboards.aggregates.admissions import ADMISSIONS
from dashboards.aggregates.base import Aggregate, Scope
from dashboards.aggregates.census import CENSUS
from dashboards.aggregates.discharges import DISCHARGES
from dashboards.aggregates.transfers import TRANSFERS

AGGREGATES: tuple[Aggregate, ...] = (CENSUS, DISCHARGES, ADMISSIONS, TRANSFERS)

__all__ = ["AGGREGATES", "Aggregate", "Scope"]
