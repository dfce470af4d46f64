"""Every write of the interop app: HL7 messages received and replayed, API clients, code links."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import pghistory
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from discharge.models import Patient
from homefirst.models import Membership, Organisation, Role, User
from interop.hl7 import ack
from interop.hl7.apply import Applied, Feed, Hold, Rejected, apply, hold_key, reason_of
from interop.hl7.parse import AdtMessage, Hl7ParseError, digest, header, normalise, parse
from interop.models import ApiClient, Hl7Message, PatientIdentifier, SiteCode

log = logging.getLogger(__name__)

FEED_USERNAME = "interop-feed"
# A chain of held messages released by one another is followed this far and no further.
MAX_RELEASES = 1000


@dataclass(frozen=True)
class Receipt:
    """What became of a message, and the ACK to send back."""

    code: str  # AA, AE or AR
    text: str
    ack: str
    message: Hl7Message | None
    duplicate: bool = False


# --- Who the feed acts as ---------------------------------------------------------------------


def feed_user() -> User:
    """The service user the MLLP listener and file import record as the author of their changes."""
    user, created = User.objects.get_or_create(
        username=FEED_USERNAME, defaults={"first_name": "Interop", "last_name": "feed"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _feed_for(client: ApiClient | None) -> Feed:
    if client is None:
        return Feed(by=feed_user())
    return Feed(by=client.user, organisation_id=client.organisation_id)


# --- Receiving --------------------------------------------------------------------------------


def _header_of(message: AdtMessage) -> dict[str, str]:
    return {
        "sending_application": message.sending_application,
        "sending_facility": message.sending_facility,
        "receiving_application": message.receiving_application,
        "receiving_facility": message.receiving_facility,
        "control_id": message.control_id,
        "version": message.version,
        "event": message.event,
    }


def _receipt(row: Hl7Message, head: dict[str, str], *, error: str = "", duplicate=False) -> Receipt:
    """The ACK for a message in its recorded state."""
    text = row.reason or row.get_status_display()
    if row.flags:
        text = f"{text} Flags: {', '.join(row.flags)}."
    if duplicate:
        text = (
            f"Duplicate of a message already received ({row.get_status_display().lower()}). {text}"
        )
    if row.status == Hl7Message.Status.FAILED:
        code = "AR" if error in {"parse", "unsupported_event"} else "AE"
        return Receipt(
            code,
            text,
            ack.build(code=code, header=head, text=text, error=error or "application"),
            row,
            duplicate,
        )
    if row.status == Hl7Message.Status.HELD:
        return Receipt(
            "AA",
            text,
            ack.build(code="AA", header=head, text=text, error="unknown_key", severity="W"),
            row,
            duplicate,
        )
    return Receipt("AA", text, ack.build(code="AA", header=head, text=text), row, duplicate)


def hl7_message_receive(*, raw: str | bytes, via: str, client: ApiClient | None = None) -> Receipt:
    """Take one message from any way in: record it once, apply it in one transaction, answer it."""
    text = normalise(raw)
    try:
        message = parse(text)
    except Hl7ParseError as error:
        head = header(text)
        row = Hl7Message.objects.create(
            sending_application=head.get("sending_application", "")[:200],
            sending_facility=head.get("sending_facility", "")[:200],
            control_id=head.get("control_id", "")[:200],
            sha256=digest(
                text + f"\x00{timezone.now().isoformat()}"
            ),  # unreadable: never a duplicate
            event=head.get("event", "")[:10],
            raw=text or "(empty)",
            via=via,
            api_client=client,
            status=Hl7Message.Status.FAILED,
            reason=str(error).replace("\x00", ""),
        )
        return _receipt(row, head, error="parse")
    head = _header_of(message)
    same = Hl7Message.objects.filter(
        sending_application=message.sending_application,
        sending_facility=message.sending_facility,
        control_id=message.control_id,
    )
    existing = same.filter(sha256=message.sha256).first()
    if existing is not None:
        Hl7Message.objects.filter(pk=existing.pk).update(duplicates=F("duplicates") + 1)
        return _receipt(existing, head, duplicate=True)
    row = Hl7Message(
        sending_application=message.sending_application,
        sending_facility=message.sending_facility,
        control_id=message.control_id,
        sha256=message.sha256,
        message_type=message.message_type[:20],
        event=message.event[:10],
        raw=message.raw,
        via=via,
        api_client=client,
        event_at=message.event_at,
        visit_number=(message.visit.visit.value if message.visit and message.visit.visit else "")[
            :100
        ],
        status=Hl7Message.Status.FAILED,
        reason="Received; not yet applied.",
    )
    if same.exclude(status=Hl7Message.Status.FAILED).exists():
        row.reason = (
            f"MSH-10: control ID {message.control_id} was already used by this sender for a "
            "different message; send it with a new control ID."
        )
        row.save()
        return _receipt(row, head, error="duplicate_key")
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # The same message arrived twice at once: the other copy is the one recorded.
        existing = Hl7Message.objects.get(
            sending_application=message.sending_application,
            sending_facility=message.sending_facility,
            control_id=message.control_id,
            sha256=message.sha256,
        )
        return _receipt(existing, head, duplicate=True)
    error = _process(row, message, _feed_for(client))
    return _receipt(row, head, error=error)


def hl7_message_replay(*, message: Hl7Message) -> Receipt:
    """Apply a failed or held message again, after an administrator fixed what stopped it."""
    if message.status not in (Hl7Message.Status.FAILED, Hl7Message.Status.HELD):
        raise ValidationError({"status": "Only failed or held messages can be replayed."})
    try:
        parsed = parse(message.raw)
    except Hl7ParseError as error:
        message.attempts += 1
        message.reason = str(error)
        message.save(update_fields=["attempts", "reason"])
        return _receipt(message, header(message.raw), error="parse")
    message.attempts += 1
    error = _process(message, parsed, _feed_for(message.api_client))
    return _receipt(message, _header_of(parsed), error=error)


def _process(row: Hl7Message, message: AdtMessage, feed: Feed) -> str:
    """Apply one message and record the outcome with it; return the HL7 error kind on failure."""
    error = ""
    outcome: Applied | None = None
    try:
        with (
            transaction.atomic(),
            pghistory.context(source="hl7", message_control_id=message.control_id),
        ):
            outcome = apply(message, feed)
            row.status = Hl7Message.Status.IGNORED if outcome.ignored else Hl7Message.Status.APPLIED
            row.reason, row.flags, row.held_for = outcome.note, sorted(set(outcome.flags)), ""
            row.patient, row.admission = outcome.patient, outcome.admission
            row.applied_at = timezone.now()
            row.save()
    except Hold as hold:
        outcome = None
        _keep_unmatched(hold.identifiers, hold.reason)
        row.status, row.held_for, row.reason = Hl7Message.Status.HELD, hold.key, hold.reason
        row.flags = sorted(set(hold.flags))
        row.save()
    except Rejected as rejected:
        outcome, error = None, rejected.kind
        if rejected.unmapped_site:
            SiteCode.objects.get_or_create(code=rejected.unmapped_site[:100])
        _failed(row, rejected.reason)
    except ValidationError as invalid:
        outcome, error = None, "application"
        _failed(row, reason_of(invalid))
    except DatabaseError as refused:
        # A database constraint caught what the services did not: nothing was saved.
        outcome, error = None, "application"
        _failed(row, f"The database refused the change: {str(refused).splitlines()[0][:300]}")
    except Exception as crash:  # the feed must keep flowing whatever one message does
        log.exception("HL7 message %s could not be applied", row.pk)
        outcome, error = None, "application"
        _failed(row, f"Internal error ({type(crash).__name__}); the message is kept for replay.")
    if outcome is not None and outcome.releases:
        _release(outcome.releases)
    return error


def _failed(row: Hl7Message, reason: str) -> None:
    row.status, row.reason, row.held_for = Hl7Message.Status.FAILED, reason, ""
    row.save()


def _keep_unmatched(identifiers: Iterable, reason: str) -> None:
    """Keep the identifiers of a patient the feed could not match, flagged for an administrator."""
    for identifier in identifiers:
        PatientIdentifier.objects.get_or_create(
            system=identifier.system[:200],
            value=identifier.value[:100],
            defaults={"flag": reason[:200]},
        )


def _release(keys: list[str]) -> None:
    """Apply the messages held for these keys, oldest event first; they may release more."""
    pending, done = list(keys), 0
    while pending and done < MAX_RELEASES:
        key = pending.pop(0)
        waiting = Hl7Message.objects.filter(status=Hl7Message.Status.HELD, held_for=key).order_by(
            "event_at", "received_at", "pk"
        )
        for held in waiting.select_related("api_client"):
            done += 1
            held.attempts += 1
            try:
                parsed = parse(held.raw)
            except Hl7ParseError as error:
                _failed(held, str(error))
                continue
            _process(held, parsed, _feed_for(held.api_client))


# --- Administration ---------------------------------------------------------------------------


def patient_identifier_link(*, identifier: PatientIdentifier, patient: Patient) -> list[Receipt]:
    """Link a kept local identifier to a patient and apply the messages held for it."""
    with transaction.atomic():
        identifier.patient, identifier.flag = patient, ""
        identifier.save(update_fields=["patient", "flag"])
    key = hold_key("patient", identifier.system, identifier.value)
    held = list(Hl7Message.objects.filter(status=Hl7Message.Status.HELD, held_for=key))
    return [hl7_message_replay(message=m) for m in held]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_client_create(
    *, name: str, organisation: Organisation, role: str, scopes: Iterable[str]
) -> tuple[ApiClient, str]:
    """Register an integration client; the token is returned once and only its hash kept."""
    scopes = sorted(set(scopes))
    if unknown := [s for s in scopes if s not in ApiClient.Scope.values]:
        raise ValidationError({"scopes": f"Unknown scope: {', '.join(unknown)}."})
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role."})
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "Give the client a name of 1 to 100 characters."})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        user = User.objects.create(
            username=f"api-{secrets.token_hex(6)}", first_name=name[:150], last_name="(API client)"
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        Membership.objects.create(user=user, organisation=organisation, role=role)
        client = ApiClient.objects.create(
            name=name,
            organisation=organisation,
            role=role,
            scopes=scopes,
            token_prefix=token[:8],
            token_hash=_token_hash(token),
            user=user,
        )
    return client, token


def api_client_for_token(token: str) -> ApiClient | None:
    """The active client holding this token, noting when it was last used; None otherwise."""
    client = (
        ApiClient.objects.select_related("user", "organisation")
        .filter(token_hash=_token_hash(token), active=True)
        .first()
    )
    if client is not None:
        now = timezone.now()
        # Write at most once a minute per client: every API call would otherwise write a row.
        if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


def api_client_revoke(*, client: ApiClient) -> ApiClient:
    """Stop a client's token working at once."""
    client.active = False
    client.save(update_fields=["active"])
    return client


# --- FHIR import ------------------------------------------------------------------------------


def fhir_import(
    *,
    texts: Iterable[str],
    site,
    council: Organisation,
    source: str = "",
    by: User | None = None,
    progress=None,
):
    """Import Patients and Encounters from Bundle or NDJSON texts; each resource all or nothing."""
    from interop.fhir.imports import import_resources, read_resources

    resources = [r for text in texts for r in read_resources(text)]
    return import_resources(
        resources,
        site=site,
        council=council,
        by=by or feed_user(),
        source=source,
        progress=progress,
    )
