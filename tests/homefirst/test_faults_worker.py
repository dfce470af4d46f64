"""A Celery worker killed in the middle of a dashboard recompute: the task runs again, and right.

Tasks are acknowledged late and rejected when their worker is lost, so a recompute killed
half-way is not lost: a pool process killed under a live worker sends it straight back to the
queue; a whole worker killed leaves it unacknowledged in Redis, to be handed out again after
the visibility timeout. Either way the snapshots end as a clean recompute leaves them.

To stop the recompute at a known point the test holds the advisory lock of the second site:
the recompute commits the first site, then waits for the lock, and is killed there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import psycopg
import pytest
from django.apps import apps
from django.db import connection

from dashboards import services as dashboards
from dashboards.models import PendingRecompute, SnapshotDay
from homefirst.models import Site
from tests.dashboards.conftest import Story, ago, at
from tests.factories import AdmissionFactory, PatientFactory, WardFactory
from tests.throwaway import ProjectProcess, database_url, wait_for, worker_process, worker_ready

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def snapshot_rows() -> dict[str, list[tuple]]:
    """Every row of every snapshot table, leaving out only when each day was computed."""
    rows = {}
    for model in apps.get_app_config("dashboards").get_models():
        if model is PendingRecompute:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.name != "computed_at"]
        rows[model._meta.db_table] = list(model.objects.order_by(*fields).values_list(*fields))
    return rows


def clean_recompute(first_days: dict[int, dt.date]) -> dict[str, list[tuple]]:
    """Empty every snapshot table and recompute the same sites and days, undisturbed."""
    tables = [
        model._meta.db_table
        for model in apps.get_app_config("dashboards").get_models()
        if model is not PendingRecompute
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
    for site_id, first_day in first_days.items():
        dashboards.snapshots_recompute(site_ids=[site_id], first_day=first_day)
    return snapshot_rows()


@pytest.fixture
def two_sites(on_redis, ward, trust, council, ward_nurse) -> tuple[Site, Site]:
    """A fortnight of flow at two sites of the trust: admissions, delays, discharges, NCTR today.

    Every step goes through the ward board's services, so each marks its site stale and the
    recompute is queued in Redis for a worker (none runs yet).
    """

    def story(admitted: dt.datetime, *, on) -> Story:
        patient = PatientFactory(local_authority=council)
        admission = AdmissionFactory(patient=patient, current_ward=on, admitted_at=admitted)
        return Story(admission, ward_nurse)

    other_ward = WardFactory(site__organisation=trust, name="Ward 12")
    for on in (ward, other_ward):
        story(at(ago(14), 10), on=on).plan(ago(12), "1").ready(ago(10)).delay(
            ago(10), "CAP05"
        ).discharge(ago(7), pathway="1", destination="usual_residence")
        story(at(ago(9), 11), on=on).ready(ago(8)).discharge(ago(6))
        story(at(ago(5), 9), on=on).ready(ago(1)).delay(ago(1), "HOS03")
        # Ready at 00:00 today: any later hour may still be in the future when the test runs.
        story(at(ago(2), 15), on=on).meets(ago(1)).ready(ago(0), hour=0)
    first, second = sorted((ward.site, other_ward.site), key=lambda site: site.pk)
    return first, second


@pytest.fixture
def site_lock() -> Iterator[Callable[[Site], Callable[[], None]]]:
    """Hold a site's recompute lock from a connection of the test's own, until released."""
    held: list[psycopg.Connection] = []

    def hold(site: Site) -> Callable[[], None]:
        lock = psycopg.connect(database_url(connection.settings_dict), autocommit=True)
        lock.execute("SELECT pg_advisory_lock(%s, %s)", [dashboards.LOCK_NAMESPACE, site.pk])
        held.append(lock)
        return lock.close  # closing the session releases its lock

    yield hold
    for lock in held:
        lock.close()


def waiting_for_lock(site: Site) -> bool:
    """Whether a recompute waits for the site's lock (so it has finished the sites before it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
              AND classid = %s AND objid = %s AND objsubid = 2
            """,
            [dashboards.LOCK_NAMESPACE, site.pk],
        )
        return cursor.fetchone()[0] > 0


def recompute_killed_half_way(
    sites: tuple[Site, Site], site_lock, worker: ProjectProcess
) -> tuple[dict[int, dt.date], Callable[[], None]]:
    """Start the worker on the queued recompute and wait until the first site is done and the
    second waits for its lock; return the stale days queued and the lock's release."""
    first, second = sites
    stale = dict(PendingRecompute.objects.values_list("site_id", "first_day"))
    assert set(stale) == {first.pk, second.pk}
    release = site_lock(second)
    worker.start()
    assert wait_for(lambda: worker_ready(worker), seconds=30), worker.log()
    assert wait_for(lambda: waiting_for_lock(second), seconds=30), worker.log()
    assert SnapshotDay.objects.filter(site=first).exists()
    assert not SnapshotDay.objects.filter(site=second).exists()
    return stale, release


def assert_recomputed_as_a_clean_run(sites, stale, worker: ProjectProcess) -> None:
    assert wait_for(lambda: not PendingRecompute.objects.exists(), seconds=45), worker.log()
    after_fault = snapshot_rows()
    for site in sites:
        assert SnapshotDay.objects.filter(site=site, day=ago(0)).exists()
    assert after_fault["dashboards_dailycensus"], "the recompute wrote no census rows"
    assert after_fault == clean_recompute(stale)


def test_a_recompute_whose_pool_process_is_killed_runs_again_and_ends_right(
    two_sites, on_redis, worker_env, processes, site_lock, tmp_path
):
    worker = worker_process(tmp_path, worker_env)
    processes.append(worker)
    stale, release = recompute_killed_half_way(two_sites, site_lock, worker)
    (pool_process,) = worker.children()

    pool_process.kill()  # SIGKILL: the task's process dies, the worker lives on
    pool_process.wait(timeout=10)
    release()

    assert_recomputed_as_a_clean_run(two_sites, stale, worker)
    assert "WorkerLostError" in worker.log()


def test_a_recompute_whose_worker_is_killed_runs_again_on_the_next_worker(
    two_sites, on_redis, worker_env, processes, site_lock, tmp_path
):
    first_worker = worker_process(tmp_path, worker_env)
    processes.append(first_worker)
    stale, release = recompute_killed_half_way(two_sites, site_lock, first_worker)

    first_worker.kill()  # SIGKILL to the worker and its pool: nothing is acknowledged or returned
    release()
    assert PendingRecompute.objects.count() == 2

    # No edit queues anything new: only the task left unacknowledged can finish the job.
    next_worker = worker_process(tmp_path, worker_env)
    processes.append(next_worker.start())
    assert_recomputed_as_a_clean_run(two_sites, stale, next_worker)
