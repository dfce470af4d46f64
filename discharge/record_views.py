"""The access log's request side: who asked, from where, for which page, handed to the service.

Pages, partials, prints and API reads that show who a person is call :func:`log_shown` with
the patients in the response, after finding them through the user's selectors (so nothing
the user may not see is ever logged as seen). Writes are audited separately (pghistory), and
polled refreshes answered 304 show nothing, so neither is logged here.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest

from discharge import services


def log_shown(request: HttpRequest, patient_ids: Iterable[int]) -> int:
    """Log one view per patient shown in this response (one insert, or none for no one)."""
    return services.patient_record_views_log(
        user=request.user,
        patient_ids=patient_ids,
        path=request.get_full_path(),
        ip_address=request.META.get("REMOTE_ADDR"),
    )
