"""Read an HL7 v2 ADT message (python-hl7) into plain data the pipeline applies; no database here."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import hl7

from discharge import nhs_number
from interop.hl7.times import BadTime, parse_date, parse_dtm

# Identifier types never kept: national identifiers of other countries and documents.
_NOT_KEPT_TYPES = frozenset({"SS", "DL", "PPN", "SSN"})
# The NHS number's OID, for senders that name the authority by it.
NHS_NUMBER_OID = "2.16.840.1.113883.2.1.4.1"
MAX_REPEATS = 20


class Hl7ParseError(ValueError):
    """The message cannot be read; ``field`` names where (MSH-9, PID-7, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Identifier:
    """A CX identifier: value, the authority that assigned it, and its type code."""

    value: str
    authority: str
    type_code: str

    @property
    def system(self) -> str:
        return f"{self.authority or 'local'}:{self.type_code or 'PI'}"


@dataclass(frozen=True)
class PatientDetails:
    """PID: who the message is about."""

    nhs_number: str | None  # valid, normalised
    invalid_nhs_number: str | None  # sent as an NHS number but failing the check
    local_identifiers: tuple[Identifier, ...]
    given_name: str
    family_name: str
    date_of_birth: dt.date | None
    sex: str
    postcode: str
    council_code: str
    gp_practice_code: str


@dataclass(frozen=True)
class VisitDetails:
    """PV1: where and when the stay is."""

    patient_class: str
    site_code: str
    ward_code: str
    bed: str
    admission_type: str
    specialty: str
    visit: Identifier | None
    admitted_at: dt.datetime | None
    discharged_at: dt.datetime | None
    discharge_disposition: str
    discharged_to: str


@dataclass(frozen=True)
class AdtMessage:
    """One ADT message, read."""

    raw: str
    sha256: str
    control_id: str
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    message_code: str
    event: str
    version: str
    sent_at: dt.datetime | None
    recorded_at: dt.datetime | None
    occurred_at: dt.datetime | None
    patient: PatientDetails | None
    visit: VisitDetails | None
    prior_identifiers: tuple[Identifier, ...] = ()
    prior_nhs_number: str | None = None

    @property
    def message_type(self) -> str:
        return f"{self.message_code}^{self.event}" if self.event else self.message_code

    @property
    def event_at(self) -> dt.datetime | None:
        """When the event happened: EVN-6, else EVN-2, else MSH-7."""
        return self.occurred_at or self.recorded_at or self.sent_at


def normalise(raw: str | bytes) -> str:
    """Text with segments ended by carriage returns, whatever line ends the file or socket had."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    # NUL can never be stored in Postgres text, and MLLP framing bytes are not content.
    text = raw.replace("\x00", "").replace("\x0b", "").replace("\x1c", "").strip().lstrip("\ufeff")
    lines = [line for line in text.replace("\r\n", "\r").replace("\n", "\r").split("\r") if line]
    return "\r".join(lines)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Reader:
    """Safe access to fields by position: a missing segment or component reads as empty."""

    def __init__(self, message: hl7.Message) -> None:
        self.message = message

    def has(self, segment: str) -> bool:
        try:
            self.message.segment(segment)
        except KeyError:
            return False
        return True

    def get(self, segment: str, f: int, r: int = 1, c: int = 1, s: int = 1) -> str:
        try:
            value = self.message[f"{segment}.F{f}.R{r}.C{c}.S{s}"]
        except (KeyError, IndexError):
            return ""
        return self.message.unescape(str(value)).strip() if value else ""

    def repeats(self, segment: str, f: int) -> int:
        count = 0
        for r in range(1, MAX_REPEATS + 1):
            try:
                self.message[f"{segment}.F{f}.R{r}"]
            except (KeyError, IndexError):
                break
            count = r
        return count

    def time(self, segment: str, f: int) -> dt.datetime | None:
        try:
            return parse_dtm(self.get(segment, f))
        except BadTime as error:
            raise Hl7ParseError(f"{segment}-{f}", str(error)) from error

    def identifiers(self, segment: str, f: int) -> list[Identifier]:
        found = []
        for r in range(1, self.repeats(segment, f) + 1):
            value = self.get(segment, f, r, 1)
            if value:
                authority = self.get(segment, f, r, 4, 1) or self.get(segment, f, r, 4, 2)
                found.append(Identifier(value, authority, self.get(segment, f, r, 5).upper()))
        return found


def _is_nhs_number(identifier: Identifier) -> bool:
    return identifier.type_code == "NH" or identifier.authority.upper() in {"NHS", NHS_NUMBER_OID}


def _split_nhs_number(
    identifiers: list[Identifier],
) -> tuple[str | None, str | None, tuple[Identifier, ...]]:
    """The valid NHS number, an invalid one (kept locally), and the identifiers to keep."""
    valid = invalid = None
    kept: list[Identifier] = []
    for identifier in identifiers:
        if _is_nhs_number(identifier):
            if nhs_number.is_valid(identifier.value):
                valid = valid or nhs_number.normalise(identifier.value)
                continue
            invalid = invalid or identifier.value
            kept.append(Identifier(identifier.value, "NHS-invalid", "NH"))
        elif identifier.type_code not in _NOT_KEPT_TYPES:
            kept.append(identifier)
    return valid, invalid, tuple(kept)


_SEX = {"F": "female", "M": "male", "O": "other", "A": "other", "N": "other", "X": "other"}


def _patient(reader: _Reader) -> PatientDetails | None:
    if not reader.has("PID"):
        return None
    identifiers = reader.identifiers("PID", 3) + reader.identifiers("PID", 2)
    valid, invalid, kept = _split_nhs_number(identifiers)
    try:
        born = parse_date(reader.get("PID", 7))
    except BadTime as error:
        raise Hl7ParseError("PID-7", str(error)) from error
    return PatientDetails(
        nhs_number=valid,
        invalid_nhs_number=invalid,
        local_identifiers=kept,
        family_name=reader.get("PID", 5, 1, 1, 1)[:100],
        given_name=reader.get("PID", 5, 1, 2)[:100],
        date_of_birth=born,
        sex=_SEX.get(reader.get("PID", 8).upper()[:1], "unknown"),
        postcode=reader.get("PID", 11, 1, 5).upper()[:10],
        council_code=reader.get("PID", 11, 1, 9).upper(),
        gp_practice_code=reader.get("PD1", 3, 1, 3).upper()[:10],
    )


def _visit(reader: _Reader) -> VisitDetails | None:
    if not reader.has("PV1"):
        return None
    visits = reader.identifiers("PV1", 19)
    return VisitDetails(
        patient_class=reader.get("PV1", 2).upper(),
        ward_code=reader.get("PV1", 3, 1, 1, 1),
        bed=reader.get("PV1", 3, 1, 3),
        site_code=reader.get("PV1", 3, 1, 4, 1),
        admission_type=reader.get("PV1", 4).upper(),
        specialty=reader.get("PV1", 10)[:100],
        visit=visits[0] if visits else None,
        admitted_at=reader.time("PV1", 44),
        discharged_at=reader.time("PV1", 45),
        discharge_disposition=reader.get("PV1", 36).upper(),
        discharged_to=reader.get("PV1", 37).upper(),
    )


def parse(raw: str | bytes) -> AdtMessage:
    """Read one message; raise Hl7ParseError naming the field when it cannot be read."""
    text = normalise(raw)
    if not text.startswith("MSH"):
        raise Hl7ParseError("MSH", "the message does not start with an MSH segment")
    try:
        message = hl7.parse(text)
    except Exception as error:  # the library raises several kinds for malformed text
        raise Hl7ParseError("MSH", f"cannot be read as HL7 v2 ({error})") from error
    reader = _Reader(message)
    control_id = reader.get("MSH", 10)
    if not control_id:
        raise Hl7ParseError("MSH-10", "the message control ID is empty")
    code, event = reader.get("MSH", 9, 1, 1).upper(), reader.get("MSH", 9, 1, 2).upper()
    if not code:
        raise Hl7ParseError("MSH-9", "the message type is empty")
    prior = reader.identifiers("MRG", 1) if reader.has("MRG") else []
    prior_valid, _prior_invalid, prior_kept = _split_nhs_number(prior)
    return AdtMessage(
        raw=text,
        sha256=digest(text),
        control_id=control_id[:200],
        sending_application=reader.get("MSH", 3)[:200],
        sending_facility=reader.get("MSH", 4)[:200],
        receiving_application=reader.get("MSH", 5)[:200],
        receiving_facility=reader.get("MSH", 6)[:200],
        message_code=code,
        event=event or reader.get("EVN", 1).upper(),
        version=reader.get("MSH", 12) or "2.4",
        sent_at=reader.time("MSH", 7),
        recorded_at=reader.time("EVN", 2),
        occurred_at=reader.time("EVN", 6),
        patient=_patient(reader),
        visit=_visit(reader),
        prior_identifiers=prior_kept,
        prior_nhs_number=prior_valid,
    )


def header(raw: str | bytes) -> dict[str, str]:
    """Best-effort MSH fields of a message that could not be parsed, to address its NACK."""
    text = normalise(raw)
    first = text.split("\r", 1)[0]
    if not first.startswith("MSH") or len(first) < 4:
        return {}
    fields = first.split(first[3])
    pick = lambda i: fields[i].split("^")[0] if len(fields) > i else ""  # noqa: E731
    # MSH-1 is the separator itself, so MSH-n sits at index n-1.
    return {
        "sending_application": pick(2),
        "sending_facility": pick(3),
        "receiving_application": pick(4),
        "receiving_facility": pick(5),
        "control_id": pick(9),
        "version": pick(11),
        "event": fields[8].split("^")[1] if len(fields) > 8 and "^" in fields[8] else "",
    }
