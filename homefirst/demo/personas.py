"""The demo logins, one per persona; `make run` prints them and `seed_demo` creates them."""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "homefirst-demo"


@dataclass(frozen=True)
class Persona:
    """A demo user: who they are, where they work and what role they hold there."""

    username: str
    first_name: str
    last_name: str
    job_title: str
    organisation_ods: str
    role: str
    describes: str


# ODS-style codes of the demo city's organisations (see homefirst.demo.city).
TRUST_ODS = "RHF"
OTHER_TRUST_ODS = "RXX"
COUNCIL_ODS = "E08000035"
COMMUNITY_TRUST_ODS = "RY6"
REABLEMENT_PROVIDER_ODS = "VHF01"
CARE_HOME_PROVIDER_ODS = "VHF02"

PERSONAS: tuple[Persona, ...] = (
    Persona(
        "nurse",
        "Grace",
        "Okafor",
        "Ward sister",
        TRUST_ODS,
        "ward_staff",
        "ward nurse: ward boards of the trust",
    ),
    Persona(
        "coordinator",
        "Tom",
        "Hughes",
        "Discharge coordinator",
        TRUST_ODS,
        "discharge_coordinator",
        "discharge coordinator: every ward of the trust",
    ),
    Persona(
        "socialworker",
        "Aisha",
        "Khan",
        "Hospital social worker",
        COUNCIL_ODS,
        "social_worker",
        "social worker: residents of the council",
    ),
    Persona(
        "carer",
        "Dan",
        "Price",
        "Reablement support worker",
        REABLEMENT_PROVIDER_ODS,
        "provider_staff",
        "provider carer: people referred to the service",
    ),
    Persona(
        "leader",
        "Helen",
        "Marsh",
        "Director of urgent care",
        COUNCIL_ODS,
        "system_leader",
        "system leader: counts only, never a patient's identity",
    ),
    Persona(
        "outsider",
        "Owen",
        "Blake",
        "Ward nurse",
        OTHER_TRUST_ODS,
        "ward_staff",
        "outsider: a nurse at another trust, sees nothing here",
    ),
)

ADMIN_USERNAME = "admin"

# A relative invited to one demo recovery plan: no organisation, sees only that plan.
FAMILY_USERNAME = "family"
FAMILY_DESCRIBES = "family member: only the one recovery plan they were invited to"
