import pytest

from dashboards.models import DailyCensus
from dashboards.selectors import dashboard_access
from homefirst.models import Membership, Organisation
from tests.factories import DailyCensusFactory, OrganisationFactory, member

pytestmark = pytest.mark.django_db


def test_ward_staff_of_a_trust_without_sites_see_no_rows(ward):
    DailyCensusFactory(ward=ward)
    trust = OrganisationFactory(ods_code="RNEW1", kind=Organisation.Kind.ACUTE_TRUST)
    access = dashboard_access(member(trust, Membership.Role.WARD_STAFF, username="newtrust"))
    assert DailyCensus.objects.count() == 1
    assert not DailyCensus.objects.filter(access.q()).exists()
