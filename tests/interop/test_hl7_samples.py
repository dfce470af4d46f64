"""Every sample ADT message in tests/data/hl7v2 goes through the pipeline cleanly: applied, held, ignored or refused with a reason."""

import datetime as dt

import pytest

from discharge.models import Admission, Patient
from interop import services
from interop.hl7.parse import parse
from interop.models import Hl7Message, PatientIdentifier, SiteCode
from tests.factories import PatientFactory
from tests.interop.conftest import SAMPLES

pytestmark = pytest.mark.django_db

SAMPLE_FILES = sorted(p.name for p in SAMPLES.glob("*.hl7"))

# What each sample is: US-style test data with pre-admit visits (PV1-2 'P') and no NHS number.
EXPECTED = {
    "ADT-A01-01.hl7": ("ignored", "not_inpatient"),
    "ADT-A01-02.hl7": ("ignored", "not_inpatient"),
    "ADT-A02-01.hl7": ("ignored", "not_inpatient"),
    "ADT-A02-02.hl7": ("ignored", "not_inpatient"),
    "ADT-A03-01.hl7": ("ignored", "not_inpatient"),
    "ADT-A03-02.hl7": ("ignored", "not_inpatient"),
    "ADT-A04-01.hl7": ("held", "no_nhs_number"),
    "ADT-A04-02.hl7": ("held", "no_nhs_number"),
    "ADT-A08-01.hl7": ("held", "no_nhs_number"),
    "ADT-A08-02.hl7": ("held", "no_nhs_number"),
    "ADT-A11-01.hl7": ("ignored", "not_inpatient"),
    "ADT-A11-02.hl7": ("ignored", "not_inpatient"),
    "ADT-A13-01.hl7": ("ignored", "not_inpatient"),
    "ADT-A13-02.hl7": ("ignored", "not_inpatient"),
}


@pytest.fixture
def homerton(ward, council):
    return SiteCode.objects.create(
        code="HOMERTON UNIVER", site=ward.site, default_local_authority=council
    )


def test_every_sample_has_an_expected_outcome():
    assert sorted(EXPECTED) == SAMPLE_FILES
    assert (SAMPLES / "LICENSE-MIT").exists()


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_each_sample_is_acknowledged_with_its_outcome_and_reason(name, homerton):
    receipt = services.hl7_message_receive(raw=(SAMPLES / name).read_bytes(), via="file")
    status, flag = EXPECTED[name]
    row = Hl7Message.objects.get()
    assert receipt.code == "AA"
    assert receipt.ack.startswith("MSH|^~\\&|EHRApp|GHHRFacility|ADTApp|GHHSFacility|")
    assert "\rMSA|AA|MSG00001|" in receipt.ack
    assert (row.status, row.event) == (status, name[4:7])
    assert flag in row.flags
    assert row.reason and row.reason in receipt.text
    assert not Admission.objects.exists()


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_each_sample_reads_its_times_as_utc(name):
    message = parse((SAMPLES / name).read_bytes())
    # MSH-7 198908181126+0215 and EVN-6 20210817151943.4+0200: odd offsets, honoured.
    assert message.sent_at == dt.datetime(1989, 8, 18, 9, 11, tzinfo=dt.UTC)
    assert message.event_at == dt.datetime(2021, 8, 17, 13, 19, 43, 400000, tzinfo=dt.UTC)
    assert message.patient.nhs_number is None
    # The US social security number is not kept; the hospital numbers are.
    assert "123456789" not in {i.value for i in message.patient.local_identifiers}
    assert message.patient.date_of_birth == dt.date(1988, 8, 18)


def test_the_held_samples_apply_once_their_hospital_number_is_linked(homerton, council):
    for name in ("ADT-A04-01.hl7", "ADT-A08-02.hl7"):
        raw = (SAMPLES / name).read_bytes()
        # Each sample on its own: they share one control ID, so give the second its own sender.
        if name == "ADT-A08-02.hl7":
            raw = raw.replace(b"|ADTApp|", b"|ADTApp2|", 1)
        services.hl7_message_receive(raw=raw, via="file")
    patient = PatientFactory(local_authority=council)
    identifier = PatientIdentifier.objects.get(value="PATID1234")
    assert identifier.patient is None and "no NHS number" in identifier.flag
    receipts = services.patient_identifier_link(identifier=identifier, patient=patient)
    assert [r.code for r in receipts] == ["AA", "AA"]
    patient.refresh_from_db()
    assert (patient.given_name, patient.family_name) == ("ADAM", "EVERYMAN")
    assert patient.date_of_birth == dt.date(1988, 8, 18)
    assert patient.sex == "male"
    assert set(Hl7Message.objects.values_list("status", flat=True)) == {"applied"}
    assert Patient.objects.count() == 1


def test_the_samples_in_one_stream_refuse_the_reused_control_id(homerton):
    receipts = [
        services.hl7_message_receive(raw=(SAMPLES / name).read_bytes(), via="file")
        for name in SAMPLE_FILES
    ]
    # All fourteen carry MSG00001 from the same sender: only the first is taken.
    assert receipts[0].code == "AA"
    assert {r.code for r in receipts[1:]} == {"AE"}
    assert all("MSH-10" in r.text for r in receipts[1:])
    assert Hl7Message.objects.count() == len(SAMPLE_FILES)


def test_a_sample_sent_twice_is_one_message(homerton):
    raw = (SAMPLES / "ADT-A01-01.hl7").read_bytes()
    services.hl7_message_receive(raw=raw, via="mllp")
    second = services.hl7_message_receive(raw=raw.replace(b"\n", b"\r\n"), via="mllp")
    assert second.duplicate and second.code == "AA"
    assert Hl7Message.objects.get().duplicates == 1
