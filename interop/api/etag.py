"""ETags from version columns, and the If-Match rules for writes.

Admissions: a write must send ``If-Match`` with the ETag it read (428 without one); an ETag
that no longer matches answers 412, and a change that slips in between the check and the
write answers 409. Plan items: ``If-Match`` names the version the edit started from; the
co-editing service merges others' changes to other fields and answers 409 only when the
same field was changed differently.
"""

from __future__ import annotations

import re

from django.db import models

from interop.api.errors import PreconditionFailed, PreconditionRequired

_TAG = re.compile(r'^(?:W/)?"(?P<tag>[^"]*)"$')


def etag_for(obj: models.Model) -> str:
    """A strong ETag naming the row and its version."""
    return f'"{obj._meta.model_name}-{obj.pk}-v{obj.version}"'


def _tags(header: str) -> list[str]:
    return [part.strip() for part in header.split(",") if part.strip()]


def if_match_version(request, obj: models.Model, *, strict: bool) -> int:
    """The version the client's If-Match names; 428 when missing, 412 when stale and ``strict``."""
    header = request.headers.get("If-Match", "")
    if not header:
        raise PreconditionRequired()
    current = etag_for(obj)
    tags = _tags(header)
    if current in tags or "*" in tags:
        return obj.version
    if strict:
        raise PreconditionFailed()
    prefix = f"{obj._meta.model_name}-{obj.pk}-v"
    for tag in tags:
        match = _TAG.match(tag)
        inner = match.group("tag") if match else ""
        if inner.startswith(prefix) and inner[len(prefix) :].isdigit():
            return int(inner[len(prefix) :])
    raise PreconditionFailed("If-Match does not name a version of this record.")


def not_modified(request, obj: models.Model) -> bool:
    """True when the client's If-None-Match already holds the current ETag."""
    return etag_for(obj) in _tags(request.headers.get("If-None-Match", ""))
