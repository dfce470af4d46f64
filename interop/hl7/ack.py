"""ACK and NACK messages: MSA with the outcome, ERR naming the reason."""

from __future__ import annotations

import uuid

from django.utils import timezone

from interop.hl7.times import format_dtm

# HL7 table 0357 codes we answer with.
ERROR_CODES = {
    "parse": ("102", "Data type error"),
    "required": ("101", "Required field missing"),
    "unknown_key": ("204", "Unknown key identifier"),
    "duplicate_key": ("205", "Duplicate key identifier"),
    "unsupported_event": ("201", "Unsupported event code"),
    "application": ("207", "Application internal error"),
}


def escape(text: str) -> str:
    """Escape HL7 delimiters in free text (the escape character first)."""
    for plain, escaped in (
        ("\\", "\\E\\"),
        ("|", "\\F\\"),
        ("^", "\\S\\"),
        ("&", "\\T\\"),
        ("~", "\\R\\"),
    ):
        text = text.replace(plain, escaped)
    return text.replace("\r", " ").replace("\n", " ")


def build(
    *,
    code: str,
    header: dict[str, str],
    text: str = "",
    error: str | None = None,
    severity: str = "E",
) -> str:
    """An ACK answering the message whose MSH fields are in ``header``."""
    msh = "|".join(
        [
            "MSH",
            "^~\\&",
            escape(header.get("receiving_application", "") or "HOMEFIRST"),
            escape(header.get("receiving_facility", "")),
            escape(header.get("sending_application", "")),
            escape(header.get("sending_facility", "")),
            format_dtm(timezone.now()),
            "",
            f"ACK^{escape(header.get('event', ''))}^ACK",
            uuid.uuid4().hex[:20],
            "P",
            escape(header.get("version", "") or "2.4"),
        ]
    )
    segments = [
        msh,
        "|".join(["MSA", code, escape(header.get("control_id", "")), escape(text[:500])]),
    ]
    if error:
        number, name = ERROR_CODES.get(error, ERROR_CODES["application"])
        # ERR-3 the table 0357 code, ERR-4 severity, ERR-8 the message a person reads.
        segments.append(f"ERR|||{number}^{name}^HL70357|{severity}||||{escape(text[:500])}")
    return "\r".join(segments) + "\r"
