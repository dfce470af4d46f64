"""The homefirst tests' shared records: one small hospital system built once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction

from tests.homefirst import world as world_records


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> Iterator[world_records.World]:
    """Every kind of record, built once for the module in a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield world_records.build()
        transaction.set_rollback(True)
