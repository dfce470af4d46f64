import pytest

from tests.factories import recovery_plan_for


@pytest.fixture
def plan(admission, ward_nurse):
    """The recovery plan of the inpatient in the `admission` fixture."""
    return recovery_plan_for(admission, ward_nurse)
