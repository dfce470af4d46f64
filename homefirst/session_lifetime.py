"""Sessions end after a spell of inactivity and after a fixed time in all, whichever comes first."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

STARTED = "homefirst_session_started"
LAST_SEEN = "homefirst_last_seen"
# Background requests (a page polling for others' changes) say so in this header: they must
# not keep an unattended screen signed in.
BACKGROUND_HEADER = "X-HomeFirst-Background"
# Writing the last-seen time on every request would cost a database write each; once a minute
# is precise enough for a 30-minute idle limit.
TOUCH_EVERY = 60


class SessionLifetimeMiddleware:
    """Sign out after ``HOMEFIRST_SESSION_IDLE`` seconds idle or ``HOMEFIRST_SESSION_MAX`` in all."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.setdefault(STARTED, now)
            last_seen = request.session.get(LAST_SEEN, now)
            idle = now - last_seen > settings.HOMEFIRST_SESSION_IDLE
            too_long = now - started > settings.HOMEFIRST_SESSION_MAX
            if idle or too_long:
                logout(request)
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = settings.LOGIN_URL_PATH
                    return response
                return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}&expired=1")
            background = request.headers.get(BACKGROUND_HEADER) == "1"
            if LAST_SEEN not in request.session or (
                not background and now - last_seen >= TOUCH_EVERY
            ):
                request.session[LAST_SEEN] = now
        return self.get_response(request)
