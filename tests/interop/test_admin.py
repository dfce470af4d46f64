"""The interop admin: the dead-letter list with replay, code tables, identifiers, API clients."""

import pytest
from django.urls import reverse

from discharge.models import Admission
from interop import services
from interop.models import ApiClient, Hl7Message, PatientIdentifier, SiteCode
from tests.factories import PatientFactory, UserFactory
from tests.interop.conftest import adt, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_session(client):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    return signed_in(client, admin)


def test_failed_messages_are_listed_and_replayed_after_the_site_is_mapped(
    admin_session, ward, council
):
    from interop.models import WardCode

    services.hl7_message_receive(raw=adt("A01", "D1", site="NEWSITE"), via="mllp")
    listing = admin_session.get(
        reverse("admin:interop_hl7message_changelist"), {"status__exact": "failed"}
    )
    assert listing.status_code == 200 and "D1" in listing.content.decode()
    SiteCode.objects.filter(code="NEWSITE").update(site=ward.site, default_local_authority=council)
    WardCode.objects.create(site=ward.site, code="W7", ward=ward)
    response = admin_session.post(
        reverse("admin:interop_hl7message_changelist"),
        {"action": "replay", "_selected_action": [Hl7Message.objects.get().pk]},
        follow=True,
    )
    assert "Replayed 1: 1 accepted" in response.content.decode()
    assert Hl7Message.objects.get().status == "applied"
    assert Admission.objects.count() == 1


def test_linking_an_identifier_in_the_admin_applies_held_messages(
    admin_session, ward, ward_code, council
):
    services.hl7_message_receive(
        raw=adt("A01", "D1", nhs_number="", hospital_number="H5"), via="mllp"
    )
    identifier = PatientIdentifier.objects.get(value="H5")
    patient = PatientFactory(local_authority=council)
    response = admin_session.post(
        reverse("admin:interop_patientidentifier_change", args=[identifier.pk]),
        {
            "system": identifier.system,
            "value": identifier.value,
            "patient": patient.pk,
            "flag": identifier.flag,
        },
        follow=True,
    )
    assert response.status_code == 200
    assert Hl7Message.objects.get().status == "applied"
    assert patient.admissions.count() == 1


def test_a_new_api_client_shows_its_token_once(admin_session, trust):
    response = admin_session.post(
        reverse("admin:interop_apiclient_add"),
        {
            "name": "PAS",
            "organisation": trust.pk,
            "role": "ward_staff",
            "scopes": "read,hl7",
            "active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200, response.content
    client = ApiClient.objects.get()
    page = response.content.decode()
    assert "shown once" in page and client.token_prefix in page
    assert client.scopes == ["hl7", "read"]
    assert client.user.memberships.get().organisation == trust
