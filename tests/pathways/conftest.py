"""Transfers of care: services, more personas, and referrals driven to any state."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from discharge import services as discharge_services
from homefirst.models import Membership, Organisation
from pathways import services
from pathways.models import Referral, ServiceKind
from pathways.transitions import Action, State
from tests.factories import (
    AdmissionFactory,
    OrganisationFactory,
    ReferralFactory,
    ServiceFactory,
    member,
)

Role = Membership.Role


@pytest.fixture
def service(provider, council):
    """Home-based reablement from the provider persona's organisation, in the council's area."""
    return ServiceFactory(
        provider=provider,
        name="Reablement at home",
        kind=ServiceKind.HOME_REABLEMENT,
        councils=[council],
    )


@pytest.fixture
def other_provider(db) -> Organisation:
    return OrganisationFactory(
        ods_code="VPR02", name="Carewell Homecare", kind=Organisation.Kind.CARE_PROVIDER
    )


@pytest.fixture
def other_service(other_provider, council):
    return ServiceFactory(
        provider=other_provider,
        name="Carewell home care",
        kind=ServiceKind.HOME_CARE,
        councils=[council],
    )


@pytest.fixture
def uninvolved_carer(other_provider):
    """Provider staff whose service the referral was never offered to."""
    return member(other_provider, Role.PROVIDER_STAFF, username="othercarer")


@pytest.fixture
def other_social_worker(other_council):
    return member(other_council, Role.SOCIAL_WORKER, username="othersocialworker")


@pytest.fixture
def everyone(trust, council, provider):
    """One login that plays every part (ward, hub, provider): drives referrals anywhere."""
    user = member(trust, Role.DISCHARGE_COORDINATOR, username="everyone")
    Membership.objects.create(user=user, organisation=council, role=Role.SOCIAL_WORKER)
    Membership.objects.create(user=user, organisation=provider, role=Role.PROVIDER_STAFF)
    return user


@pytest.fixture
def referral(admission, ward_nurse):
    """A pathway 1 referral of the admission, just made by the ward."""
    return ReferralFactory(admission=admission, referred_by=ward_nurse)


def step(referral: Referral, by, action: Action, **data) -> Referral:
    """Take one step through the service, from the referral's current version."""
    referral.refresh_from_db()
    return services.referral_transition(
        referral=referral, by=by, action=action, expected_version=referral.version, **data
    )


def discharge_home(admission, by) -> None:
    """The ward records the discharge (pathways follows through its signal)."""
    admission.refresh_from_db()
    discharge_services.admission_discharge(
        admission=admission,
        by=by,
        discharged_at=timezone.now() - dt.timedelta(minutes=1),
        destination="usual_residence",
        actual_pathway="1",
        expected_version=None,
    )


def drive(referral: Referral, state: str, *, by, service) -> Referral:
    """Move a fresh referral to ``state`` the usual way, every step through the services."""
    path = {
        State.REFERRED: [],
        State.TRIAGED: [Action.TRIAGE],
        State.OFFERED: [Action.TRIAGE, Action.OFFER],
        State.ACCEPTED: [Action.TRIAGE, Action.OFFER, Action.ACCEPT],
        State.DISCHARGED: [Action.TRIAGE, Action.OFFER, Action.ACCEPT, Action.DISCHARGE],
        State.STARTED: [
            Action.TRIAGE,
            Action.OFFER,
            Action.ACCEPT,
            Action.DISCHARGE,
            Action.FIRST_VISIT,
        ],
        State.ENDED: [
            Action.TRIAGE,
            Action.OFFER,
            Action.ACCEPT,
            Action.DISCHARGE,
            Action.FIRST_VISIT,
            Action.END,
        ],
        State.WITHDRAWN: [Action.WITHDRAW],
    }[State(state)]
    data = {
        Action.TRIAGE: {"pathway": referral.pathway_id},
        Action.OFFER: {"service": service},
        Action.ACCEPT: {"start_date": timezone.localdate()},
        Action.END: {"outcome": "independent"},
        Action.WITHDRAW: {"note": "No longer needed."},
    }
    for action in path:
        if action == Action.DISCHARGE:
            discharge_home(referral.admission, by)
        else:
            step(referral, by, action, **data.get(action, {}))
    referral.refresh_from_db()
    assert referral.state == state
    return referral


# --- Browser tests ------------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1180, "height": 820}


@pytest.fixture
def open_as(browser, live_server):
    """Sign a persona in, in a browser of their own (cookies apart), and open a page."""
    contexts = []

    def open_page(user, path: str, *, viewport=TABLET, password: str = "correct-horse-battery"):
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/?next={path}")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        return page

    yield open_page
    for context in contexts:
        context.close()


# Every state an open or withdrawn referral can be in (not ended: nothing moves on from there).
LIVE_STATES = [
    State.REFERRED,
    State.TRIAGED,
    State.OFFERED,
    State.ACCEPTED,
    State.DISCHARGED,
    State.STARTED,
    State.WITHDRAWN,
]


def referral_in_each_state(*, ward, council, ward_nurse, everyone, service) -> dict[str, int]:
    """One referral in each of LIVE_STATES, each of its own inpatient: state -> referral id."""
    made = {}
    for state in LIVE_STATES:
        admission = AdmissionFactory(current_ward=ward, patient__local_authority=council)
        referral = ReferralFactory(admission=admission, referred_by=ward_nurse)
        made[state.value] = drive(referral, state, by=everyone, service=service).pk
    return made
