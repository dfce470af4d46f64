"""The board's edits reach the dashboards: stale days recorded after commit, one debounced task."""

import logging

import pytest

from dashboards import tasks, triggers
from dashboards.models import PendingRecompute
from discharge import services
from homefirst.celery import app
from tests.dashboards.conftest import ago, at, census, recompute, today

pytestmark = pytest.mark.django_db


def nctr_review(admission, by):
    admission.refresh_from_db()
    services.ctr_review_record(admission=admission, by=by, expected_version=admission.version)


def test_a_board_edit_marks_its_site_and_day_stale_after_commit(
    story, ward, ward_nurse, queued, django_capture_on_commit_callbacks
):
    patient = story(at(ago(2), 10), on=ward)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        nctr_review(patient.admission, ward_nurse)
    assert not PendingRecompute.objects.exists()  # nothing before the commit
    for callback in callbacks:
        callback()
    assert list(PendingRecompute.objects.values_list("site_id", "first_day")) == [
        (ward.site_id, today())
    ]
    assert queued == [{"countdown": triggers.debounce_seconds()}]


def test_a_busy_board_round_queues_one_recompute(
    story, ward, ward_nurse, queued, django_capture_on_commit_callbacks
):
    patients = [story(at(ago(2), 10), on=ward) for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        for patient in patients:
            nctr_review(patient.admission, ward_nurse)
    assert len(queued) == 1
    assert PendingRecompute.objects.get().version == 5

    tasks.recompute_pending()  # the queued task runs at the end of the wait
    assert census(today())["nctr"] == 5
    assert not PendingRecompute.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        # Now, not at the story's 09:00: reviews are recorded in time order.
        patients[0].admission.refresh_from_db()
        services.ctr_review_record(
            admission=patients[0].admission, by=ward_nurse, criteria=["03"], expected_version=None
        )
    assert len(queued) == 2  # the next edit queues afresh


def test_a_backdated_discharge_marks_every_day_since(
    story, ward, queued, django_capture_on_commit_callbacks
):
    patient = story(at(ago(6), 10), on=ward)
    with django_capture_on_commit_callbacks(execute=True):
        patient.discharge(ago(3))
    assert PendingRecompute.objects.get().first_day == ago(3)


def test_a_move_marks_both_sites(story, ward, trust, queued, django_capture_on_commit_callbacks):
    from tests.factories import WardFactory

    elsewhere = WardFactory(site__organisation=trust)
    patient = story(at(ago(2), 10), on=ward)
    with django_capture_on_commit_callbacks(execute=True):
        patient.move(ago(0), elsewhere, 0)
    assert set(PendingRecompute.objects.values_list("site_id", flat=True)) == {
        ward.site_id,
        elsewhere.site_id,
    }


def test_a_refused_edit_marks_nothing(
    story, ward, ward_nurse, queued, django_capture_on_commit_callbacks
):
    patient = story(at(ago(2), 10), on=ward)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017
        services.delay_reason_set(
            admission=patient.admission, by=ward_nurse, reason="HOS03", expected_version=None
        )  # no DRD: refused
    assert not PendingRecompute.objects.exists()
    assert queued == []


def test_with_the_queue_unreachable_the_edit_is_kept_and_the_days_stay_stale(
    story, ward, ward_nurse, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(**_kwargs):
        raise ConnectionError("Redis is not answering")

    monkeypatch.setattr(tasks.recompute_pending, "apply_async", broker_down)
    patient = story(at(ago(2), 10), on=ward)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        nctr_review(patient.admission, ward_nurse)
    patient.admission.refresh_from_db()
    assert patient.admission.discharge_ready_date == today()
    assert PendingRecompute.objects.filter(first_day=today()).exists()
    assert "safety net will catch up" in caplog.text


def test_the_beat_safety_net_catches_a_lost_trigger(story, ward, ward_nurse, monkeypatch):
    patient = story(at(ago(2), 10), on=ward)
    recompute(ago(2))
    assert census(today())["nctr"] == 0
    # The trigger is lost: the edit commits, but nothing marks the day or queues a task.
    monkeypatch.setattr(services, "flow_changed", lambda **_kwargs: None)
    nctr_review(patient.admission, ward_nurse)
    assert census(today())["nctr"] == 0
    tasks.recompute_recent.delay()  # what beat runs every few minutes
    assert census(today())["nctr"] == 1


def test_beat_runs_the_safety_net_often_and_the_full_rebuild_nightly():
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["dashboards.tasks.recompute_recent"] <= 10 * 60
    assert schedule["dashboards.tasks.recompute_history"].hour == {2}
