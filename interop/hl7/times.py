"""HL7 v2 date-times to aware UTC datetimes: the message's own offset, or Europe/London."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

_DTM = re.compile(
    r"^(?P<year>\d{4})(?P<month>\d{2})?(?P<day>\d{2})?(?P<hour>\d{2})?(?P<minute>\d{2})?"
    r"(?P<second>\d{2})?(?:\.(?P<fraction>\d{1,4}))?(?P<offset>[+-]\d{4})?$"
)


class BadTime(ValueError):
    """A value that is not an HL7 date-time."""


def parse_dtm(value: str) -> dt.datetime | None:
    """An HL7 DTM as an aware UTC datetime; None when empty. Without an offset it is UK local time."""
    value = (value or "").strip()
    if not value:
        return None
    match = _DTM.match(value)
    if not match:
        raise BadTime(f"'{value}' is not an HL7 date-time (YYYYMMDDHHMM[SS][+ZZZZ])")
    part = match.groupdict()
    fraction = part["fraction"] or ""
    try:
        naive = dt.datetime(
            int(part["year"]),
            int(part["month"] or 1),
            int(part["day"] or 1),
            int(part["hour"] or 0),
            int(part["minute"] or 0),
            int(part["second"] or 0),
            int(fraction.ljust(6, "0")) if fraction else 0,
        )
    except ValueError as error:
        raise BadTime(f"'{value}' is not a real date and time") from error
    offset = part["offset"]
    if offset:
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[3:5])
        if hours > 14 or minutes > 59:
            raise BadTime(f"'{value}' has an impossible UTC offset {offset}")
        zone: dt.tzinfo = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    else:
        # A local time in the clock-change hour is read as the first of its two meanings.
        zone = LONDON
    return naive.replace(tzinfo=zone).astimezone(dt.UTC)


def parse_date(value: str) -> dt.date | None:
    """The calendar date written at the start of an HL7 DT or DTM (a birth date is not shifted)."""
    value = (value or "").strip()
    if not value:
        return None
    digits = value[:8]
    if not re.fullmatch(r"\d{8}", digits):
        raise BadTime(f"'{value}' is not an HL7 date (YYYYMMDD)")
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError as error:
        raise BadTime(f"'{value}' is not a real date") from error


def format_dtm(moment: dt.datetime) -> str:
    """An aware datetime as an HL7 DTM in UTC with its offset."""
    return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S+0000")
