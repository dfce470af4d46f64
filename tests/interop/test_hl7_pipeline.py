"""The ADT pipeline end to end on NHS-style sequences: admit, move, leave, corrections, order, merge."""

import datetime as dt

import pghistory.models
import pytest
from django.utils import timezone

from discharge.models import Admission, Patient, WardStay
from interop import services
from interop.models import AdmissionIdentifier, Hl7Message, PatientIdentifier, SiteCode, WardCode
from tests.factories import PatientFactory, valid_nhs_number
from tests.interop.conftest import NHS_NUMBER, adt

pytestmark = pytest.mark.django_db


def send(raw, via="file"):
    return services.hl7_message_receive(raw=raw, via=via)


def hours_ago(n):
    return timezone.now() - dt.timedelta(hours=n)


def the_admission():
    return Admission.objects.get(patient__nhs_number=NHS_NUMBER)


def test_admit_creates_the_patient_admission_and_first_ward_stay(ward, ward_code):
    receipt = send(adt("A01", "M1", at=hours_ago(5), bed="B4"))
    assert receipt.code == "AA", receipt.text
    admission = the_admission()
    assert admission.status == Admission.Status.IN_HOSPITAL
    assert (admission.current_ward, admission.bed_label) == (ward, "B4")
    assert admission.method == Admission.Method.ELECTIVE
    assert abs(admission.admitted_at - hours_ago(5)) < dt.timedelta(seconds=2)
    patient = admission.patient
    assert (patient.given_name, patient.family_name, patient.postcode) == (
        "JOAN",
        "SMITH",
        "LS1 4AP",
    )
    assert patient.local_authority == SiteCode.objects.get().default_local_authority
    assert PatientIdentifier.objects.get(value="H123").patient == patient
    assert AdmissionIdentifier.objects.get(value="V1").admission == admission
    row = Hl7Message.objects.get()
    assert (row.status, row.admission, row.event) == ("applied", admission, "A01")


def test_admit_transfer_discharge(ward, ward_code, other_ward):
    assert send(adt("A01", "M1", at=hours_ago(30))).code == "AA"
    assert send(adt("A02", "M2", at=hours_ago(20), ward="W9", bed="C2")).code == "AA"
    receipt = send(adt("A03", "M3", at=hours_ago(2), ward="W9", destination="19"))
    assert receipt.code == "AA", receipt.text
    admission = the_admission()
    assert admission.status == Admission.Status.DISCHARGED
    assert admission.discharge_destination == "usual_residence"
    assert admission.actual_pathway_id == "0"
    stays = list(admission.ward_stays.order_by("started_at"))
    assert [(s.ward, s.bed_label) for s in stays] == [(ward, "B1"), (other_ward, "C2")]
    assert stays[0].ended_at == stays[1].started_at
    assert stays[1].ended_at == admission.discharged_at
    assert "pathway_inferred" in Hl7Message.objects.get(control_id="M3").flags


def test_discharge_on_the_planned_pathway_keeps_it(ward, ward_code, ward_nurse):
    from discharge import services as discharge

    send(adt("A01", "M1", at=hours_ago(30)))
    discharge.planned_pathway_set(
        admission=the_admission(), by=ward_nurse, pathway="1", expected_version=None
    )
    send(adt("A03", "M2", at=hours_ago(1), destination="19"))
    assert the_admission().actual_pathway_id == "1"


def test_death_is_recorded_from_the_discharge_method(ward, ward_code):
    send(adt("A01", "M1", at=hours_ago(30)))
    raw = adt("A03", "M2", at=hours_ago(1), destination="79")
    assert send(raw).code == "AA"
    assert the_admission().status == Admission.Status.DIED


def test_cancel_admit(ward, ward_code):
    send(adt("A01", "M1", at=hours_ago(3)))
    receipt = send(adt("A11", "M2"))
    assert receipt.code == "AA", receipt.text
    admission = the_admission()
    assert admission.status == Admission.Status.CANCELLED
    assert not WardStay.objects.filter(admission=admission, ended_at__isnull=True).exists()


def test_cancel_transfer(ward, ward_code, other_ward):
    send(adt("A01", "M1", at=hours_ago(5)))
    send(adt("A02", "M2", at=hours_ago(2), ward="W9"))
    assert send(adt("A12", "M3", ward="W9")).code == "AA"
    assert the_admission().current_ward == ward


def test_cancel_discharge_then_discharge_again(ward, ward_code):
    send(adt("A01", "M1", at=hours_ago(30)))
    send(adt("A03", "M2", at=hours_ago(5)))
    assert send(adt("A13", "M3")).code == "AA"
    admission = the_admission()
    assert admission.status == Admission.Status.IN_HOSPITAL
    assert admission.ward_stays.get(ended_at__isnull=True).ward == ward
    assert send(adt("A03", "M4", at=hours_ago(1))).code == "AA"
    admission.refresh_from_db()
    assert admission.status == Admission.Status.DISCHARGED
    assert abs(admission.discharged_at - hours_ago(1)) < dt.timedelta(seconds=2)


def test_out_of_order_transfer_and_discharge_are_held_until_the_admission_arrives(
    ward, ward_code, other_ward
):
    first = send(adt("A02", "M2", at=hours_ago(20), ward="W9"))
    second = send(adt("A03", "M3", at=hours_ago(2), ward="W9"))
    assert first.code == second.code == "AA"
    assert "held" in first.text.lower() or "not known yet" in first.text
    assert Hl7Message.objects.filter(status="held").count() == 2
    assert not Admission.objects.exists()

    assert send(adt("A01", "M1", at=hours_ago(30))).code == "AA"
    admission = the_admission()
    assert admission.status == Admission.Status.DISCHARGED
    assert [s.ward for s in admission.ward_stays.order_by("started_at")] == [ward, other_ward]
    assert set(Hl7Message.objects.values_list("status", flat=True)) == {"applied"}
    assert Hl7Message.objects.get(control_id="M3").attempts == 2


def test_a_duplicate_is_acknowledged_and_not_applied_twice(ward, ward_code, other_ward):
    raw = adt("A01", "M1", at=hours_ago(5))
    send(raw)
    send(adt("A02", "M2", at=hours_ago(3), ward="W9"))
    again = send(raw)
    assert again.code == "AA" and again.duplicate
    assert Admission.objects.count() == 1
    assert WardStay.objects.count() == 2
    assert Hl7Message.objects.get(control_id="M1").duplicates == 1


def test_a_resent_admission_under_a_new_control_id_changes_nothing(ward, ward_code):
    send(adt("A01", "M1", at=hours_ago(5)))
    receipt = send(adt("A01", "M1-resend", at=hours_ago(5)))
    assert receipt.code == "AA"
    assert Admission.objects.count() == 1
    assert "duplicate_event" in Hl7Message.objects.get(control_id="M1-resend").flags


def test_a_control_id_reused_for_different_content_is_refused(ward, ward_code):
    send(adt("A01", "M1", at=hours_ago(5)))
    receipt = send(adt("A11", "M1"))
    assert receipt.code == "AE"
    assert "already used" in receipt.text
    assert the_admission().status == Admission.Status.IN_HOSPITAL


def test_merge_moves_the_duplicate_records_stays(ward, ward_code, council):
    duplicate = PatientFactory(nhs_number=valid_nhs_number(777), local_authority=council)
    send(
        adt(
            "A01",
            "M1",
            at=hours_ago(50),
            nhs_number=duplicate.nhs_number,
            hospital_number="H9",
            visit="V9",
        )
    )
    send(
        adt(
            "A03",
            "M2",
            at=hours_ago(40),
            nhs_number=duplicate.nhs_number,
            hospital_number="H9",
            visit="V9",
        )
    )
    send(adt("A01", "M3", at=hours_ago(5)))
    receipt = send(adt("A40", "M4", mrg=f"{duplicate.nhs_number}^^^NHS^NH~H9^^^RTA^MR"))
    assert receipt.code == "AA", receipt.text
    survivor = Patient.objects.get(nhs_number=NHS_NUMBER)
    assert survivor.admissions.count() == 2
    assert not duplicate.admissions.exists()
    assert PatientIdentifier.objects.get(value="H9").patient == survivor


def test_merge_of_two_inpatients_is_refused_and_changes_nothing(ward, ward_code):
    other = valid_nhs_number(778)
    send(
        adt(
            "A01",
            "M1",
            at=hours_ago(5),
            nhs_number=other,
            hospital_number="H8",
            visit="V8",
            bed="B8",
        )
    )
    send(adt("A01", "M2", at=hours_ago(4)))
    receipt = send(adt("A40", "M3", mrg=f"{other}^^^NHS^NH"))
    assert receipt.code == "AE"
    assert "prior" in receipt.text
    assert Patient.objects.get(nhs_number=other).admissions.count() == 1


def with_admit_time(raw: str, value: str) -> str:
    """The message with PV1-44 (admit date/time) replaced by a literal HL7 value."""
    segments = raw.split("\r")
    segments[-1] = segments[-1].rsplit("|", 2)[0] + f"|{value}|"
    return "\r".join(segments)


def test_local_times_without_an_offset_are_uk_time(ward, ward_code):
    send(with_admit_time(adt("A01", "M1"), "20260701093000"))
    # 09:30 British Summer Time is 08:30 UTC.
    assert the_admission().admitted_at == dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC)


def test_an_offset_in_the_message_is_honoured(ward, ward_code):
    send(with_admit_time(adt("A01", "M1"), "20260115093000-0500"))
    assert the_admission().admitted_at == dt.datetime(2026, 1, 15, 14, 30, tzinfo=dt.UTC)


def test_an_invalid_nhs_number_is_kept_as_a_local_identifier_and_the_message_held(ward, ward_code):
    receipt = send(adt("A01", "M1", nhs_number="4857773456", hospital_number="H77"))
    assert receipt.code == "AA"
    assert "check digit" in receipt.text
    row = Hl7Message.objects.get()
    assert row.status == "held" and "invalid_nhs_number" in row.flags
    kept = PatientIdentifier.objects.get(value="H77")
    assert kept.patient is None and kept.flag
    assert PatientIdentifier.objects.filter(value="4857773456", system="NHS-invalid:NH").exists()
    assert not Patient.objects.exists()


def test_linking_a_kept_identifier_applies_the_held_message(ward, ward_code, council):
    send(adt("A01", "M1", nhs_number="", hospital_number="H77", at=hours_ago(3)))
    patient = PatientFactory(local_authority=council)
    receipts = services.patient_identifier_link(
        identifier=PatientIdentifier.objects.get(value="H77"), patient=patient
    )
    assert [r.code for r in receipts] == ["AA"]
    assert patient.admissions.get().status == Admission.Status.IN_HOSPITAL
    assert Hl7Message.objects.get().status == "applied"


def test_a_known_hospital_number_finds_the_patient_without_an_nhs_number(ward, ward_code):
    send(adt("A01", "M1", at=hours_ago(5)))
    receipt = send(adt("A08", "M2", nhs_number="", family_name="JONES"))
    assert receipt.code == "AA", receipt.text
    assert the_admission().patient.family_name == "JONES"
    assert "no_nhs_number" in Hl7Message.objects.get(control_id="M2").flags


def test_an_unknown_ward_is_created_unmapped_and_flagged(ward, site_code):
    receipt = send(adt("A01", "M1", ward="NEWW", at=hours_ago(2)))
    assert receipt.code == "AA", receipt.text
    code = WardCode.objects.get(code="NEWW")
    assert code.mapped is False and code.ward.site == ward.site
    assert the_admission().current_ward == code.ward
    assert "unmapped_ward" in Hl7Message.objects.get().flags
    assert "unmapped_ward" in receipt.text


def test_an_unknown_site_is_refused_listed_for_mapping_and_replayable(ward, council):
    receipt = send(adt("A01", "M1", site="NOWHERE", at=hours_ago(2)))
    assert receipt.code == "AE"
    assert "NOWHERE" in receipt.text
    assert "ERR|" in receipt.ack
    row = Hl7Message.objects.get()
    assert row.status == "failed"
    assert not Admission.objects.exists() and not Patient.objects.exists()
    code = SiteCode.objects.get(code="NOWHERE")
    assert code.site is None
    code.site, code.default_local_authority = ward.site, council
    code.save()
    WardCode.objects.create(site=ward.site, code="W7", ward=ward)
    replayed = services.hl7_message_replay(message=row)
    assert replayed.code == "AA", replayed.text
    assert the_admission().current_ward == ward
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("applied", 2)


def test_a_failed_message_applies_nothing_at_all(ward, ward_code):
    # The patient would be created, but the admission time is in the future: all rolls back.
    receipt = send(adt("A01", "M1", at=timezone.now() + dt.timedelta(days=2)))
    assert receipt.code == "AE"
    assert "admitted_at" in receipt.text
    assert not Patient.objects.exists()
    assert not PatientIdentifier.objects.exists()


def test_a_new_patient_without_a_council_is_refused_naming_the_field(ward, ward_code):
    SiteCode.objects.update(default_local_authority=None)
    receipt = send(adt("A01", "M1", at=hours_ago(1)))
    assert receipt.code == "AE"
    assert "PID-11.9" in receipt.text


def test_the_council_code_in_the_address_is_used(ward, ward_code, other_council):
    send(adt("A01", "M1", at=hours_ago(1), council=other_council.ods_code))
    assert the_admission().patient.local_authority == other_council


def test_register_and_preadmit_record_the_patient_only(ward, ward_code):
    assert send(adt("A04", "M1")).code == "AA"
    assert send(adt("A05", "M2", family_name="BROWN")).code == "AA"
    patient = Patient.objects.get(nhs_number=NHS_NUMBER)
    assert patient.family_name == "BROWN"
    assert not Admission.objects.exists()


def test_an_outpatient_visit_is_ignored(ward, ward_code):
    receipt = send(adt("A01", "M1", patient_class="O"))
    assert receipt.code == "AA"
    assert Hl7Message.objects.get().status == "ignored"
    assert not Admission.objects.exists()


def test_an_unreadable_message_is_refused_and_kept(db):
    receipt = send("this is not HL7")
    assert receipt.code == "AR"
    row = Hl7Message.objects.get()
    assert row.status == "failed" and "MSH" in row.reason


def test_changes_are_audited_with_the_message_control_id(ward, ward_code):
    send(adt("A01", "CTRL-9", at=hours_ago(2)))
    event = pghistory.models.Events.objects.references(the_admission()).first()
    assert event.pgh_context["source"] == "hl7"
    assert event.pgh_context["message_control_id"] == "CTRL-9"


def test_an_internal_error_is_a_nack_not_a_crash(ward, ward_code, monkeypatch):
    from interop.hl7 import apply

    def broken(message, feed):
        raise RuntimeError("boom")

    monkeypatch.setitem(apply.HANDLERS, "A01", broken)
    receipt = send(adt("A01", "M1"))
    assert receipt.code == "AE"
    assert "Internal error" in receipt.text
    assert Hl7Message.objects.get().status == "failed"
