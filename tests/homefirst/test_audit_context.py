import pghistory.models
import pytest
from celery import shared_task

from discharge.models import Admission

pytestmark = pytest.mark.django_db


@shared_task(name="tests.move_bed")
def move_bed(admission_id: int) -> None:
    Admission.objects.filter(pk=admission_id).update(bed_label="T1")


def test_changes_made_by_a_celery_task_carry_the_tasks_name(admission):
    move_bed.delay(admission.pk)
    event = pghistory.models.Events.objects.tracks(admission).get(pgh_label="update")
    assert event.pgh_diff["bed_label"][1] == "T1"
    assert event.pgh_context["task"] == "tests.move_bed"


def test_the_audit_history_cannot_be_changed(admission):
    from django.db import DatabaseError, transaction

    events = pghistory.models.Events.objects.tracks(admission)
    event_model = Admission.events.rel.related_model
    assert events.exists()
    with pytest.raises(DatabaseError), transaction.atomic():
        event_model.objects.filter(pgh_obj=admission).update(bed_label="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        event_model.objects.filter(pgh_obj=admission).delete()
