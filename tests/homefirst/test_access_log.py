"""The access log: every page, partial, print and API read that shows who a person is writes
one row per person shown (who, whose, which page, from where); 404s, 304s and writes do not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from discharge import services as discharge_services
from discharge.models import Admission, Patient, PatientRecordView
from pathways import services as pathways_services
from pathways.models import Referral
from pathways.transitions import Action
from tests.homefirst.world import World, sign_in

pytestmark = pytest.mark.django_db

ADDRESS = "10.20.30.40"
HTMX = {"HTTP_HX_REQUEST": "true"}


def on_the_ward(w: World) -> set[int]:
    """Everyone in a bed on the nurse's ward (the world's patient and one the PAS admitted)."""
    inpatients = Admission.objects.filter(current_ward=w.ward, status=Admission.Status.IN_HOSPITAL)
    return set(inpatients.values_list("patient_id", flat=True))


def at_the_trust(w: World) -> set[int]:
    """Everyone admitted to the nurse's trust: what the API lists for them."""
    return set(
        Patient.objects.filter(admissions__site__organisation=w.trust).values_list("pk", flat=True)
    )


def the_patient(w: World) -> set[int]:
    return {w.patient.pk}


@dataclass(frozen=True)
class Logged:
    """A read that shows who people are, as a persona who may see it, and whom it shows."""

    name: str
    persona: str
    kwargs: Callable[[World], dict]
    shown: Callable[[World], set[int]] = the_patient
    htmx: bool = False

    @property
    def id(self) -> str:
        return f"{self.name}-{self.persona}"


def admission(w: World) -> dict:
    return {"admission_id": w.admission.pk}


def nothing(w: World) -> dict:
    return {}


LOGGED = [
    # The ward board, its printout and its rows.
    Logged("discharge:board", "ward_nurse", lambda w: {"ward_id": w.ward.pk}, on_the_ward),
    Logged("discharge:board_print", "ward_nurse", lambda w: {"ward_id": w.ward.pk}, on_the_ward),
    *[
        Logged(f"discharge:{name}", "discharge_coordinator", admission, htmx=True)
        for name in ("row", "row_ctr", "row_edd", "row_pathway", "row_delay", "row_discharge")
    ],
    Logged(
        "pathways:ward_referral_statuses",
        "ward_nurse",
        lambda w: {"ward_id": w.ward.pk},
        on_the_ward,
        htmx=True,
    ),
    Logged("discharge:patient", "social_worker", lambda w: {"patient_id": w.patient.pk}),
    # Transfers of care: the hub queue, the tracker, the referral and the ward's referring.
    Logged("pathways:hub_queue", "social_worker", nothing),
    Logged("pathways:hub_queue_rows", "discharge_coordinator", nothing, htmx=True),
    Logged("pathways:tracker", "provider_carer", nothing),
    Logged("pathways:referral", "provider_carer", lambda w: {"referral_id": w.referral.pk}),
    Logged("pathways:refer", "ward_nurse", admission),
    # The recovery plan's pages.
    *[
        Logged(f"recovery_plans:{name}", persona, lambda w: {"plan_id": w.plan.pk})
        for name, persona in (
            ("plan", "family_member"),
            ("print", "social_worker"),
            ("history", "provider_carer"),
            ("people", "ward_nurse"),
            ("close", "discharge_coordinator"),
        )
    ],
    # The API: lists log everyone on the page they answer with.
    Logged("api:patient-list", "ward_nurse", nothing, at_the_trust),
    Logged("api:admission-list", "ward_nurse", nothing, at_the_trust),
    Logged("api:plan-list", "ward_nurse", nothing),
    Logged("api:referral-list", "ward_nurse", nothing),
    Logged("api:patient-detail", "ward_nurse", lambda w: {"pk": w.patient.pk}),
    *[
        Logged(f"api:admission-{name}", "social_worker", lambda w: {"pk": w.admission.pk})
        for name in ("detail", "delays", "edd", "pathway", "reviews", "ward-stays")
    ],
    Logged("api:plan-detail", "family_member", lambda w: {"pk": w.plan.pk}),
    Logged("api:goal-detail", "family_member", lambda w: {"pk": w.items["goals"]}),
    Logged("api:action-detail", "provider_carer", lambda w: {"pk": w.items["actions"]}),
    Logged("api:referral-detail", "provider_carer", lambda w: {"pk": w.referral.pk}),
    Logged("api:referral-transitions", "social_worker", lambda w: {"pk": w.referral.pk}),
    # FHIR reads of every resource about the person.
    Logged("api:fhir-patient", "ward_nurse", lambda w: {"pk": w.patient.pk}),
    Logged("api:fhir-patient-everything", "ward_nurse", lambda w: {"pk": w.patient.pk}),
    Logged("api:fhir-encounter", "social_worker", lambda w: {"pk": w.admission.pk}),
    Logged("api:fhir-careplan", "family_member", lambda w: {"pk": w.plan.pk}),
    Logged("api:fhir-goal", "family_member", lambda w: {"pk": w.items["goals"]}),
    Logged("api:fhir-episodeofcare", "provider_carer", lambda w: {"pk": w.referral.pk}),
]


@pytest.mark.parametrize("read", [pytest.param(r, id=r.id) for r in LOGGED])
def test_each_read_logs_who_whose_where_and_from_where(client, world, read):
    sign_in(client, world, read.persona)
    url = reverse(read.name, kwargs=read.kwargs(world))
    before = timezone.now()
    response = client.get(url, REMOTE_ADDR=ADDRESS, **(HTMX if read.htmx else {}))
    assert response.status_code == 200
    logged = list(PatientRecordView.objects.filter(viewed_at__gte=before))
    expected = read.shown(world)
    assert expected, "the read must show someone for this test to mean anything"
    assert sorted(v.patient_id for v in logged) == sorted(expected)  # one row a person
    user = world.people[read.persona]
    assert {(v.user_id, v.path, v.ip_address) for v in logged} == {(user.pk, url, ADDRESS)}


def test_the_91_day_checks_log_the_people_due(client, world):
    """Built here: the world's person has not been home 91 days yet."""
    # Fresh copies: the services may change what they are given, and the world is shared.
    referral = Referral.objects.get(pk=world.referral.pk)
    admission = Admission.objects.get(pk=world.admission.pk)
    carer = world.people["provider_carer"]
    pathways_services.referral_transition(
        referral=referral,
        by=carer,
        action=Action.ACCEPT,
        expected_version=referral.version,
        start_date=timezone.localdate(),
    )
    discharge_services.admission_discharge(
        admission=admission,
        by=world.people["ward_nurse"],
        discharged_at=timezone.now(),
        destination="usual_residence",
        actual_pathway="1",
        expected_version=None,
    )
    left = timezone.now() - dt.timedelta(days=95)
    Admission.objects.filter(pk=world.admission.pk).update(
        admitted_at=left - dt.timedelta(days=3), discharged_at=left
    )
    sign_in(client, world, "social_worker")
    before = timezone.now()
    url = reverse("pathways:at_home_checks")
    assert client.get(url, REMOTE_ADDR=ADDRESS).status_code == 200
    logged = PatientRecordView.objects.filter(viewed_at__gte=before)
    assert [(v.patient_id, v.user_id, v.path, v.ip_address) for v in logged] == [
        (world.patient.pk, world.people["social_worker"].pk, url, ADDRESS)
    ]


def test_a_list_logs_everyone_on_it_in_one_insert(client, world):
    sign_in(client, world, "ward_nurse")
    url = reverse("discharge:board", args=[world.ward.pk])
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([q for q in sql if 'INSERT INTO "discharge_patientrecordview"' in q]) == 1
    assert PatientRecordView.objects.filter(path=url).count() == len(on_the_ward(world)) == 2


def test_a_record_out_of_reach_logs_nothing(client, world):
    outsider = world.people["outsider"]
    sign_in(client, world, "outsider")
    for url in (
        reverse("discharge:board", args=[world.ward.pk]),
        reverse("discharge:patient", args=[world.patient.pk]),
        reverse("api:patient-detail", args=[world.patient.pk]),
    ):
        assert client.get(url).status_code == 404
    assert not PatientRecordView.objects.filter(user=outsider).exists()
    # Their own trust's patient, listed, is logged; ours, not listed, is not.
    listed = client.get(reverse("api:patient-list")).json()["results"]
    logged = PatientRecordView.objects.filter(user=outsider).values_list("patient_id", flat=True)
    assert [p["id"] for p in listed] == list(logged) != [world.patient.pk]


def test_a_poll_answered_not_modified_logs_nothing(client, world):
    # The board's referral statuses: their ETag has no clock in it (the hub queue's has).
    sign_in(client, world, "ward_nurse")
    url = reverse("pathways:ward_referral_statuses", args=[world.ward.pk])
    first = client.get(url, **HTMX)
    count = PatientRecordView.objects.count()
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **HTMX)
    assert again.status_code == 304
    assert PatientRecordView.objects.count() == count


def test_a_write_is_audited_not_logged_as_a_view(client, world):
    sign_in(client, world, "ward_nurse")
    before = PatientRecordView.objects.count()
    response = client.post(
        reverse("discharge:row_edd", args=[world.admission.pk]),
        {"expected_version": world.admission.version, "expected_discharge_date": "not a date"},
        **HTMX,
    )
    assert response.status_code == 422
    assert PatientRecordView.objects.count() == before
