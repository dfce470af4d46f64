"""Small display helpers for transfer-of-care pages."""

from __future__ import annotations

import datetime as dt

from django import template

from pathways.access import transfer_pages
from pathways.targets import duration_text
from pathways.transitions import State

register = template.Library()

# The design system's tag colour for each stage: grey waiting on the hub, blue with a service,
# green once care is under way, white when finished.
_STATE_TAGS = {
    State.REFERRED: "nhsuk-tag--grey",
    State.TRIAGED: "nhsuk-tag--purple",
    State.OFFERED: "nhsuk-tag--orange",
    State.ACCEPTED: "nhsuk-tag--blue",
    State.DISCHARGED: "nhsuk-tag--aqua-green",
    State.STARTED: "nhsuk-tag--green",
    State.ENDED: "nhsuk-tag--white",
    State.WITHDRAWN: "nhsuk-tag--white",
}


@register.filter
def state_tag(state: str) -> str:
    """The tag class for a referral's state."""
    return _STATE_TAGS.get(state, "nhsuk-tag--grey")


@register.filter
def duration(value: dt.timedelta | None) -> str:
    """'2 d 3 h', '3 h 20 min', '45 min'."""
    return "" if value is None else duration_text(value)


@register.filter
def is_date_only(value: object) -> bool:
    """True for a date without a time (a target due by a day)."""
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


@register.inclusion_tag("pathways/includes/transfer_links.html", takes_context=True)
def transfer_links(context) -> dict:
    """Links to the transfer-of-care pages for the signed-in user (memberships already read)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"links": transfer_pages(user) if user is not None else []}
