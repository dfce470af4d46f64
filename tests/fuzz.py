"""Shared pieces of the hypothesis fuzz tests: their settings, hostile input, one savepoint per example.

CI runs a small, derandomised set of examples. To explore, run for example
``HOMEFIRST_FUZZ_EXAMPLES=500 pytest tests -k fuzz``: more examples, from a random seed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.db import connection, transaction
from django.http import HttpResponse
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

_EXPLORE = os.environ.get("HOMEFIRST_FUZZ_EXAMPLES")

FUZZ = settings(
    max_examples=int(_EXPLORE or 30),
    deadline=None,
    # HOMEFIRST_FUZZ_SHRINK=0 reports the first failure as found: quicker while exploring.
    phases=[
        p for p in Phase if p != Phase.shrink or os.environ.get("HOMEFIRST_FUZZ_SHRINK") != "0"
    ],
    derandomize=not _EXPLORE,
    database=None,
    print_blob=True,
    # Fixtures are built once per test; each example runs in a savepoint rolled back after it.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

# The apps whose rows a rejected submission must leave exactly as they were.
APP_LABELS = ("homefirst", "discharge", "pathways", "recovery_plans")
# The access log records what a page showed, refused edit or not: not a save.
LOGS = {"discharge.PatientRecordView"}

# --- Hostile input ------------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud7ff",
    "\u202egnp.exe",
    "\U0001d54f\U0001d550\u2124",
    "Zo\u00eb O\u2019Brien-\u0141ukasz",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "None",
    "null",
    "-1",
    "0",
    "1e309",
    "NaN",
    "9" * 30,
    "x" * 4001,
    "é" * 2001,
    "9" * 5000,
    "\n" * 3000,
]


def text() -> st.SearchStrategy[str]:
    """Anything a browser could post: unicode, NULs, control characters, huge strings."""
    return st.one_of(st.text(max_size=40), st.sampled_from(NASTY))


def number() -> st.SearchStrategy[str]:
    """Whole numbers far outside any field's range, and things that are not numbers."""
    return st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.integers(min_value=-3, max_value=3).map(str),
        text(),
    )


def date_text() -> st.SearchStrategy[str]:
    """Real dates from year 1 to 9999 in several spellings, impossible dates and junk."""
    return st.one_of(
        st.dates().map(dt.date.isoformat),
        st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 1, 1)).map(
            dt.date.isoformat
        ),
        st.dates().map(lambda d: f"{d.day:02d}/{d.month:02d}/{d.year:04d}"),
        st.sampled_from(
            ["0001-01-01", "0001-01-05", "9999-12-31", "2025-02-29", "2024-13-01", "0000-01-01"]
        ),
        st.sampled_from(["10000-01-01", "2024-1-1"]),
        text(),
    )


def datetime_text() -> st.SearchStrategy[str]:
    """Moments from year 1 to 9999, the clock-change hour that does not exist, and junk."""
    return st.one_of(
        st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
        st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(
            lambda d: d.isoformat(timespec="minutes")
        ),
        st.sampled_from(
            ["2025-03-30T01:30", "2025-10-26T01:30", "9999-12-31T23:59", "0001-01-01T00:00"]
        ),
        date_text(),
    )


def form(**fields: st.SearchStrategy) -> st.SearchStrategy[dict[str, Any]]:
    """POST data with any of the fields missing, plus the odd field nobody asked for."""
    return st.tuples(
        st.fixed_dictionaries({}, optional=fields),
        st.dictionaries(
            st.sampled_from(["id", "pk", "version", "by", "status"]), text(), max_size=2
        ),
    ).map(lambda pair: {**pair[1], **pair[0]})


def one_of_or_junk(*values: str) -> st.SearchStrategy[str]:
    """Mostly a value the form offers, sometimes anything at all."""
    return st.one_of(st.sampled_from(values), text())


# --- Running examples against one database ------------------------------------------------------


@contextmanager
def rolled_back() -> Iterator[None]:
    """One example's writes, undone after it so every example starts from the same rows."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def db_state(*app_labels: str) -> dict[str, str]:
    """A fingerprint of every row of every model of these apps (audit events included), in one query."""
    tables = {
        model._meta.label: model._meta.db_table
        for label in app_labels or APP_LABELS
        for model in apps.get_app_config(label).get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.label not in LOGS
    }
    sql = " UNION ALL ".join(
        f"SELECT %s, count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '')"
        f" FROM {connection.ops.quote_name(table)} t"
        for table in tables.values()
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(tables))
        return dict(cursor.fetchall())


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The models whose rows differ between two states."""
    return sorted(label for label in before if before[label] != after.get(label))


def shows_an_error(response: HttpResponse) -> bool:
    """The page says what was wrong, beside the field or at the top."""
    body = response.content.decode()
    return "nhsuk-error-message" in body or "nhsuk-error-summary" in body
