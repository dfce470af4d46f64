"""Shared pieces of the service fuzz tests: typed but hostile values, and the call-and-check loop."""

from __future__ import annotations

import datetime as dt
import string
import zoneinfo
from collections.abc import Callable

from django.utils import timezone
from hypothesis import event, note
from hypothesis import strategies as st

from tests.fuzz import NASTY, changed_tables, db_state

ZONES = [
    dt.UTC,
    zoneinfo.ZoneInfo("Europe/London"),
    dt.timezone(dt.timedelta(hours=14)),
    dt.timezone(dt.timedelta(hours=-12)),
]


def plain() -> st.SearchStrategy[str]:
    """Ordinary words, as most people type them."""
    return st.text(alphabet=string.ascii_letters + " '-", min_size=1, max_size=20).filter(str.strip)


def nasty() -> st.SearchStrategy[str]:
    """A str no form would let through: NULs, huge strings, odd unicode."""
    return st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=30))


def words() -> st.SearchStrategy[str]:
    """A str, as the type hints ask: half the time ordinary, otherwise nasty."""
    return st.one_of(plain(), nasty())


def whole_number() -> st.SearchStrategy[int]:
    """An int: small ones, the edges of the database's integer columns, and beyond."""
    edges = [2**31 - 1, 2**31, -(2**31) - 1, 2**63, 10**30, -1, 0]
    return st.one_of(st.integers(min_value=-5, max_value=50), st.sampled_from(edges), st.integers())


def code(*valid: str) -> st.SearchStrategy[str]:
    """Mostly a real code, sometimes any string at all."""
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), words())


def moment() -> st.SearchStrategy[dt.datetime]:
    """An aware datetime: mostly the last few days, sometimes anywhere from year 1 to 9999.

    Whole hours back from now come up often, so that steps meet each other's times in every order.
    """
    hours_ago = st.integers(min_value=-48, max_value=1).map(
        lambda hours: timezone.now() + dt.timedelta(hours=hours)
    )
    recent = st.one_of(
        hours_ago,
        st.timedeltas(min_value=dt.timedelta(days=-6), max_value=dt.timedelta(hours=2)).map(
            lambda offset: timezone.now() + offset
        ),
    )
    anywhere = st.datetimes(
        min_value=dt.datetime(1, 1, 1),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.sampled_from(ZONES),
    )
    return st.one_of(recent, recent, anywhere)


def day() -> st.SearchStrategy[dt.date]:
    """A date: mostly around today, sometimes anywhere from year 1 to 9999."""
    near = st.integers(min_value=-30, max_value=120).map(
        lambda n: timezone.localdate() + dt.timedelta(days=n)
    )
    return st.one_of(near, near, st.dates())


def version() -> st.SearchStrategy[int | str | None]:
    """The version an edit started from: none, the current one, a stale one, or any integer."""
    return st.one_of(
        st.none(), st.just("current"), st.just("current"), st.just("stale"), st.integers()
    )


def mutated(
    valid: dict[str, st.SearchStrategy], hostile: dict[str, st.SearchStrategy]
) -> st.SearchStrategy[dict]:
    """Valid arguments with up to two of them swapped for hostile ones: each rule gets its turn."""

    @st.composite
    def build(draw) -> dict:
        values = draw(st.fixed_dictionaries(valid))
        for name in draw(st.lists(st.sampled_from(sorted(hostile)), max_size=2, unique=True)):
            values[name] = draw(hostile[name])
        return values

    return build()


def resolve_version(choice: int | str | None, current: int) -> int | None:
    if choice == "current":
        return current
    if choice == "stale":
        return current + 1
    return choice


def call_and_check(
    call: Callable[[], object],
    *,
    refusals: tuple[type[BaseException], ...],
    check: Callable[[], None],
    apps: tuple[str, ...] = (),
) -> bool:
    """Run one service call: it either succeeds and ``check`` holds, or it raises one of the
    domain's refusals and changes nothing. Anything else escapes and fails the example."""
    before = db_state(*apps)
    try:
        call()
    except refusals as refusal:
        note(f"refused: {refusal!r}")
        event(f"refused: {type(refusal).__name__}")
        assert changed_tables(before, db_state(*apps)) == []
        return False
    check()
    event("saved")
    return True
