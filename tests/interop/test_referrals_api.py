"""Transfers of care in the API and as FHIR EpisodeOfCare, scoped like the hub's pages."""

import pytest
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.episodeofcare import EpisodeOfCare

from pathways.models import Referral
from pathways.transitions import State
from tests.factories import ReferralFactory, ServiceFactory
from tests.interop.conftest import bearer, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(admission, ward_nurse):
    return ReferralFactory(admission=admission, referred_by=ward_nurse)


def step(client, referral, payload, **headers):
    etag = client.get(reverse("api:referral-detail", args=[referral.pk]), **headers)["ETag"]
    return client.post(
        reverse("api:referral-transitions", args=[referral.pk]),
        payload,
        content_type="application/json",
        HTTP_IF_MATCH=etag,
        **headers,
    )


def test_the_ward_refers_through_the_api(client, admission, api_token):
    response = client.post(
        reverse("api:referral-list"),
        {
            "admission": admission.pk,
            "pathway": "1",
            "needs": "Help to wash",
            "home_situation": "Lives alone",
            "consent": "given",
            "preferred_outcome": "Home",
        },
        content_type="application/json",
        **bearer(api_token),
    )
    assert response.status_code == 201, response.content
    assert Referral.objects.get().state == State.REFERRED


def test_the_hub_and_the_provider_take_their_steps(
    client, referral, social_worker, provider, council, provider_carer
):
    service = ServiceFactory(provider=provider, councils=[council])
    signed_in(client, social_worker)
    assert step(client, referral, {"action": "triage", "pathway": "1"}).status_code == 201
    assert step(client, referral, {"action": "offer", "service": service.pk}).status_code == 201
    client.logout()
    signed_in(client, provider_carer)
    accepted = step(
        client, referral, {"action": "accept", "start_date": referral.created_at.date().isoformat()}
    )
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["state"] == "accepted"
    history = client.get(reverse("api:referral-transitions", args=[referral.pk])).json()
    assert [h["action"] for h in history] == ["refer", "triage", "offer", "accept"]


def test_a_step_not_allowed_from_here_is_400_and_one_not_yours_is_403(
    client, referral, ward_nurse, social_worker
):
    signed_in(client, social_worker)
    illegal = step(client, referral, {"action": "accept"})
    assert illegal.status_code == 400 and "action" in illegal.json()
    client.logout()
    signed_in(client, ward_nurse)
    assert step(client, referral, {"action": "triage", "pathway": "1"}).status_code == 403


def test_a_stale_referral_etag_is_412(client, referral, social_worker):
    signed_in(client, social_worker)
    response = client.post(
        reverse("api:referral-transitions", args=[referral.pk]),
        {"action": "triage", "pathway": "1"},
        content_type="application/json",
        HTTP_IF_MATCH=f'"referral-{referral.pk}-v0"',
    )
    assert response.status_code == 412


@pytest.mark.parametrize(
    "persona", ["outsider", "system_leader", "family_member", "provider_carer"]
)
def test_referrals_are_404_for_those_who_may_not_see_them(client, request, persona, referral):
    signed_in(client, request.getfixturevalue(persona))
    assert client.get(reverse("api:referral-detail", args=[referral.pk])).status_code == 404
    assert client.get(reverse("api:referral-transitions", args=[referral.pk])).status_code == 404
    assert client.get(reverse("api:fhir-episodeofcare", args=[referral.pk])).status_code == 404
    assert client.get(reverse("api:referral-list")).json()["results"] == []
    blocked = client.post(
        reverse("api:referral-transitions", args=[referral.pk]),
        {"action": "withdraw"},
        content_type="application/json",
        HTTP_IF_MATCH="*",
    )
    assert blocked.status_code == 404


def test_referrals_are_404_for_another_trusts_client(client, referral, other_trust_token):
    assert (
        client.get(
            reverse("api:referral-detail", args=[referral.pk]), **bearer(other_trust_token)
        ).status_code
        == 404
    )
    assert (
        client.get(
            reverse("api:fhir-episodeofcare", args=[referral.pk]), **bearer(other_trust_token)
        ).status_code
        == 404
    )


def test_episode_of_care_validates_and_follows_the_steps(
    client, referral, social_worker, ward_nurse
):
    signed_in(client, social_worker)
    step(client, referral, {"action": "triage", "pathway": "1"})
    resource = client.get(reverse("api:fhir-episodeofcare", args=[referral.pk])).json()
    EpisodeOfCare.model_validate(resource)
    assert resource["status"] == "waitlist"
    assert resource["patient"] == {"reference": f"Patient/{referral.admission.patient_id}"}
    assert "pathway 1" in resource["type"][0]["text"]
    client.logout()
    signed_in(client, ward_nurse)
    bundle = client.get(
        reverse("api:fhir-patient-everything", args=[referral.admission.patient_id])
    ).json()
    Bundle.model_validate(bundle)
    assert "EpisodeOfCare" in [e["resource"]["resourceType"] for e in bundle["entry"]]
