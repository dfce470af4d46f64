"""Personas and the organisations they belong to, shared by every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from homefirst.models import Membership, Organisation
from tests.factories import AdmissionFactory, OrganisationFactory, UserFactory, WardFactory, member

# Throwaway Postgres and Redis servers and real processes, for the fault and backup tests.
pytest_plugins = ["tests.throwaway"]

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
    """A system leader who has set up two-step sign-in, as their role requires."""
    leader = member(council, Role.SYSTEM_LEADER, username="leader")
    TOTPDevice.objects.create(user=leader, name="Authenticator app", confirmed=True)
    return leader


@pytest.fixture
def client(client):
    """Django's test client; ``force_login`` stands for a completed sign-in, second factor included."""
    force_login = client.force_login

    def force_login_verified(user, backend=None):
        force_login(user, backend)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None:
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    client.force_login = force_login_verified
    return client


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


# --- Browser tests ---------------------------------------------------------------------------

CHROMIUM = Path(os.environ.get("HOMEFIRST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    """The system Chromium driven by Playwright; CI requires it (HOMEFIRST_REQUIRE_BROWSER=1)."""
    if not CHROMIUM.exists():
        if os.environ.get("HOMEFIRST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required for browser tests but {CHROMIUM} is missing.")
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab at a tablet's size."""
    context = browser.new_context(viewport={"width": 1180, "height": 820})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def sign_in(page, live_server):
    """Sign in through the login page as a persona."""

    def sign_in_as(user, password: str = "correct-horse-battery"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        return page

    return sign_in_as


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(request):
    """A transactional test starts after another's flush: put the migration-seeded data back."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    from discharge import reference as discharge_reference
    from pathways import reference as pathways_reference

    request.getfixturevalue("transactional_db")
    discharge_reference.load()
    pathways_reference.load()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Reload the migration-seeded reference data: a reused test database may have been flushed."""
    from discharge import reference as discharge_reference
    from pathways import reference as pathways_reference

    with django_db_blocker.unblock():
        discharge_reference.load()
        pathways_reference.load()
