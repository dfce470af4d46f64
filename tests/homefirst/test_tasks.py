import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from homefirst.celery import app
from homefirst.tasks import sessions_clear

pytestmark = pytest.mark.django_db


def test_sessions_clear_removes_only_expired_sessions():
    Session.objects.create(
        session_key="old", session_data="", expire_date=timezone.now() - dt.timedelta(days=1)
    )
    Session.objects.create(
        session_key="live", session_data="", expire_date=timezone.now() + dt.timedelta(days=1)
    )
    sessions_clear.delay()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


def test_beat_schedule_names_registered_tasks():
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks
