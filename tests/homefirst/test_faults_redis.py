"""Redis (the Celery broker and the cache) goes down: the wards keep working, the dashboards catch up.

A real Celery worker with beat runs against a Redis of the test's own, which the test stops
and starts again; the database is the test database throughout.
"""

import datetime as dt
import re
import socket
import threading
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboards import services as dashboards
from dashboards.models import PendingRecompute
from discharge.models import CtrReview
from homefirst.models import Site
from homefirst.settings.base import redis_cache
from recovery_plans.models import PlanSection
from tests.dashboards.test_views import headline
from tests.factories import recovery_plan_for
from tests.throwaway import wait_for, worker_process, worker_ready

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

HTMX = {"HTTP_HX_REQUEST": "true"}
# A save must not wait long on a Redis that is not there (the cache gives up after 2 s).
PROMPT_SECONDS = 8


def timed_post(client, url: str, data: dict):
    started = time.monotonic()
    response = client.post(url, data, **HTMX)
    return response, time.monotonic() - started


def safety_net_runs(log: str) -> int:
    """How many of beat's safety-net recomputes the worker's log shows finished."""
    return len(re.findall(r"Task dashboards\.tasks\.recompute_recent\[[\w-]+\] succeeded", log))


def dashboard(client, leader) -> str:
    client.force_login(leader)
    response = client.get(reverse("dashboards:index"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_wards_work_while_redis_is_down_and_the_dashboard_catches_up_by_itself(
    client, admission, ward_nurse, system_leader, on_redis, worker_env, processes, tmp_path
):
    plan = recovery_plan_for(admission, ward_nurse)
    dashboards.snapshots_recompute(
        site_ids=Site.objects.values_list("pk", flat=True), first_day=dashboards.history_start()
    )
    processes.append(worker_process(tmp_path, worker_env, beat=True).start())
    worker = processes[-1]
    assert wait_for(lambda: worker_ready(worker), seconds=30), worker.log()
    assert wait_for(lambda: not PendingRecompute.objects.exists()), worker.log()
    page = dashboard(client, system_leader)
    assert 'data-pending="0"' in page
    assert headline(page, "nctr_remaining") == 0

    # Stopped just after a safety-net run, so none is under way or about to be handed out: from
    # here on nothing recomputes until Redis is back.
    runs = safety_net_runs(worker.log())
    assert wait_for(lambda: safety_net_runs(worker.log()) > runs, seconds=15), worker.log()
    on_redis.stop()

    # The board round carries on: a criteria-to-reside review (no criterion met) and a new EDD.
    client.force_login(ward_nurse)
    admission.refresh_from_db()
    response, seconds = timed_post(
        client,
        reverse("discharge:row_ctr", args=[admission.pk]),
        {"expected_version": admission.version},
    )
    assert response.status_code == 200, response.content.decode()
    assert seconds < PROMPT_SECONDS, seconds
    assert CtrReview.objects.filter(admission=admission, meets=False).exists()

    admission.refresh_from_db()
    new_edd = timezone.localdate() + dt.timedelta(days=2)
    response, seconds = timed_post(
        client,
        reverse("discharge:row_edd", args=[admission.pk]),
        {"expected_version": admission.version, "expected_discharge_date": new_edd.isoformat()},
    )
    assert response.status_code == 200, response.content.decode()
    assert seconds < PROMPT_SECONDS, seconds
    admission.refresh_from_db()
    assert admission.expected_discharge_date == new_edd

    # The recovery plan is edited as usual.
    response, seconds = timed_post(
        client,
        reverse("recovery_plans:section_edit", args=[plan.pk, "about_me"]),
        {"expected_version": 1, "what_matters": "My garden", "about_me": "", "how_to_support": ""},
    )
    assert response.status_code == 200, response.content.decode()
    assert seconds < PROMPT_SECONDS, seconds
    assert PlanSection.objects.get(plan=plan, key="about_me").content["what_matters"] == "My garden"

    # The dashboard still answers, with yesterday's figure, and says changes are waiting.
    page = dashboard(client, system_leader)
    assert 'data-pending="1"' in page
    assert "Changes pending" in page
    assert headline(page, "nctr_remaining") == 0

    on_redis.start()

    # Nobody acts: the worker reconnects and beat's safety net counts the waiting changes.
    def caught_up() -> bool:
        page = dashboard(client, system_leader)
        return 'data-pending="0"' in page and headline(page, "nctr_remaining") == 1

    assert wait_for(caught_up, seconds=45, interval=0.5), worker.log()
    assert not PendingRecompute.objects.exists()


@pytest.fixture
def silent_redis():
    """A port that takes connections and never answers, as a hung or cut-off Redis does.

    It lets go after 20 s, so a client with no timeouts fails the test rather than hanging it.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    release = threading.Timer(20, listener.close)
    release.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        release.cancel()
        listener.close()


@pytest.mark.django_db
def test_a_redis_that_stops_answering_does_not_hold_up_a_save(
    client, admission, ward_nurse, settings, silent_redis, django_capture_on_commit_callbacks
):
    settings.CACHES = {"default": redis_cache(silent_redis)}
    client.force_login(ward_nurse)
    admission.refresh_from_db()

    started = time.monotonic()
    # The save and what it does after commit (mark the day stale, queue the recompute).
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("discharge:row_ctr", args=[admission.pk]),
            {"expected_version": admission.version},
            **HTMX,
        )
    seconds = time.monotonic() - started

    assert response.status_code == 200, response.content.decode()
    assert callbacks
    assert seconds < PROMPT_SECONDS, seconds
    assert CtrReview.objects.filter(admission=admission, meets=False).exists()
    assert PendingRecompute.objects.filter(site=admission.site).exists()
