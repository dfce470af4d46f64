"""What an aggregate module is, and the one statement that writes its tables for a scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, models

NARROW_DAYS = 32


@dataclass(frozen=True)
class Scope:
    """The sites and the days (inclusive) a recompute covers."""

    site_ids: tuple[int, ...]
    first_day: dt.date
    last_day: dt.date

    def params(self) -> dict:
        """The named parameters every aggregate's SQL uses."""
        return {
            "sites": list(self.site_ids),
            "d0": self.first_day,
            "d1": self.last_day,
            "tz": settings.TIME_ZONE,
            # A few days: worth narrowing each source table to the records in scope first.
            "narrow": (self.last_day - self.first_day).days < NARROW_DAYS,
        }


@dataclass(frozen=True)
class Target:
    """A snapshot table and the CTE of the aggregate's SQL that holds its fresh rows.

    The CTE's columns are the table's columns, by name.
    """

    model: type[models.Model]
    cte: str

    @property
    def table(self) -> str:
        return connection.ops.quote_name(self.model._meta.db_table)

    @property
    def keys(self) -> list[str]:
        return [f.column for f in self.model._meta.pk_fields]

    @property
    def values(self) -> list[str]:
        keys = set(self.keys)
        return [
            f.column
            for f in self.model._meta.concrete_fields
            if f.column not in keys and f.column is not None
        ]


@dataclass(frozen=True)
class Aggregate:
    """One module of figures: SQL CTEs computing fresh rows, and the tables they go to.

    ``sql`` is the body of a WITH clause (``name AS (...), ...``) that defines each target's
    CTE from the scope's parameters ``%(sites)s``, ``%(d0)s``, ``%(d1)s`` and ``%(tz)s``. Every
    target table has ``day`` and ``site_id`` columns: the scope is those rows.
    """

    name: str
    sql: str
    targets: Sequence[Target]

    def statement(self) -> str:
        """One statement: upsert the rows that changed in every target, delete the stale ones."""
        ctes = [self.sql.strip().rstrip(",")]
        deletes = []
        for index, target in enumerate(self.targets):
            ctes.append(f"diff_{index} AS MATERIALIZED ({_diff(target)})")
            ctes.append(f"upsert_{index} AS ({_upsert(target, f'diff_{index}')})")
            deletes.append(_stale_delete(target, f"diff_{index}"))
        ctes += [f"stale_{index} AS ({sql})" for index, sql in enumerate(deletes[:-1])]
        return "WITH " + ",\n".join(ctes) + "\n" + deletes[-1]

    def run(self, scope: Scope) -> None:
        """Bring the target tables up to date for the scope (the caller holds the transaction)."""
        with connection.cursor() as cursor:
            cursor.execute(self.statement(), scope.params())


_SCOPE = "site_id = ANY(%(sites)s) AND day BETWEEN %(d0)s AND %(d1)s"


def _diff(target: Target) -> str:
    """Fresh rows against the table's rows in scope, matched on the key, in one pass.

    Each row says whether it must be written (new, or a figure moved) and, for a row the
    fresh ones no longer have, the key to delete.
    """
    fresh = ", ".join(f"f.{c}" for c in [*target.keys, *target.values])
    old_keys = ", ".join(f"t.{c} AS old_{c}" for c in target.keys)
    on = " AND ".join(f"f.{c} = t.{c}" for c in target.keys)
    new_values = ", ".join(f"f.{c}" for c in target.values)
    old_values = ", ".join(f"t.{c}" for c in target.values)
    first = target.keys[0]
    return (
        f"SELECT {fresh}, {old_keys}, "
        f"f.{first} IS NOT NULL AND (t.{first} IS NULL "
        f"OR ({new_values}) IS DISTINCT FROM ({old_values})) AS write "
        f"FROM {target.cte} f FULL JOIN (SELECT * FROM {target.table} WHERE {_SCOPE}) t ON {on}"
    )


def _upsert(target: Target, diff: str) -> str:
    columns = ", ".join([*target.keys, *target.values])
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in target.values)
    # In key order, so a day's rows sit together on disk and a page reading a few weeks
    # reads a few weeks' worth of the table, however long the history.
    return (
        f"INSERT INTO {target.table} ({columns}) SELECT {columns} FROM {diff} WHERE write "
        f"ORDER BY {', '.join(target.keys)} "
        f"ON CONFLICT ({', '.join(target.keys)}) DO UPDATE SET {assignments}"
    )


def _stale_delete(target: Target, diff: str) -> str:
    """Rows of the scope whose key the fresh rows no longer have."""
    match = " AND ".join(f"t.{c} = d.old_{c}" for c in target.keys)
    return (
        f"DELETE FROM {target.table} t USING {diff} d WHERE d.{target.keys[0]} IS NULL AND {match}"
    )
