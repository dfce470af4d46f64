"""One small hospital system with a record of every kind, built once for a whole test module.

The access matrix and the access-log tests open every URL as every persona; building the
records per test would cost minutes, so a module builds them once inside a transaction that
is rolled back at the end (see the ``world`` fixture in this package's conftest).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib.admin import site
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from pghistory.models import Events

from discharge import services as discharge_services
from discharge.models import Admission, Patient
from homefirst import session_lifetime, two_factor
from homefirst.models import Membership, Organisation, User, Ward
from interop import services as interop_services
from interop.models import Hl7Message, SiteCode, WardCode
from pathways import services as pathways_services
from pathways.models import Referral, Service, ServiceKind
from pathways.transitions import Action
from recovery_plans import services as plan_services
from recovery_plans.models import RecoveryPlan
from tests.factories import (
    AdmissionFactory,
    OrganisationFactory,
    ReferralFactory,
    ServiceFactory,
    UserFactory,
    WardFactory,
    member,
)

Role = Membership.Role

# Everyone the matrix signs in as; "anonymous" is nobody signed in.
PERSONAS = (
    "ward_nurse",
    "discharge_coordinator",
    "social_worker",
    "provider_carer",
    "system_leader",
    "family_member",
    "outsider",
    "administrator",
    "anonymous",
)


@dataclass
class World:
    """The records every URL's arguments come from, and the people who open them."""

    people: dict[str, User]
    trust: Organisation
    council: Organisation
    provider: Organisation
    ward: Ward
    other_ward: Ward
    admission: Admission
    patient: Patient
    referral: Referral
    service: Service
    plan: RecoveryPlan
    items: dict[str, int]
    invitation_token: str
    admin_objects: dict[type, object] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)


def _otp_device(user: User) -> None:
    """Administrators and system leaders must use a second factor (the client marks it given)."""
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def _people(trust, other_trust, council, provider) -> dict[str, User]:
    """The personas of tests/conftest.py, once for the module (those fixtures are per test)."""
    people = {
        "ward_nurse": member(trust, Role.WARD_STAFF, username="nurse"),
        "discharge_coordinator": member(trust, Role.DISCHARGE_COORDINATOR, username="coordinator"),
        "social_worker": member(council, Role.SOCIAL_WORKER, username="socialworker"),
        "provider_carer": member(provider, Role.PROVIDER_STAFF, username="carer"),
        "system_leader": member(council, Role.SYSTEM_LEADER, username="leader"),
        "outsider": member(other_trust, Role.WARD_STAFF, username="outsider"),
        # Site administration only: staff and superuser, with no organisation of their own.
        "administrator": UserFactory(username="admin", is_staff=True, is_superuser=True),
    }
    _otp_device(people["system_leader"])
    _otp_device(people["administrator"])
    return people


def _sessions(people: dict[str, User]) -> dict[str, str]:
    """A signed-in session per persona (second factor given where they have one), by its key.

    Signing in once per module rather than per test: a test sends the session's cookie, and
    whatever its request changes in the session is rolled back with the test.
    """
    keys = {}
    for persona, user in people.items():
        client = Client()
        client.force_login(user)
        session = client.session
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None:
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        else:
            session[two_factor.NOT_NEEDED] = True
        # As after a first request, so each test's request need not write the session.
        session[session_lifetime.STARTED] = session[session_lifetime.LAST_SEEN] = time.time()
        session.save()
        keys[persona] = session.session_key
    return keys


def sign_in(client, world: World, persona: str) -> None:
    """Make the test client the persona (nobody, for "anonymous") with their module session."""
    client.cookies.clear()
    if persona != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]


def _referral_offered(admission, *, by, service) -> Referral:
    """A referral the hub triaged and offered to the provider's service (so the provider sees it)."""
    referral = ReferralFactory(admission=admission, referred_by=by)
    for action, data in ((Action.TRIAGE, {"pathway": "1"}), (Action.OFFER, {"service": service})):
        referral.refresh_from_db()
        referral = pathways_services.referral_transition(
            referral=referral, by=by, action=action, expected_version=referral.version, **data
        )
    return referral


def _plan(admission, *, by, trust) -> tuple[RecoveryPlan, dict[str, int]]:
    """The person's recovery plan with one item in each list."""
    plan = plan_services.plan_start(patient=admission.patient, by=by)
    today = timezone.localdate()
    goal = plan_services.goal_add(plan=plan, by=by, description="Walk to the shop")
    items = {
        "goals": goal.pk,
        "actions": plan_services.action_add(
            plan=plan, by=by, what="Order a frame", owner_organisation=trust, due_date=today
        ).pk,
        "contacts": plan_services.contact_add(
            plan=plan, by=by, name="Reablement team", about="Visits"
        ).pk,
        "reviews": plan_services.review_add(
            plan=plan, by=by, due_on=today + dt.timedelta(days=14)
        ).pk,
    }
    return plan, items


def _invite(plan, *, by, email: str) -> str:
    return plan_services.family_invite(
        plan=plan,
        by=by,
        name="Sam Lee",
        email=email,
        relationship="Daughter",
        accept_url="http://testserver/plans/invitations/{token}/",
    ).token


def _adt_a01(site_code: str, ward_code: str) -> str:
    """An NHS-style admission message from the trust's PAS (HL7 v2.4)."""
    when = timezone.localtime(timezone.now() - dt.timedelta(hours=1)).strftime("%Y%m%d%H%M%S%z")
    return "\r".join(
        [
            f"MSH|^~\\&|PAS|RTA|HOMEFIRST|HF|{when}||ADT^A01^ADT_A01|M1|P|2.4",
            f"EVN|A01|{when}||||{when}",
            "PID|1||H900^^^RTA^MR~9434765919^^^NHS^NH||SMITH^JOAN^^^MRS||19400101|F|||"
            "1 HIGH ST^^LEEDS^^LS1 4AP^GBR^H",
            f"PV1|1|I|{ward_code}^^B9^{site_code}|1|||||||||||||||V900^^^RTA^VN"
            f"|||||||||||||||||1|19|||||||{when}|",
        ]
    )


def _interop(ward: Ward, council: Organisation, trust: Organisation) -> None:
    """The PAS feed's mappings and one applied message (with its identifiers), and an API client."""
    site_code = SiteCode.objects.create(
        code="RTA01", site=ward.site, default_local_authority=council
    )
    WardCode.objects.create(site=ward.site, code="W7", ward=ward)
    client, _token = interop_services.api_client_create(
        name="Trust A PAS", organisation=trust, role="ward_staff", scopes=["read", "hl7"]
    )
    receipt = interop_services.hl7_message_receive(
        raw=_adt_a01(site_code.code, "W7"), via=Hl7Message.Via.HTTP, client=client
    )
    assert receipt.code == "AA", receipt.text


def _sign_in_records() -> None:
    """What django-axes keeps about sign-ins, so its admin pages have a record to open."""
    seen = {"user_agent": "pytest", "ip_address": "10.0.0.1", "http_accept": "*/*"}
    AccessAttempt.objects.create(
        username="nurse",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=1,
        **seen,
    )
    AccessFailureLog.objects.create(username="nurse", path_info="/accounts/login/", **seen)
    AccessLog.objects.create(username="nurse", path_info="/accounts/login/", **seen)


def _first(model):
    """The first record of a model in the admin (all events: the first change to a patient)."""
    if model is Events:
        return Events.objects.across(apps.get_model("discharge", "PatientEvent")).first()
    return model._default_manager.order_by("pk").first()


def build() -> World:
    """Every record the matrix needs, made through the services as the application makes them."""
    trust = OrganisationFactory(ods_code="RTA", name="Trust A", kind=Organisation.Kind.ACUTE_TRUST)
    other_trust = OrganisationFactory(
        ods_code="RTZ", name="Trust Z", kind=Organisation.Kind.ACUTE_TRUST
    )
    council = OrganisationFactory(
        ods_code="E08000035", name="Council B", kind=Organisation.Kind.LOCAL_AUTHORITY
    )
    provider = OrganisationFactory(
        ods_code="VPR01", name="Reablement Ltd", kind=Organisation.Kind.CARE_PROVIDER
    )
    people = _people(trust, other_trust, council, provider)
    nurse, coordinator = people["ward_nurse"], people["discharge_coordinator"]

    ward = WardFactory(site__organisation=trust, name="Ward 7", bed_count=28)
    other_ward = WardFactory(site__organisation=other_trust, name="Ward Z1")
    admission = AdmissionFactory(current_ward=ward, patient__local_authority=council)
    # The outsider's own inpatient: on a board they may open, never on the nurse's.
    AdmissionFactory(current_ward=other_ward, patient__local_authority=council)
    # No longer meets the criteria to reside: a discharge ready date, so delays can be recorded.
    discharge_services.ctr_review_record(admission=admission, by=nurse, expected_version=None)

    service = ServiceFactory(
        provider=provider,
        name="Reablement at home",
        kind=ServiceKind.HOME_REABLEMENT,
        councils=[council],
    )
    pathways_services.capacity_set(
        service=service, by=people["provider_carer"], day=timezone.localdate(), available=3
    )
    referral = _referral_offered(admission, by=coordinator, service=service)

    plan, items = _plan(admission, by=nurse, trust=trust)
    family_token = _invite(plan, by=nurse, email="sam@example.org")
    people["family_member"] = plan_services.family_invitation_accept(
        token=family_token, username="family", password="a-long-family-passphrase"
    )
    invitation_token = _invite(plan, by=nurse, email="kim@example.org")

    discharge_services.patient_record_views_log(
        user=nurse, patient_ids=[admission.patient_id], path="/", ip_address="10.0.0.1"
    )
    _interop(ward, council, trust)
    _sign_in_records()
    Group.objects.create(name="Discharge leads")

    admission.refresh_from_db()
    referral.refresh_from_db()
    admin_objects = {model: _first(model) for model in site._registry}
    missing = [model._meta.label for model, obj in admin_objects.items() if obj is None]
    assert not missing, f"Build a record of each model in the admin: {missing}"
    return World(
        people=people,
        trust=trust,
        council=council,
        provider=provider,
        ward=ward,
        other_ward=other_ward,
        admission=admission,
        patient=admission.patient,
        referral=referral,
        service=service,
        plan=plan,
        items=items,
        invitation_token=invitation_token,
        admin_objects=admin_objects,
        sessions=_sessions(people),
    )
