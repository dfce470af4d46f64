"""Recompute services: idempotent, scoped, one at a time, and nothing lost while they run."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections, transaction

from dashboards import services
from dashboards.models import (
    DailyAdmissions,
    DailyCensus,
    DailyDelay,
    DailyDischarges,
    PendingRecompute,
    SnapshotDay,
)
from discharge import services as discharge
from tests.dashboards.conftest import ago, at, census, recompute, today
from tests.factories import WardFactory

pytestmark = pytest.mark.django_db

SNAPSHOTS = (DailyCensus, DailyDelay, DailyDischarges, DailyAdmissions)


def snapshot_rows() -> dict[str, list[tuple]]:
    """Every row of every snapshot table, in key order."""
    return {
        model.__name__: sorted(model.objects.values_list(*[f.attname for f in model._meta.concrete_fields]))
        for model in SNAPSHOTS
    }  # fmt: skip


def busy_ward(story, ward):
    """A few weeks of varied stories on the ward."""
    for n in range(8):
        d = ago(20 - 2 * n)
        patient = story(at(d - dt.timedelta(days=n % 3 + 1), 8 + n), on=ward).ready(d)
        if n % 2:
            patient.delay(d, "HOS03" if n % 4 == 1 else "CAP05")
        if n < 6:
            patient.discharge(d + dt.timedelta(days=n % 4), pathway=str(n % 2))


def test_recomputing_twice_gives_identical_rows(story, ward):
    busy_ward(story, ward)
    recompute(ago(25))
    first = snapshot_rows()
    assert sum(len(rows) for rows in first.values()) > 20
    recompute(ago(25))
    assert snapshot_rows() == first


def test_a_recompute_removes_rows_that_no_longer_hold(story, ward):
    d = ago(5)
    patient = story(at(d, 10), on=ward)
    recompute(d)
    assert census(d)["occupied"] == 1
    # Entered in error: the stay never happened, so its rows must go, not linger.
    discharge.admission_cancel(admission=patient.admission, by=patient.by)
    recompute(d)
    assert not DailyCensus.objects.exists()
    assert not DailyAdmissions.objects.exists()


def test_a_scoped_recompute_touches_only_its_site_and_days(story, ward, trust):
    other = WardFactory(site__organisation=trust)
    story(at(ago(5), 10), on=ward)
    story(at(ago(5), 10), on=other)
    recompute(ago(5))
    DailyCensus.objects.update(occupied=99)
    services.snapshots_recompute(site_ids=[ward.site_id], first_day=ago(3), last_day=ago(2))
    fixed = DailyCensus.objects.filter(occupied=1).values_list("site_id", "day")
    assert sorted(fixed) == [(ward.site_id, ago(3)), (ward.site_id, ago(2))]


def test_days_after_today_are_never_computed(story, ward):
    story(at(ago(1), 10), on=ward)
    services.snapshots_recompute(
        site_ids=[ward.site_id], first_day=ago(1), last_day=today() + dt.timedelta(days=3)
    )
    assert max(SnapshotDay.objects.values_list("day", flat=True)) == today()
    assert max(DailyCensus.objects.values_list("day", flat=True)) == today()


def test_each_recomputed_day_records_when(story, ward):
    story(at(ago(2), 10), on=ward)
    recompute(ago(2))
    days = set(SnapshotDay.objects.filter(site=ward.site).values_list("day", flat=True))
    assert days == {ago(2), ago(1), today()}


# --- Requests and the pending recompute -------------------------------------------------------


def test_a_request_marks_the_site_stale_from_the_change_to_today(ward):
    services.recompute_request(site_ids=[ward.site_id], first_day=ago(1))
    assert list(PendingRecompute.objects.values_list("first_day", "version")) == [(ago(1), 1)]
    services.recompute_request(site_ids=[ward.site_id], first_day=ago(30))
    services.recompute_request(site_ids=[ward.site_id], first_day=today())
    # One row a site however old the change: only the first stale day moves back.
    assert list(PendingRecompute.objects.values_list("first_day", "version")) == [(ago(30), 3)]


def test_the_pending_recompute_counts_the_change_and_clears_the_request(story, ward):
    story(at(ago(3), 10), on=ward)
    services.recompute_request(site_ids=[ward.site_id], first_day=ago(3))
    done = services.pending_recompute()
    assert [(r.site_ids, r.first_day, r.last_day) for r in done] == [
        ((ward.site_id,), ago(3), today())
    ]
    assert census(ago(3))["occupied"] == 1
    assert not PendingRecompute.objects.exists()


def test_a_request_made_while_a_recompute_runs_stays_pending(story, ward, monkeypatch):
    story(at(ago(3), 10), on=ward)
    services.recompute_request(site_ids=[ward.site_id], first_day=today())
    real = services.snapshots_recompute

    def meanwhile_a_new_edit(**kwargs):
        result = real(**kwargs)
        services.recompute_request(site_ids=[ward.site_id], first_day=today())
        return result

    monkeypatch.setattr(services, "snapshots_recompute", meanwhile_a_new_edit)
    services.pending_recompute()
    assert list(PendingRecompute.objects.values_list("first_day", "version")) == [(today(), 2)]


def test_a_new_admission_marks_the_day_of_the_persons_recent_discharge(story, ward):
    earlier = story(at(ago(12), 10), on=ward).ready(ago(11)).discharge(ago(10))
    services.readmission_recompute_request(
        patient_id=earlier.admission.patient_id, admitted_on=ago(1)
    )
    assert list(PendingRecompute.objects.values_list("site_id", "first_day")) == [
        (ward.site_id, ago(10))
    ]


# --- The safety net and the nightly rebuild ---------------------------------------------------


def test_the_safety_net_recomputes_yesterday_and_today_everywhere(story, ward):
    story(at(ago(5), 10), on=ward)
    recompute(ago(5))
    DailyCensus.objects.update(occupied=99)
    services.recent_recompute()
    assert census(today())["occupied"] == census(ago(1))["occupied"] == 1
    assert census(ago(2))["occupied"] == 99  # older days wait for the nightly rebuild


def test_a_site_never_computed_gets_its_whole_history(story, ward):
    story(at(ago(40), 10), on=ward)
    services.recent_recompute()
    assert census(ago(40))["occupied"] == 1
    assert SnapshotDay.objects.filter(site=ward.site).count() == 41


def test_the_nightly_rebuild_covers_the_whole_history(story, ward):
    story(at(ago(30), 10), on=ward).ready(ago(29)).discharge(ago(28))
    DailyDischarges.objects.all().delete()
    services.history_recompute()
    assert DailyDischarges.objects.filter(day=ago(28)).exists()
    assert services.history_start() == ago(30)


# --- One recompute of a site at a time ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_second_recompute_of_a_site_waits_for_the_first(ward):
    """Hold the site's lock as a running recompute would; another must wait for it."""
    finished = threading.Event()

    def second() -> None:
        try:
            services.snapshots_recompute(site_ids=[ward.site_id], first_day=today())
            finished.set()
        finally:
            connections.close_all()

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [services.LOCK_NAMESPACE, ward.site_id]
        )
        worker = threading.Thread(target=second)
        worker.start()
        time.sleep(0.5)
        assert not finished.is_set()
    worker.join(timeout=10)
    assert finished.is_set()


def test_the_recompute_command_rebuilds_the_history_or_the_last_days(story, ward):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    story(at(ago(6), 10), on=ward)
    out = StringIO()
    call_command("recompute_dashboards", "--days", "2", stdout=out)
    assert sorted(SnapshotDay.objects.values_list("day", flat=True)) == [ago(1), today()]
    call_command("recompute_dashboards", stdout=out)
    assert census(ago(6))["occupied"] == 1
    assert "Recomputed" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("recompute_dashboards", "--days", "0")
