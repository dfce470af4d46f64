"""An edit on the ward board reaches the dashboard through a real Celery worker and Redis."""

import time

import pytest
from django.urls import reverse

from dashboards.models import PendingRecompute
from tests.dashboards.conftest import ago, at, recompute, today
from tests.dashboards.test_views import headline

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def wait_for(check, seconds: float = 20.0):
    """Poll until check() is true (the worker runs on its own thread)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_an_edit_on_the_board_shows_up_on_the_dashboard(
    client, story, ward, ward_nurse, system_leader, celery_worker
):
    patient = story(at(ago(3), 10), on=ward).admission
    recompute(ago(3))
    assert wait_for(lambda: not PendingRecompute.objects.exists())  # the admission's own trigger

    def nctr_on_the_dashboard() -> int:
        client.force_login(system_leader)
        return headline(client.get(reverse("dashboards:index")).content.decode(), "nctr_remaining")

    assert nctr_on_the_dashboard() == 0

    client.force_login(ward_nurse)
    patient.refresh_from_db()
    response = client.post(
        reverse("discharge:row_ctr", args=[patient.pk]),
        {"expected_version": patient.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert PendingRecompute.objects.filter(site=ward.site, first_day=today()).exists()

    assert wait_for(lambda: nctr_on_the_dashboard() == 1)
    assert wait_for(lambda: not PendingRecompute.objects.exists())
