"""FHIR R4 export: resources validated against the fhir.resources models, scoped like every read."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.goal import Goal as FhirGoal
from fhir.resources.R4B.patient import Patient as FhirPatient

from discharge import services as discharge
from discharge.models import PatientRecordView
from recovery_plans import services as plans
from tests.factories import WardFactory, recovery_plan_for
from tests.interop.conftest import bearer, signed_in

pytestmark = pytest.mark.django_db


def fhir_get(client, name, *args, **headers):
    response = client.get(reverse(f"api:fhir-{name}", args=args), **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    return response.json()


@pytest.fixture
def journey(admission, ward, ward_nurse):
    """An admission moved once and discharged home on pathway 1, with a plan, a goal and an action."""
    other = WardFactory(site=ward.site, name="Ward 9")
    moved = timezone.now() - dt.timedelta(days=1)
    discharge.admission_transfer(
        admission=admission, ward=other, by=ward_nurse, moved_at=moved, bed_label="C3"
    )
    plan = recovery_plan_for(admission, ward_nurse)
    goal = plans.goal_add(
        plan=plan, by=ward_nurse, description="Make my own tea", measure="Every morning"
    )
    plans.action_add(
        plan=plan,
        by=ward_nurse,
        what="Fit a rail",
        owner_organisation=admission.patient.local_authority,
        due_date=timezone.localdate() + dt.timedelta(days=3),
    )
    discharge.admission_discharge(
        admission=admission,
        by=ward_nurse,
        discharged_at=timezone.now(),
        destination="usual_residence",
        actual_pathway="1",
        expected_version=None,
    )
    admission.refresh_from_db()
    return admission, plan, goal


def test_patient_carries_the_nhs_number_and_validates(client, admission, ward_nurse):
    signed_in(client, ward_nurse)
    resource = fhir_get(client, "patient", admission.patient_id)
    FhirPatient.model_validate(resource)
    assert resource["identifier"] == [
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": admission.patient.nhs_number}
    ]
    assert PatientRecordView.objects.filter(user=ward_nurse, patient=admission.patient).exists()


def test_encounter_has_period_class_locations_and_discharge(client, journey, ward_nurse):
    admission, _plan, _goal = journey
    signed_in(client, ward_nurse)
    resource = fhir_get(client, "encounter", admission.pk)
    Encounter.model_validate(resource)
    assert resource["status"] == "finished"
    assert resource["class"]["code"] == "IMP"
    assert resource["period"]["start"].startswith(admission.admitted_at.strftime("%Y-%m-%d"))
    assert "end" in resource["period"]
    locations = resource["location"]
    assert [loc["status"] for loc in locations] == ["completed", "completed"]
    assert locations[1]["location"]["display"] == "Ward 9, bed C3"
    hospitalization = resource["hospitalization"]
    assert hospitalization["dischargeDisposition"]["coding"][0]["code"] == "home"
    assert hospitalization["destination"]["display"] == "Usual place of residence"
    assert resource["type"] == [{"text": "Discharge to Assess pathway 1"}]


def test_care_plan_and_goal_validate(client, journey, ward_nurse):
    _admission, plan, goal = journey
    signed_in(client, ward_nurse)
    care_plan = fhir_get(client, "careplan", plan.pk)
    CarePlan.model_validate(care_plan)
    assert care_plan["goal"] == [{"reference": f"Goal/{goal.pk}"}]
    assert care_plan["activity"][0]["detail"]["description"] == "Fit a rail"
    resource = fhir_get(client, "goal", goal.pk)
    FhirGoal.model_validate(resource)
    assert resource["description"]["text"] == "Make my own tea"
    assert resource["lifecycleStatus"] == "proposed"


def test_the_patient_bundle_holds_everything_and_validates(client, journey, ward_nurse):
    admission, plan, goal = journey
    signed_in(client, ward_nurse)
    resource = fhir_get(client, "patient-everything", admission.patient_id)
    Bundle.model_validate(resource)
    kinds = [e["resource"]["resourceType"] for e in resource["entry"]]
    assert kinds == ["Patient", "Encounter", "CarePlan", "Goal"]
    urls = [e["fullUrl"] for e in resource["entry"]]
    assert urls[2].endswith(f"/api/v1/fhir/CarePlan/{plan.pk}")
    assert urls[3].endswith(f"/api/v1/fhir/Goal/{goal.pk}")


def test_a_cancelled_admission_is_entered_in_error_without_locations(client, admission, ward_nurse):
    discharge.admission_cancel(admission=admission, by=ward_nurse)
    signed_in(client, ward_nurse)
    resource = fhir_get(client, "encounter", admission.pk)
    Encounter.model_validate(resource)
    assert resource["status"] == "entered-in-error"
    assert "location" not in resource


def test_a_client_token_reads_fhir_for_its_organisation(client, admission, api_token):
    resource = fhir_get(client, "encounter", admission.pk, **bearer(api_token))
    assert resource["status"] == "in-progress"
    assert resource["location"][0]["status"] == "active"


def test_the_family_member_reads_their_plan_but_not_the_patient_record(
    client, journey, family_member
):
    from recovery_plans.models import Participant

    admission, plan, goal = journey
    Participant.objects.create(plan=plan, user=family_member, kind="family")
    signed_in(client, family_member)
    assert client.get(reverse("api:fhir-careplan", args=[plan.pk])).status_code == 200
    assert client.get(reverse("api:fhir-goal", args=[goal.pk])).status_code == 200
    assert client.get(reverse("api:fhir-patient", args=[admission.patient_id])).status_code == 404
    assert client.get(reverse("api:fhir-encounter", args=[admission.pk])).status_code == 404
