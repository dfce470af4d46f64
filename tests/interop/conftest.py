"""HL7 fixtures: a mapped site and ward, and a builder of NHS-style ADT messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from interop.models import SiteCode, WardCode
from tests.factories import WardFactory, valid_nhs_number

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "hl7v2"

NHS_NUMBER = valid_nhs_number(4242)


@pytest.fixture
def site_code(ward, council):
    """The PAS's code for the trust's site, mapped, with the council as default for new patients."""
    return SiteCode.objects.create(code="RTA01", site=ward.site, default_local_authority=council)


@pytest.fixture
def ward_code(ward, site_code):
    return WardCode.objects.create(site=ward.site, code="W7", ward=ward)


@pytest.fixture
def other_ward(ward, site_code):
    """A second ward at the same site, mapped as W9."""
    other = WardFactory(site=ward.site, name="Ward 9")
    WardCode.objects.create(site=ward.site, code="W9", ward=other)
    return other


def hl7_time(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y%m%d%H%M%S%z")


def adt(
    event: str,
    control_id: str,
    *,
    nhs_number: str = NHS_NUMBER,
    hospital_number: str = "H123",
    visit: str = "V1",
    ward: str = "W7",
    bed: str = "B1",
    site: str = "RTA01",
    at: dt.datetime | None = None,
    patient_class: str = "I",
    destination: str = "19",
    method: str = "1",
    family_name: str = "SMITH",
    given_name: str = "JOAN",
    council: str = "",
    mrg: str = "",
) -> str:
    """An NHS-style ADT message (HL7 v2.4, PID-3 with hospital and NHS numbers)."""
    at = at or timezone.now() - dt.timedelta(hours=1)
    when = hl7_time(at)
    ids = f"{hospital_number}^^^RTA^MR"
    if nhs_number:
        ids += f"~{nhs_number}^^^NHS^NH"
    discharged = when if event == "A03" else ""
    admitted = when if event == "A01" else ""
    segments = [
        f"MSH|^~\\&|PAS|RTA|HOMEFIRST|HF|{when}||ADT^{event}^ADT_A01|{control_id}|P|2.4",
        f"EVN|{event}|{when}||||{when}",
        f"PID|1||{ids}||{family_name}^{given_name}^^^MRS||19400101|F|||1 HIGH ST^^LEEDS^^LS1 4AP^GBR^H^^{council}",
    ]
    if mrg:
        segments.append(f"MRG|{mrg}")
    segments.append(
        f"PV1|1|{patient_class}|{ward}^^{bed}^{site}|{method}|||||||||||||||{visit}^^^RTA^VN"
        f"|||||||||||||||||{method}|{destination}|||||||{admitted}|{discharged}"
    )
    return "\r".join(segments)


# --- API callers ------------------------------------------------------------------------------


@pytest.fixture
def api_token(trust):
    """An integration client of the trust (ward staff role) with every scope, and its token."""
    from interop.services import api_client_create

    _client, token = api_client_create(
        name="Trust A PAS", organisation=trust, role="ward_staff", scopes=["read", "write", "hl7"]
    )
    return token


@pytest.fixture
def other_trust_token(other_trust):
    from interop.services import api_client_create

    _client, token = api_client_create(
        name="Trust Z PAS",
        organisation=other_trust,
        role="ward_staff",
        scopes=["read", "write", "hl7"],
    )
    return token


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def signed_in(client, user):
    """A browser session for the persona, past the second-factor step (tested elsewhere)."""
    from homefirst.two_factor import NOT_NEEDED

    client.force_login(user)
    session = client.session
    session[NOT_NEEDED] = True
    session.save()
    return client
