"""The answer when the database cannot be reached: a 503 that says so, never a traceback.

Django's ``handler500`` is called for an exception raised anywhere in a request, middleware
included (signing in reads the session from the database before any view runs), so this is
the one place that sees them all. A database that is restarting, failing over or out of
connections is a passing state: the page asks the user to try again shortly, and the next
request reconnects by itself (CONN_HEALTH_CHECKS).
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER_SECONDS = 30
API_PREFIX = "/api/"
API_DETAIL = "HomeFirst cannot reach its database just now; nothing was saved. Try again shortly."


def database_unreachable(error: BaseException | None) -> bool:
    """Whether the error means the database could not be reached or dropped the connection."""
    return isinstance(error, OperationalError | InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 with a plain explanation when the database is unreachable, else Django's 500."""
    # Django calls the handler while it handles the exception, so it is the current one.
    if not database_unreachable(sys.exc_info()[1]):
        return defaults.server_error(request)
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse({"detail": API_DETAIL}, status=503)
    else:
        # Rendered without the request: its context processors would ask the database.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
