"""The Celery application: workers recompute dashboards, beat holds the schedule (in settings)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homefirst.settings.local")

app = Celery("homefirst")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_task_contexts: dict[str, object] = {}


@task_prerun.connect
def _audit_context_enter(task_id: str, task, **_kwargs) -> None:
    """Label every change a task makes in the audit history with the task's name."""
    import pghistory

    context = pghistory.context(task=task.name, task_id=task_id)
    context.__enter__()
    _task_contexts[task_id] = context


@task_postrun.connect
def _audit_context_exit(task_id: str, **_kwargs) -> None:
    context = _task_contexts.pop(task_id, None)
    if context is not None:
        context.__exit__(None, None, None)
