"""The hook the ward board's services call after a commit that changes the flow figures.

It records which sites' days are stale and queues one recompute for all of them, debounced:
however many edits a board round makes within the window, one task runs at its end. If the
queue cannot be reached, the stale days stay recorded and the beat safety net recomputes them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

from dashboards import services

log = logging.getLogger(__name__)

# Set while a pending recompute is queued and not yet started.
DEBOUNCE_KEY = "dashboards:recompute-queued"


def debounce_seconds() -> float:
    """How long a queued recompute waits for more edits before it runs."""
    return float(getattr(settings, "DASHBOARDS_RECOMPUTE_DEBOUNCE", 10))


def flow_changed(*, site_ids: Iterable[int], day: dt.date, patient_id: int | None = None) -> None:
    """The sites' figures from ``day`` to today changed; ``patient_id`` for a new admission.

    Called from ``transaction.on_commit``: the change is saved whatever happens here, so a
    failure is logged rather than raised, and the safety net catches up.
    """
    try:
        services.recompute_request(site_ids=site_ids, first_day=day)
        if patient_id is not None:
            services.readmission_recompute_request(patient_id=patient_id, admitted_on=day)
        recompute_queue()
    except Exception:
        log.exception("Could not queue a dashboard recompute; the safety net will catch up.")


def recompute_queue() -> None:
    """Queue one pending recompute unless one is already waiting to run."""
    from dashboards.tasks import recompute_pending

    wait = debounce_seconds()
    # The key outlives the wait so a task lost with its worker holds the queue only briefly.
    if cache.add(DEBOUNCE_KEY, True, timeout=max(60, wait * 6)):
        recompute_pending.apply_async(countdown=wait)
