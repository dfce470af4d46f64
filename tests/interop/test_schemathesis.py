"""schemathesis drives every operation in the OpenAPI schema: no server error, no response off-schema."""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from recovery_plans.services import action_add, goal_add
from tests.factories import ReferralFactory, recovery_plan_for
from tests.interop.conftest import bearer


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Like Django's test client: the app must not close the test's connection (and transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(admission, ward_nurse, api_token):
    """Records for the generated requests to find: a stay, a referral, a plan, a goal, an action."""
    plan = recovery_plan_for(admission, ward_nurse)
    goal_add(plan=plan, by=ward_nurse, description="Home")
    action_add(
        plan=plan,
        by=ward_nurse,
        what="Rail",
        owner_organisation=admission.patient.local_authority,
        due_date=plan.started_at.date(),
    )
    ReferralFactory(admission=admission, referred_by=ward_nurse)
    return bearer(api_token)["HTTP_AUTHORIZATION"]


# The schema view reads no database, so the schema loads when the tests are collected.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_no_server_errors_and_no_off_schema_responses(case, world):
    case.call_and_validate(
        headers={"Authorization": world},
        checks=[not_a_server_error, response_schema_conformance],
    )
