"""The board round as a ward nurse clicks through it, in the system Chromium."""

import re

import pytest
from playwright.sync_api import expect

from discharge.models import Admission, DelayEpisode
from tests.factories import AdmissionFactory

# The live server needs committed data; serialized_rollback restores the reference data
# (criteria, delay reasons, pathways) that migrations load and the flush after the test removes.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_nurse_reviews_sets_a_delay_and_discharges_from_the_board(
    sign_in, ward_nurse, ward, council
):
    patient_admission = AdmissionFactory(
        current_ward=ward, patient__local_authority=council, bed_label="B1"
    )
    AdmissionFactory(current_ward=ward, patient__local_authority=council, bed_label="B2")
    page = sign_in(ward_nurse)

    page.get_by_role("link", name=ward.name).click()
    page.wait_for_load_state("load")  # htmx has wired up the row buttons
    expect(page.get_by_role("heading", level=1)).to_contain_text(ward.name)
    nctr = page.locator('[data-count="nctr"]')
    inpatients = page.locator('[data-count="inpatients"]')
    expect(nctr).to_have_text("0")
    expect(inpatients).to_have_text("2")

    row = page.locator(f"#admission-{patient_admission.pk}")
    name = patient_admission.patient.full_name

    # Today's review finds no criterion met: the patient no longer meets the criteria to reside.
    row.get_by_role("button", name=f"Review criteria to reside for {name}").click()
    expect(row.get_by_role("checkbox", name=re.compile("oxygen"))).to_be_visible()
    row.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("NCTR since")
    expect(row).to_contain_text("Reason needed")
    expect(nctr).to_have_text("1")

    # Why they are still here.
    row.get_by_role("button", name=f"Set delay reason for {name}").click()
    row.get_by_label("Delay reason").select_option("CAP05")
    row.get_by_role("button", name="Save").click()
    expect(row.get_by_role("status")).to_have_text("Saved: delay reason")
    expect(row).to_contain_text(
        "Home-based rehabilitation, reablement or recovery services not yet available"
    )

    # The discharge, typed with the keyboard as on a ward PC.
    row.get_by_role("button", name=f"Discharge {name}").click()
    row.get_by_label("Destination").select_option("usual_residence")
    row.get_by_label("Pathway on discharge").select_option("1")
    row.get_by_role("button", name="Save").focus()
    page.keyboard.press("Enter")
    expect(row).to_contain_text("left hospital")
    expect(inpatients).to_have_text("1")
    expect(nctr).to_have_text("0")

    patient_admission.refresh_from_db()
    assert patient_admission.status == Admission.Status.DISCHARGED
    assert not DelayEpisode.objects.filter(admission=patient_admission, ended_at=None).exists()
