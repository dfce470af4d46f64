"""Regions of a page that keep themselves up to date by polling, cheaply.

A polled region is an element that htmx asks again every few seconds and replaces with the
answer (``hx-swap="outerHTML"``, or out of band). It carries the ETag of what it shows and
sends it back, with ``{% load polling %}{% poll_headers etag %}`` (which also marks the request
as background, so polling does not keep an unattended screen signed in). While nothing it
shows has changed the view answers 304 Not Modified without rendering, and htmx swaps nothing
(base.html's responseHandling); a change answers 200 with the region and its new ETag. The
ETag comes from a cheap summary of the data (a count, the latest change, who is asking),
worked out in one query rather than by rendering the region.

    def queue_rows(request):
        etag = etag_of(request.user.pk, selectors.queue_version(user=request.user))
        return polled(request, etag=etag, render=lambda: render(request, ..., {"etag": etag}))
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers

from homefirst.session_lifetime import BACKGROUND_HEADER

# How often polled regions ask, in seconds; templates use it in hx-trigger="every 5s".
POLL_SECONDS = 5
# Polling is the page's doing, not the user's: it must not count as activity.
BACKGROUND_HEADERS = {BACKGROUND_HEADER: "1"}


def etag_of(*parts: object) -> str:
    """A strong ETag naming one version of a region: the parts that decide what it shows."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def _tag(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    # Always ask again (no-cache), never store in a shared cache (private): it is personal data.
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def polled(request: HttpRequest, *, etag: str, render: Callable[[], HttpResponse]) -> HttpResponse:
    """304 Not Modified when the client already shows ``etag``; otherwise render and tag it."""
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        return _tag(not_modified, etag)
    return _tag(render(), etag)
