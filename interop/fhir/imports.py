"""Import FHIR R4 Patients and Encounters into patients and admissions, through the services.

Each resource is applied in its own transaction: an invalid one is reported with the reason
and skipped, and nothing of it is kept. Only inpatient encounters (class IMP, ACUTE, NONAC)
become admissions; importing the same resources again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pghistory
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils.dateparse import parse_date, parse_datetime
from fhir.resources.R4B.encounter import Encounter as FhirEncounter
from fhir.resources.R4B.patient import Patient as FhirPatient
from pydantic import ValidationError as ModelError

from discharge import nhs_number
from discharge import services as discharge
from discharge.models import Admission, DischargeDestination, Patient
from homefirst.models import Organisation, Site, User, Ward
from interop.fhir.export import NHS_NUMBER_SYSTEM
from interop.hl7.apply import reason_of
from interop.hl7.codes import discharge_outcome
from interop.hl7.times import LONDON
from interop.models import AdmissionIdentifier, PatientIdentifier, WardCode

INPATIENT_CLASSES = frozenset({"IMP", "ACUTE", "NONAC"})
# Encounter statuses of a patient still in hospital ('onleave' is a leave of absence, not a discharge).
OPEN_STATUSES = frozenset({"in-progress", "onleave", "arrived", "triaged"})
SKIPPED_STATUSES = frozenset({"planned", "cancelled", "entered-in-error", "unknown"})
# Location statuses that are the patient being there ('reserved' keeps the bed while on leave).
PRESENT = frozenset({"active", "completed"})
DISPOSITIONS = {
    "home": "19",
    "aadvice": "19",
    "alt-home": "29",
    "other-hcf": "51",
    "psy": "51",
    "hosp": "88",
    "exp": "79",
    "long": "54",
    "snf": "54",
}
FHIR_ID_SYSTEM = "fhir-import"

log = logging.getLogger(__name__)


class Skip(Exception):
    """The resource is not imported, for the reason given."""

    def __init__(self, reason: str, *, invalid: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.invalid = reason, invalid


@dataclass
class ImportReport:
    """What an import did: counts by outcome and the reason for each resource left out."""

    counts: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def note(self, outcome: str, problem: str = "") -> None:
        self.counts[outcome] += 1
        if problem:
            self.problems.append(problem)


def read_resources(text: str) -> Iterator[dict]:
    """Resources from a Bundle, a single resource, or NDJSON (one resource per line)."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError:
            document = None
        if isinstance(document, dict):
            if document.get("resourceType") == "Bundle":
                for entry in document.get("entry") or []:
                    if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                        yield entry["resource"]
            else:
                yield document
            return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                resource = json.loads(line)
            except json.JSONDecodeError as error:
                yield {"resourceType": "?", "_line": number, "_error": str(error)}
                continue
            yield resource if isinstance(resource, dict) else {"resourceType": "?", "_line": number}


def _moment(value, what: str) -> dt.datetime | None:
    """A FHIR dateTime (text or as the model parsed it): a bare date or time is UK local."""
    if not value:
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time.min)
    else:
        parsed = parse_datetime(str(value))
        if parsed is None:
            day = parse_date(str(value)[:10]) if len(str(value)) >= 10 else None
            if day is None:
                raise Skip(f"{what}: '{value}' is not a FHIR dateTime.")
            parsed = dt.datetime.combine(day, dt.time.min)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LONDON)
    return parsed.astimezone(dt.UTC)


class Importer:
    """Applies resources one at a time; keeps the patients it met by their FHIR id."""

    def __init__(self, *, site: Site, council: Organisation, by: User, source: str = "") -> None:
        self.site, self.council, self.by = site, council, by
        self.source = source or FHIR_ID_SYSTEM
        self.patients: dict[str, int] = {}
        self.report = ImportReport()

    # --- Patients ---

    def patient(self, resource: dict) -> None:
        model = self._validated(FhirPatient, resource)
        nhs = next(
            (i.value for i in model.identifier or [] if i.system == NHS_NUMBER_SYSTEM and i.value),
            None,
        )
        if nhs is None:
            raise Skip(
                f"Patient/{model.id}: no NHS number (identifier system {NHS_NUMBER_SYSTEM})."
            )
        try:
            digits = nhs_number.normalise(nhs)
        except ValidationError as error:
            raise Skip(
                f"Patient/{model.id}: NHS number {nhs}: {' '.join(error.messages)}"
            ) from error
        name = (model.name or [None])[0]
        family = (name.family if name else "") or ""
        given = " ".join(name.given or []) if name else ""
        if not family or not given or model.birthDate is None:
            raise Skip(
                f"Patient/{model.id}: a family name, a given name and a birth date are needed."
            )
        sex = model.gender if model.gender in Patient.Sex.values else Patient.Sex.UNKNOWN
        postcode = next((a.postalCode for a in model.address or [] if a.postalCode), "") or ""
        existing = Patient.objects.filter(nhs_number=digits).first()
        if existing is None:
            existing = discharge.patient_create(
                nhs_number_input=digits,
                given_name=given[:100],
                family_name=family[:100],
                date_of_birth=model.birthDate,
                local_authority=self.council,
                sex=sex,
                postcode=postcode[:10],
                by=self.by,
            )
            outcome = "patient created"
        else:
            outcome = "patient unchanged"
        if model.id:
            self.patients[f"Patient/{model.id}"] = existing.pk
            PatientIdentifier.objects.get_or_create(
                system=f"{self.source}:Patient"[:200],
                value=model.id[:100],
                defaults={"patient": existing},
            )
        self.report.note(outcome)

    # --- Encounters ---

    def encounter(self, resource: dict) -> None:
        model = self._validated(FhirEncounter, resource)
        label = f"Encounter/{model.id}"
        klass = model.class_fhir.code if model.class_fhir else None
        if klass not in INPATIENT_CLASSES:
            raise Skip(f"{label}: class {klass} is not an inpatient stay.", invalid=False)
        if model.status in SKIPPED_STATUSES:
            raise Skip(f"{label}: status {model.status}.", invalid=False)
        patient = self._subject(model, label)
        system, value = self._identity(model)
        known = (
            AdmissionIdentifier.objects.filter(system=system, value=value)
            .select_related("admission")
            .first()
        )
        admitted_at = self._admitted_at(model, label)
        discharged_at = None
        if model.status not in OPEN_STATUSES:
            discharged_at = _moment(
                model.period.end if model.period else None, f"{label} period.end"
            )
            if discharged_at is None:
                raise Skip(f"{label}: finished but with no period.end.")
        if known:
            admission = known.admission
            if admission.status == Admission.Status.IN_HOSPITAL and discharged_at:
                self._discharge(admission, model, discharged_at)
                self.report.note("admission discharged")
            else:
                self.report.note("admission unchanged")
            return
        stays = self._stays(model, admitted_at, label)
        first_ward = stays[0][1] if stays else self._ward(None)
        admission = discharge.admission_admit(
            patient=patient, ward=first_ward, admitted_at=admitted_at, by=self.by
        )
        AdmissionIdentifier.objects.create(system=system, value=value, admission=admission)
        current = first_ward
        for started, ward in stays[1:]:
            if ward.pk != current.pk:
                discharge.admission_transfer(
                    admission=admission, ward=ward, by=self.by, moved_at=started
                )
                current = ward
        if discharged_at:
            self._discharge(admission, model, discharged_at)
        self.report.note("admission created")

    def _subject(self, model: FhirEncounter, label: str) -> Patient:
        reference = model.subject.reference if model.subject else None
        pk = self.patients.get(reference or "")
        if pk is None and reference and reference.startswith("Patient/"):
            linked = PatientIdentifier.objects.filter(
                system=f"{self.source}:Patient"[:200],
                value=reference.split("/", 1)[1],
                patient__isnull=False,
            ).first()
            pk = linked.patient_id if linked else None
        if pk is None:
            raise Skip(f"{label}: its subject {reference} was not imported.")
        return Patient.objects.get(pk=pk)

    def _identity(self, model: FhirEncounter) -> tuple[str, str]:
        for identifier in model.identifier or []:
            if identifier.value:
                return f"fhir:{identifier.system or self.source}"[:200], identifier.value[:100]
        return f"{self.source}:Encounter"[:200], (model.id or "")[:100]

    def _admitted_at(self, model: FhirEncounter, label: str) -> dt.datetime:
        # An emergency attendance that became an admission: the stay starts with the inpatient class.
        for history in model.classHistory or []:
            if (
                history.class_fhir
                and history.class_fhir.code in INPATIENT_CLASSES
                and history.period
            ):
                start = _moment(history.period.start, f"{label} classHistory.period.start")
                if start:
                    return start
        start = _moment(model.period.start if model.period else None, f"{label} period.start")
        if start is None:
            raise Skip(f"{label}: no period.start.")
        return start

    def _stays(
        self, model: FhirEncounter, admitted_at: dt.datetime, label: str
    ) -> list[tuple[dt.datetime, Ward]]:
        """Where the patient was from admission on: present locations only, in time order."""
        stays = []
        for location in model.location or []:
            if location.status not in PRESENT or not location.period:
                continue
            start = _moment(location.period.start, f"{label} location.period.start")
            end = _moment(location.period.end, f"{label} location.period.end")
            if start is None or (end is not None and end <= admitted_at):
                continue
            stays.append((max(start, admitted_at), self._ward(location.location)))
        return sorted(stays, key=lambda s: s[0])

    def _ward(self, reference) -> Ward:
        code = ""
        if reference is not None:
            code = (
                reference.reference
                or (reference.identifier.value if reference.identifier else "")
                or reference.display
                or ""
            )
        code = code.strip() or "UNKNOWN"
        mapping = (
            WardCode.objects.filter(site=self.site, code=code[:100]).select_related("ward").first()
        )
        if mapping is None:
            # A stable short code for the placeholder: the location's name may be long.
            short = "F" + hashlib.sha1(code.encode()).hexdigest()[:10].upper()
            ward = Ward.objects.create(
                site=self.site, code=short, name=f"{code} (unmapped)"[:200], bed_count=1
            )
            mapping = WardCode.objects.create(
                site=self.site, code=code[:100], ward=ward, mapped=False
            )
        return mapping.ward

    def _discharge(
        self, admission: Admission, model: FhirEncounter, discharged_at: dt.datetime
    ) -> None:
        disposition = ""
        if model.hospitalization and model.hospitalization.dischargeDisposition:
            codings = model.hospitalization.dischargeDisposition.coding or []
            disposition = next((c.code for c in codings if c.code), "") or ""
        destination, pathway, _flags = discharge_outcome(
            disposition="",
            discharged_to=DISPOSITIONS.get(disposition, ""),
            planned_pathway=admission.planned_pathway_id,
        )
        discharge.admission_discharge(
            admission=admission,
            by=self.by,
            discharged_at=discharged_at,
            destination=destination,
            actual_pathway=pathway if destination != DischargeDestination.DIED else None,
            expected_version=None,
        )

    # --- Plumbing ---

    def _validated(self, model_class, resource: dict):
        try:
            return model_class.model_validate(resource)
        except ModelError as error:
            first = error.errors()[0] if error.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ())) or "resource"
            raise Skip(
                f"{resource.get('resourceType')}/{resource.get('id', '?')}: invalid at {where}: {first.get('msg', error)}"
            ) from error

    def apply(self, resource: dict) -> None:
        """Apply one resource in its own transaction, recording what happened."""
        kind = resource.get("resourceType")
        handler: Callable[[dict], None] | None = {
            "Patient": self.patient,
            "Encounter": self.encounter,
        }.get(kind)
        if handler is None:
            where = (
                f"line {resource['_line']}"
                if "_line" in resource
                else f"{kind}/{resource.get('id', '?')}"
            )
            self.report.note(
                "skipped",
                f"{where}: not a Patient or Encounter{': ' + resource['_error'] if '_error' in resource else ''}.",
            )
            return
        try:
            with transaction.atomic(), pghistory.context(user=self.by.pk, source="fhir"):
                handler(resource)
        except Skip as skip:
            self.report.note("invalid" if skip.invalid else "skipped", skip.reason)
        except ValidationError as error:
            self.report.note("invalid", f"{kind}/{resource.get('id', '?')}: {reason_of(error)}")
        except DatabaseError as error:
            self.report.note(
                "invalid",
                f"{kind}/{resource.get('id', '?')}: refused by the database: {str(error).splitlines()[0][:200]}",
            )
        except Exception as error:  # one odd resource must not stop the import
            log.exception("FHIR import: %s/%s could not be applied", kind, resource.get("id"))
            self.report.note(
                "invalid",
                f"{kind}/{resource.get('id', '?')}: could not be applied ({type(error).__name__}).",
            )


def import_resources(
    resources: Iterable[dict],
    *,
    site: Site,
    council: Organisation,
    by: User,
    source: str = "",
    progress=None,
) -> ImportReport:
    """Patients first, then Encounters, so every Encounter can find its subject."""
    importer = Importer(site=site, council=council, by=by, source=source)
    ordered = sorted(resources, key=lambda r: 0 if r.get("resourceType") == "Patient" else 1)
    for resource in progress(ordered) if progress else ordered:
        importer.apply(resource)
    return importer.report
