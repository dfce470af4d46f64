"""Apply one read ADT message to HomeFirst through the discharge services, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from discharge import services as discharge
from discharge.models import Admission, Patient
from discharge.selectors import admissions_visible_to
from homefirst.models import Organisation, User, Ward
from interop.hl7 import codes
from interop.hl7.parse import AdtMessage, Identifier
from interop.models import AdmissionIdentifier, PatientIdentifier, SiteCode, WardCode

SUPPORTED_EVENTS = ("A01", "A02", "A03", "A04", "A05", "A08", "A11", "A12", "A13", "A40")


@dataclass(frozen=True)
class Feed:
    """Who is sending: the user the services record, and the one organisation a client may touch."""

    by: User
    organisation_id: int | None = None


@dataclass
class Applied:
    """What a message did."""

    note: str
    patient: Patient | None = None
    admission: Admission | None = None
    ignored: bool = False
    flags: list[str] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)  # hold keys this message may unblock


class Hold(Exception):
    """The message waits for something (its admission, a patient match) and is applied later."""

    def __init__(
        self, key: str, reason: str, *, flags=(), identifiers: tuple[Identifier, ...] = ()
    ) -> None:
        super().__init__(reason)
        self.key, self.reason, self.flags, self.identifiers = key, reason, list(flags), identifiers


class Rejected(Exception):
    """The message cannot be applied as it is; ``kind`` picks the HL7 error code."""

    def __init__(self, kind: str, reason: str, *, unmapped_site: str = "") -> None:
        super().__init__(reason)
        self.kind, self.reason, self.unmapped_site = kind, reason, unmapped_site


def hold_key(kind: str, system: str, value: str) -> str:
    return f"{kind}:{system}|{value}"[:200]


def visit_system(message: AdtMessage, visit: Identifier) -> str:
    return f"hl7-visit:{visit.authority or message.sending_facility or 'local'}"


# --- Patients ---------------------------------------------------------------------------------


def _linked_patient(identifiers: tuple[Identifier, ...]) -> Patient | None:
    for identifier in identifiers:
        found = (
            PatientIdentifier.objects.filter(
                system=identifier.system, value=identifier.value, patient__isnull=False
            )
            .select_related("patient")
            .first()
        )
        if found:
            return found.patient
    return None


def _link_identifiers(
    identifiers: tuple[Identifier, ...], patient: Patient, flags: list[str]
) -> list[str]:
    """Record the patient's local identifiers; return hold keys of those newly linked."""
    released = []
    for identifier in identifiers:
        row, _created = PatientIdentifier.objects.get_or_create(
            system=identifier.system, value=identifier.value, defaults={"patient": patient}
        )
        if row.patient_id is None:
            row.patient, row.flag = patient, ""
            row.save(update_fields=["patient", "flag"])
            released.append(hold_key("patient", row.system, row.value))
        elif row.patient_id != patient.pk:
            flags.append("identifier_conflict")
    return released


def _council(message: AdtMessage) -> Organisation:
    details = message.patient
    if details.council_code:
        council = Organisation.objects.filter(
            ods_code=details.council_code, kind=Organisation.Kind.LOCAL_AUTHORITY
        ).first()
        if council:
            return council
    if message.visit and message.visit.site_code:
        code = (
            SiteCode.objects.filter(code=message.visit.site_code)
            .select_related("default_local_authority")
            .first()
        )
        if code and code.default_local_authority:
            return code.default_local_authority
    raise Rejected(
        "required",
        "PID-11.9: no council for this new patient; send the council code or set a default "
        "council on the HL7 site code.",
    )


def _demographics(message: AdtMessage) -> dict:
    """The details the message carries, leaving out those it sends empty."""
    details = message.patient
    values = {
        "given_name": details.given_name,
        "family_name": details.family_name,
        "date_of_birth": details.date_of_birth,
        "postcode": details.postcode,
        "gp_practice_code": details.gp_practice_code,
    }
    if details.sex != "unknown":
        values["sex"] = details.sex
    return {k: v for k, v in values.items() if v}


def _patient(message: AdtMessage, feed: Feed, *, create: bool, result: Applied) -> Patient:
    """The patient the message is about: by NHS number, else by a linked local identifier."""
    details = message.patient
    if details is None:
        raise Rejected("required", "PID: the message has no PID segment.")
    patient = None
    if details.nhs_number:
        patient = Patient.objects.filter(nhs_number=details.nhs_number).first()
    else:
        result.flags.append("invalid_nhs_number" if details.invalid_nhs_number else "no_nhs_number")
        patient = _linked_patient(details.local_identifiers)
        if patient is None:
            if not details.local_identifiers:
                raise Rejected("required", "PID-3: no identifier for the patient.")
            first = details.local_identifiers[0]
            what = (
                f"NHS number '{details.invalid_nhs_number}' fails its check digit"
                if details.invalid_nhs_number
                else "no NHS number"
            )
            raise Hold(
                hold_key("patient", first.system, first.value),
                f"PID-3: {what}; local identifier {first.value} ({first.system}) kept. "
                "Link it to a patient in the admin (Patient identifiers), then replay.",
                flags=result.flags,
                identifiers=details.local_identifiers,
            )
    if patient is not None and feed.organisation_id is not None:
        # A client may only change patients its organisation already cares for.
        visible = admissions_visible_to(feed.by).filter(patient=patient).exists()
        if not visible:
            raise Rejected("unknown_key", "PID-3: this patient is not known to your organisation.")
    if patient is None:
        if not create:
            raise Rejected("unknown_key", "PID-3: no patient with this NHS number.")
        if not details.family_name or not details.given_name:
            raise Rejected("required", "PID-5: a new patient needs a family and a given name.")
        if details.date_of_birth is None:
            raise Rejected("required", "PID-7: a new patient needs a date of birth.")
        patient = discharge.patient_create(
            nhs_number_input=details.nhs_number,
            local_authority=_council(message),
            by=feed.by,
            **{k: v for k, v in _demographics(message).items()},
        )
    elif create:
        changes = _demographics(message)
        if details.council_code:
            council = Organisation.objects.filter(
                ods_code=details.council_code, kind=Organisation.Kind.LOCAL_AUTHORITY
            ).first()
            if council:
                changes["local_authority"] = council
        patient = discharge.patient_update(patient=patient, by=feed.by, **changes)
    result.patient = patient
    result.releases += _link_identifiers(details.local_identifiers, patient, result.flags)
    return patient


# --- Wards and admissions ---------------------------------------------------------------------


def _ward(message: AdtMessage, feed: Feed, result: Applied) -> Ward:
    """The ward PV1-3 names, through the code tables; an unknown ward is made and flagged."""
    visit = message.visit
    if visit is None or not visit.site_code:
        raise Rejected("required", "PV1-3.4: the message names no site (facility).")
    code = SiteCode.objects.filter(code=visit.site_code).select_related("site").first()
    if code is None or code.site is None:
        raise Rejected(
            "unknown_key",
            f"PV1-3.4: site code '{visit.site_code}' is not mapped to a HomeFirst site; "
            "map it in the admin (HL7 site codes), then replay.",
            unmapped_site=visit.site_code,
        )
    site = code.site
    if feed.organisation_id is not None and site.organisation_id != feed.organisation_id:
        raise Rejected(
            "unknown_key", f"PV1-3.4: site '{visit.site_code}' is not your organisation's."
        )
    if not visit.ward_code:
        raise Rejected("required", "PV1-3.1: the message names no ward.")
    mapping = (
        WardCode.objects.filter(site=site, code=visit.ward_code).select_related("ward").first()
    )
    if mapping is None:
        ward = Ward.objects.filter(site=site, code=visit.ward_code[:20]).first()
        mapped = ward is not None
        if ward is None:
            # Keep the patient visible on a placeholder the administrator completes.
            ward = Ward.objects.create(
                site=site,
                code=visit.ward_code[:20],
                name=f"{visit.ward_code} (unmapped)"[:200],
                bed_count=1,
            )
        mapping = WardCode.objects.create(site=site, code=visit.ward_code, ward=ward, mapped=mapped)
    if not mapping.mapped:
        result.flags.append("unmapped_ward")
    return mapping.ward


def _bed(message: AdtMessage, result: Applied) -> str:
    bed = message.visit.bed if message.visit else ""
    if len(bed) > 20:
        result.flags.append("bed_label_shortened")
    return bed[:20]


def _visit(message: AdtMessage) -> tuple[str, str] | None:
    if message.visit and message.visit.visit:
        return visit_system(message, message.visit.visit), message.visit.visit.value
    return None


def _admission(
    message: AdtMessage, feed: Feed, result: Applied, *, statuses: tuple[str, ...]
) -> Admission:
    """The admission the message is about: by visit number (held until its A01), else the patient's latest."""
    visit = _visit(message)
    if visit:
        found = (
            AdmissionIdentifier.objects.filter(system=visit[0], value=visit[1])
            .select_related("admission")
            .first()
        )
        if found is None:
            raise Hold(
                hold_key("visit", *visit),
                f"PV1-19: visit {visit[1]} is not known yet; held until its admission (A01) arrives.",
            )
        admission = found.admission
    else:
        patient = _patient(message, feed, create=False, result=result)
        admission = patient.admissions.filter(status__in=statuses).order_by("-admitted_at").first()
        if admission is None:
            raise Rejected(
                "unknown_key",
                "PV1-19: no visit number, and the patient has no stay this applies to.",
            )
    if feed.organisation_id is not None and admission.site.organisation_id != feed.organisation_id:
        raise Rejected("unknown_key", "PV1-19: this visit is not known to your organisation.")
    result.admission, result.patient = admission, admission.patient
    return admission


def _when(*moments, field_name: str):
    moment = next((m for m in moments if m is not None), None)
    if moment is None:
        raise Rejected("required", f"{field_name}: the message says no time for the event.")
    return moment


def _not_inpatient(message: AdtMessage) -> Applied | None:
    patient_class = message.visit.patient_class if message.visit else ""
    if patient_class not in codes.INPATIENT_CLASSES:
        return Applied(
            note=f"PV1-2: patient class '{patient_class}' is not an inpatient stay; nothing applied.",
            ignored=True,
            flags=["not_inpatient"],
        )
    return None


# --- The events -------------------------------------------------------------------------------


def _admit(message: AdtMessage, feed: Feed) -> Applied:
    if ignored := _not_inpatient(message):
        return ignored
    result = Applied(note="Admitted.")
    ward = _ward(message, feed, result)
    patient = _patient(message, feed, create=True, result=result)
    visit = _visit(message)
    known = (
        AdmissionIdentifier.objects.filter(system=visit[0], value=visit[1])
        .select_related("admission")
        .first()
        if visit
        else None
    )
    if known and known.admission.status != Admission.Status.CANCELLED:
        if known.admission.status == Admission.Status.IN_HOSPITAL:
            result.admission, result.note = known.admission, "Already admitted under this visit."
            result.flags.append("duplicate_event")
            return result
        raise Rejected("duplicate_key", f"PV1-19: visit {visit[1]} has already ended.")
    admission = discharge.admission_admit(
        patient=patient,
        ward=ward,
        admitted_at=_when(message.visit.admitted_at, message.event_at, field_name="PV1-44"),
        by=feed.by,
        bed_label=_bed(message, result),
        method=codes.admission_method(message.visit.admission_type),
        specialty=message.visit.specialty,
    )
    if visit:
        if known:
            known.admission = admission
            known.save(update_fields=["admission"])
        else:
            AdmissionIdentifier.objects.create(system=visit[0], value=visit[1], admission=admission)
        result.releases.append(hold_key("visit", *visit))
    result.admission = admission
    return result


def _transfer(message: AdtMessage, feed: Feed) -> Applied:
    if ignored := _not_inpatient(message):
        return ignored
    result = Applied(note="Transferred.")
    admission = _admission(message, feed, result, statuses=(Admission.Status.IN_HOSPITAL,))
    ward = _ward(message, feed, result)
    discharge.admission_transfer(
        admission=admission,
        ward=ward,
        by=feed.by,
        moved_at=_when(
            message.occurred_at, message.recorded_at, message.sent_at, field_name="EVN-2"
        ),
        bed_label=_bed(message, result),
    )
    return result


def _discharge(message: AdtMessage, feed: Feed) -> Applied:
    if ignored := _not_inpatient(message):
        return ignored
    result = Applied(note="Discharged.")
    admission = _admission(message, feed, result, statuses=(Admission.Status.IN_HOSPITAL,))
    destination, pathway, flags = codes.discharge_outcome(
        disposition=message.visit.discharge_disposition,
        discharged_to=message.visit.discharged_to,
        planned_pathway=admission.planned_pathway_id,
    )
    result.flags += flags
    discharge.admission_discharge(
        admission=admission,
        by=feed.by,
        discharged_at=_when(message.visit.discharged_at, message.event_at, field_name="PV1-45"),
        destination=destination,
        actual_pathway=pathway,
        expected_version=None,
    )
    return result


def _register(message: AdtMessage, feed: Feed) -> Applied:
    """A04, A05 and A08: the patient's details only, never an admission."""
    result = Applied(note="Patient details recorded.")
    _patient(message, feed, create=True, result=result)
    return result


def _correction(service: Callable, note: str, statuses: tuple[str, ...]):
    def handle(message: AdtMessage, feed: Feed) -> Applied:
        if ignored := _not_inpatient(message):
            return ignored
        result = Applied(note=note)
        admission = _admission(message, feed, result, statuses=statuses)
        service(admission=admission, by=feed.by)
        return result

    return handle


def _merge(message: AdtMessage, feed: Feed) -> Applied:
    result = Applied(note="Records merged.")
    survivor = _patient(message, feed, create=True, result=result)
    prior = None
    if message.prior_nhs_number:
        prior = Patient.objects.filter(nhs_number=message.prior_nhs_number).first()
    prior = prior or _linked_patient(message.prior_identifiers)
    if (
        prior is not None
        and feed.organisation_id is not None
        and not admissions_visible_to(feed.by).filter(patient=prior).exists()
    ):
        prior = None
    if prior is None:
        result.flags.append("prior_unknown")
        result.note = (
            "The record to merge is not known here; its identifiers now point to the survivor."
        )
    elif prior.pk != survivor.pk:
        discharge.patient_merge(prior=prior, survivor=survivor, by=feed.by)
        PatientIdentifier.objects.filter(patient=prior).update(patient=survivor)
    result.releases += _link_identifiers(message.prior_identifiers, survivor, result.flags)
    return result


HANDLERS: dict[str, Callable[[AdtMessage, Feed], Applied]] = {
    "A01": _admit,
    "A02": _transfer,
    "A03": _discharge,
    "A04": _register,
    "A05": _register,
    "A08": _register,
    "A11": _correction(
        discharge.admission_cancel, "Admission cancelled.", (Admission.Status.IN_HOSPITAL,)
    ),
    "A12": _correction(
        discharge.admission_transfer_cancel, "Transfer cancelled.", (Admission.Status.IN_HOSPITAL,)
    ),
    "A13": _correction(
        discharge.admission_discharge_cancel,
        "Discharge cancelled.",
        (Admission.Status.DISCHARGED, Admission.Status.DIED),
    ),
    "A40": _merge,
}


def apply(message: AdtMessage, feed: Feed) -> Applied:
    """Apply the message; raise Hold, Rejected or ValidationError (the caller rolls back)."""
    if message.message_code != "ADT":
        raise Rejected(
            "unsupported_event", f"MSH-9: '{message.message_type}' is not an ADT message."
        )
    handler = HANDLERS.get(message.event)
    if handler is None:
        return Applied(
            note=f"MSH-9: event {message.event or '(none)'} is not one HomeFirst applies.",
            ignored=True,
            flags=["unsupported_event"],
        )
    return handler(message, feed)


def reason_of(error: ValidationError) -> str:
    """A service's ValidationError as one line naming the field."""
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{'' if name == '__all__' else name + ': '}{' '.join(messages)}"
            for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)
