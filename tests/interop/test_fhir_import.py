"""FHIR import of Patients and Encounters, with the official R4 examples in tests/data/fhir-r4."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from discharge.models import Admission, Patient, WardStay
from interop import services
from interop.models import WardCode
from tests.factories import valid_nhs_number

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "fhir-r4"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def uk_patient(fhir_id: str, n: int) -> dict:
    """A patient with an NHS number, under the id an official example Encounter refers to."""
    return {
        "resourceType": "Patient",
        "id": fhir_id,
        "identifier": [
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": valid_nhs_number(n)}
        ],
        "name": [{"family": "Chalmers", "given": ["Peter", "James"]}],
        "gender": "male",
        "birthDate": "1974-12-25",
        "address": [{"postalCode": "LS1 4AP"}],
    }


def bundle(*resources) -> str:
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in resources],
        }
    )


def run(ward, council, *texts):
    return services.fhir_import(texts=list(texts), site=ward.site, council=council)


def test_the_encounter_with_a_leave_of_absence_is_one_stay_still_in_hospital(ward, council):
    report = run(ward, council, bundle(uk_patient("example", 1), example("Encounter-emerg")))
    assert report.counts["admission created"] == 1, report.problems
    admission = Admission.objects.get()
    # The leave of absence (bed 'reserved', status 'onleave') is not a discharge.
    assert admission.status == Admission.Status.IN_HOSPITAL
    # The stay starts when the emergency attendance became an inpatient one (classHistory).
    assert admission.admitted_at.isoformat() == "2017-01-31T23:27:00+00:00"
    stays = list(WardStay.objects.filter(admission=admission))
    assert len(stays) == 1 and stays[0].ended_at is None
    assert WardCode.objects.get(ward=stays[0].ward).code == "Ward 1, Room 42, Bed 1"


def test_outpatient_and_home_encounters_are_not_admissions(ward, council):
    ambulatory = [
        example(n)
        for n in (
            "Encounter-f001",
            "Encounter-f002",
            "Encounter-f003",
            "Encounter-f201",
            "Encounter-f202",
            "Encounter-xcda",
            "Encounter-home",
        )
    ]
    patients = [
        uk_patient("f001", 2),
        uk_patient("f201", 3),
        uk_patient("xcda", 4),
        uk_patient("example", 5),
    ]
    report = run(ward, council, bundle(*patients, *ambulatory))
    assert report.counts["skipped"] == len(ambulatory)
    assert all("not an inpatient stay" in p for p in report.problems)
    assert not Admission.objects.exists()
    assert Patient.objects.count() == 4


def test_a_finished_inpatient_encounter_is_a_discharge(ward, council):
    report = run(ward, council, bundle(uk_patient("f201", 6), example("Encounter-f203")))
    assert report.counts["admission created"] == 1, report.problems
    admission = Admission.objects.get()
    assert admission.status == Admission.Status.DISCHARGED
    assert admission.discharged_at.date().isoformat() == "2013-03-20"


def test_the_official_patients_without_nhs_numbers_are_reported_and_skipped(ward, council):
    patients = [
        example(n)
        for n in ("Patient-example", "Patient-f001", "Patient-f201", "Patient-pat1", "Patient-pat2")
    ]
    report = run(ward, council, bundle(*patients, example("Encounter-example")))
    assert report.counts["invalid"] == 6
    assert any("Patient/example: no NHS number" in p for p in report.problems)
    assert any(
        "Encounter/example: its subject Patient/example was not imported" in p
        for p in report.problems
    )
    assert not Patient.objects.exists()


def test_import_is_idempotent(ward, council):
    text = bundle(uk_patient("example", 1), example("Encounter-emerg"))
    run(ward, council, text)
    report = run(ward, council, text)
    assert report.counts == {"patient unchanged": 1, "admission unchanged": 1}
    assert Admission.objects.count() == 1 and WardStay.objects.count() == 1


def test_a_later_export_with_the_stay_finished_discharges_it(ward, council):
    encounter = example("Encounter-emerg")
    run(ward, council, bundle(uk_patient("example", 1), encounter))
    finished = {
        **encounter,
        "status": "finished",
        "period": {"start": encounter["period"]["start"], "end": "2017-02-03T10:00:00+10:00"},
    }
    report = run(ward, council, bundle(finished))
    assert report.counts["admission discharged"] == 1, report.problems
    assert Admission.objects.get().status == Admission.Status.DISCHARGED


def test_an_invalid_resource_is_reported_and_nothing_of_it_is_kept(ward, council):
    broken = {**uk_patient("x", 7), "birthDate": "not-a-date"}
    bad_nhs = {
        **uk_patient("y", 8),
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "4857773456"}],
    }
    report = run(ward, council, bundle(broken, bad_nhs, uk_patient("z", 9)))
    assert report.counts == {"invalid": 2, "patient created": 1}
    assert any("birthDate" in p for p in report.problems)
    assert any("4857773456" in p for p in report.problems)
    assert Patient.objects.count() == 1


def test_ndjson_is_read_line_by_line_and_a_bad_line_is_reported(ward, council):
    lines = [
        json.dumps(uk_patient("example", 1)),
        "{not json",
        json.dumps(example("Encounter-emerg")),
    ]
    report = run(ward, council, "\n".join(lines))
    assert report.counts["admission created"] == 1
    assert any("line 2" in p for p in report.problems)


def test_the_command_reports_progress_and_counts(tmp_path, ward, council):
    path = tmp_path / "export.ndjson"
    path.write_text(
        "\n".join(
            json.dumps(r)
            for r in (
                uk_patient("example", 1),
                example("Encounter-emerg"),
                example("Encounter-f001"),
            )
        )
    )
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "fhir_import",
        str(path),
        "--site",
        ward.site.code,
        "--council",
        council.ods_code,
        stdout=out,
        stderr=err,
    )
    assert "3 resource(s): 1 admission created, 1 patient created, 1 skipped." in out.getvalue()
    assert "res" in err.getvalue() and "Encounter/f001" in err.getvalue()


def test_the_command_refuses_an_unknown_site(tmp_path, council):
    path = tmp_path / "x.json"
    path.write_text("{}")
    with pytest.raises(CommandError, match="--site"):
        call_command("fhir_import", str(path), "--site", "NOPE", "--council", council.ods_code)
