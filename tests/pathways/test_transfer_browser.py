"""A transfer of care as the ward, the hub and the provider click through it, each in their own browser."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from discharge import services as discharge_services
from discharge.models import DelayEpisode
from pathways.models import Referral
from pathways.transitions import State
from tests.pathways.conftest import PHONE, drive

# The live server needs committed data; serialized_rollback restores the reference data.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LIVE = 15_000  # polled regions refresh every 5 seconds: allow three polls


def test_ward_refers_hub_offers_provider_accepts_ward_discharges_provider_visits(
    open_as, admission, service, ward_nurse, social_worker, provider_carer
):
    discharge_services.ctr_review_record(admission=admission, by=ward_nurse, expected_version=None)
    patient = admission.patient
    name = patient.full_name
    patient_path = f"/patients/{patient.pk}/"

    # The hub has its queue open all along; so has the ward the patient's page.
    queue = open_as(social_worker, "/pathways/hub/")
    expect(queue.locator("#queue-rows")).to_contain_text("No referrals match")
    ward = open_as(ward_nurse, patient_path)
    transfers = ward.locator(f"#transfers-{admission.pk}")
    expect(transfers).to_contain_text("No referral to the care transfer hub")

    # 1. The ward refers, on one form, from a second tab.
    form = ward.context.new_page()
    form.goto(ward.url)
    form.locator(f"#transfers-{admission.pk}").get_by_role(
        "link", name="Refer to the care transfer hub"
    ).click()
    form.get_by_label("The person's needs").fill("Help to wash and dress; walks with a frame.")
    form.get_by_label("Home situation").fill("Lives alone in a bungalow; key safe.")
    form.get_by_label("Consent to the referral").select_option("given")
    form.get_by_label("What the person wants").fill("To be back in her own home.")
    form.get_by_role("button", name="Send the referral").click()
    expect(form.locator("#referral-status")).to_contain_text("Referred to the hub")
    referral = Referral.objects.get()

    # The hub's queue and the patient page show it without a reload.
    row = queue.locator(f"#queue-row-{referral.pk}")
    expect(row).to_contain_text("Referred to the hub", timeout=LIVE)
    expect(row).to_contain_text("Triage within 4 working hours")
    expect(transfers).to_contain_text("Referred to the hub", timeout=LIVE)

    # 2. The hub triages (pathway 1 confirmed) and offers to the reablement service.
    hub = queue.context.new_page()
    hub.goto(queue.url)
    hub.get_by_role("link", name=f"{patient.family_name.upper()}, {patient.given_name}").click()
    triage = hub.locator("#step-triage")
    expect(triage.get_by_label("Confirmed pathway")).to_have_value("1")
    triage.get_by_role("button", name="Triage: confirm or change the pathway").click()
    expect(hub.locator("#referral-status")).to_contain_text("Triaged by the hub")
    expect(row).to_contain_text("Triaged by the hub", timeout=LIVE)
    expect(transfers).to_contain_text("Triaged by the hub", timeout=LIVE)
    offer = hub.locator("#step-offer")
    offer.get_by_label("Service").select_option(str(service.pk))
    offer.get_by_role("button", name="Offer to a service").click()
    expect(hub.locator("#referral-status")).to_contain_text("Offered to a service")
    expect(row).to_contain_text("Offered to a service", timeout=LIVE)
    expect(row).to_contain_text(
        "Home-based rehabilitation, reablement or recovery services not yet available"
    )
    expect(transfers).to_contain_text("Reablement at home", timeout=LIVE)

    # 3. The provider, on a phone, answers the offer with a start date.
    carer = open_as(provider_carer, "/pathways/tracker/", viewport=PHONE)
    carer.get_by_role("link", name=f"Answer the offer for {name}").click()
    accept = carer.locator("#step-accept")
    accept.get_by_label("Start date").fill(timezone.localdate().isoformat())
    accept.get_by_role("button", name="Accept with a start date").click()
    expect(carer.locator("#referral-status")).to_contain_text("Accepted with a start date")
    expect(row).to_contain_text("Accepted with a start date", timeout=LIVE)
    expect(transfers).to_contain_text("Start date", timeout=LIVE)

    # 4. The ward discharges from the board, where the row shows the referral too.
    form.goto(form.url.split("/pathways/")[0] + f"/wards/{admission.current_ward_id}/")
    form.wait_for_load_state("load")
    board_row = form.locator(f"#admission-{admission.pk}")
    expect(board_row).to_contain_text("Accepted with a start date")
    board_row.get_by_role("button", name=f"Discharge {name}").click()
    board_row.get_by_label("Destination").select_option("usual_residence")
    board_row.get_by_label("Pathway on discharge").select_option("1")
    board_row.get_by_role("button", name="Save").click()
    expect(board_row).to_contain_text("left hospital")
    expect(row).to_contain_text("Discharged, awaiting first visit", timeout=LIVE)
    expect(transfers).to_contain_text("Discharged, awaiting first visit", timeout=LIVE)

    # 5. The provider records the first visit in one tap.
    carer.goto(carer.url.split("/pathways/")[0] + "/pathways/tracker/")
    card = carer.locator(f"#tracker-{referral.pk}")
    card.get_by_role("button", name=f"First visit done for {name}").click()
    expect(card.get_by_role("status")).to_have_text("Saved: first visit done")
    expect(card).to_contain_text("Service started")

    # The hub's waiting queue lets them go; the patient page shows the service started.
    expect(row).to_have_count(0, timeout=LIVE)
    expect(transfers).to_contain_text("Service started", timeout=LIVE)
    expect(transfers).to_contain_text("First visit")
    queue.goto(queue.url + "?stage=started")
    expect(queue.locator(f"#queue-row-{referral.pk}")).to_contain_text("Service started")

    referral.refresh_from_db()
    assert referral.state == State.STARTED
    assert [t.action for t in referral.transitions.all()] == [
        "refer",
        "triage",
        "offer",
        "accept",
        "discharge",
        "first_visit",
    ]


def test_the_ward_confirms_the_suggested_delay_reason_on_the_board(
    open_as, referral, ward_nurse, everyone, service
):
    admission = referral.admission
    discharge_services.ctr_review_record(admission=admission, by=ward_nurse, expected_version=None)
    drive(referral, State.OFFERED, by=everyone, service=service)
    board = open_as(ward_nurse, f"/wards/{admission.current_ward_id}/")
    row = board.locator(f"#admission-{admission.pk}")
    expect(row).to_contain_text("Suggested delay reason")
    name = admission.patient.full_name
    # The button sends the suggestion and the delay it shows; the service checks both.
    row.get_by_role("button", name=f"Confirm suggested delay reason for {name}").click()
    expect(row).to_contain_text("Saved: delay reason")
    assert DelayEpisode.objects.get(admission=admission).reason_id == "CAP05"
    expect(row).not_to_contain_text("Suggested delay reason")
