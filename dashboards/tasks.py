"""Celery tasks that keep the flow snapshots right: each calls a service and is safe to run twice."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.core.cache import cache

from dashboards import services
from dashboards.triggers import DEBOUNCE_KEY


@shared_task
def recompute_pending() -> int:
    """Recompute the days the ward board marked stale (queued, debounced, by the triggers)."""
    # Let the next edit queue a fresh task: anything it marks after this point is seen by
    # that task, or stays pending with a newer version than this run claims.
    cache.delete(DEBOUNCE_KEY)
    return len(services.pending_recompute())


@shared_task
def recompute_recent() -> int:
    """The safety net, every few minutes: stale days, then yesterday and today everywhere."""
    return len(services.recent_recompute())


@shared_task
def recompute_history() -> int:
    """Nightly: rebuild the whole history of every site."""
    return int(services.history_recompute() is not None)


@shared_task
def recompute_scope(site_ids: list[int], first_day: str, last_day: str | None = None) -> int:
    """Recompute the given sites between two ISO dates (for an operator, or a backfill)."""
    result = services.snapshots_recompute(
        site_ids=site_ids,
        first_day=dt.date.fromisoformat(first_day),
        last_day=dt.date.fromisoformat(last_day) if last_day else None,
    )
    return int(result is not None)
