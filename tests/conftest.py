"""Personas and the organisations they belong to, shared by every test."""

from __future__ import annotations

import pytest

from homefirst.models import Membership, Organisation
from tests.factories import AdmissionFactory, OrganisationFactory, UserFactory, WardFactory, member

Role = Membership.Role


@pytest.fixture
def trust(db) -> Organisation:
    return OrganisationFactory(ods_code="RTA", name="Trust A", kind=Organisation.Kind.ACUTE_TRUST)


@pytest.fixture
def other_trust(db) -> Organisation:
    return OrganisationFactory(ods_code="RTZ", name="Trust Z", kind=Organisation.Kind.ACUTE_TRUST)


@pytest.fixture
def council(db) -> Organisation:
    return OrganisationFactory(
        ods_code="E08000035", name="Council B", kind=Organisation.Kind.LOCAL_AUTHORITY
    )


@pytest.fixture
def other_council(db) -> Organisation:
    return OrganisationFactory(
        ods_code="E08000036", name="Council C", kind=Organisation.Kind.LOCAL_AUTHORITY
    )


@pytest.fixture
def provider(db) -> Organisation:
    return OrganisationFactory(
        ods_code="VPR01", name="Reablement Ltd", kind=Organisation.Kind.CARE_PROVIDER
    )


@pytest.fixture
def ward(trust):
    return WardFactory(site__organisation=trust, name="Ward 7", bed_count=28)


@pytest.fixture
def ward_nurse(trust):
    return member(trust, Role.WARD_STAFF, username="nurse", first_name="Grace", last_name="Okafor")


@pytest.fixture
def discharge_coordinator(trust):
    return member(
        trust,
        Role.DISCHARGE_COORDINATOR,
        username="coordinator",
        first_name="Tom",
        last_name="Hughes",
    )


@pytest.fixture
def social_worker(council):
    return member(
        council, Role.SOCIAL_WORKER, username="socialworker", first_name="Aisha", last_name="Khan"
    )


@pytest.fixture
def provider_carer(provider):
    return member(provider, Role.PROVIDER_STAFF, username="carer")


@pytest.fixture
def system_leader(council):
    return member(council, Role.SYSTEM_LEADER, username="leader")


@pytest.fixture
def family_member(db):
    """A relative with an account but no organisation: they see nothing until invited to a plan."""
    return UserFactory(username="family")


@pytest.fixture
def outsider(other_trust):
    return member(other_trust, Role.WARD_STAFF, username="outsider")


@pytest.fixture
def admission(ward, council):
    """An inpatient on the ward who lives in the council's area."""
    return AdmissionFactory(current_ward=ward, patient__local_authority=council)
