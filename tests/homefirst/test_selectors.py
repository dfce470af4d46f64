import pytest

from homefirst.models import Membership
from homefirst.selectors import has_role, memberships_of, sites_visible_to, wards_visible_to

pytestmark = pytest.mark.django_db


def test_ward_staff_see_their_trusts_wards_only(ward_nurse, outsider, ward):
    assert list(wards_visible_to(ward_nurse)) == [ward]
    assert list(wards_visible_to(outsider)) == []
    assert list(sites_visible_to(ward_nurse)) == [ward.site]


@pytest.mark.parametrize(
    "persona", ["social_worker", "system_leader", "provider_carer", "family_member"]
)
def test_people_outside_the_wards_see_no_wards(request, persona, ward):
    assert not wards_visible_to(request.getfixturevalue(persona)).exists()


def test_memberships_are_read_once_per_user_object(ward_nurse, django_assert_num_queries):
    with django_assert_num_queries(1):
        memberships_of(ward_nurse)
        memberships_of(ward_nurse)
        assert has_role(ward_nurse, Membership.Role.WARD_STAFF)
