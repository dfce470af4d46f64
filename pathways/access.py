"""Which part (ward, hub, provider) a user plays for a referral, from their memberships."""

from __future__ import annotations

from homefirst.models import Membership, User
from homefirst.selectors import WARD_ROLES, organisation_ids
from pathways.models import Referral
from pathways.transitions import Actor

Role = Membership.Role

# The hub is no separate role: the trust's discharge coordinators and the council's social workers.
HUB_TRUST_ROLES = frozenset({Role.DISCHARGE_COORDINATOR})
HUB_COUNCIL_ROLES = frozenset({Role.SOCIAL_WORKER})
PROVIDER_ROLES = frozenset({Role.PROVIDER_STAFF})


def actors_for(
    user: User, *, trust_id: int, council_id: int, provider_id: int | None
) -> frozenset[Actor]:
    """The parts the user plays for a referral of this trust, council and (offered) provider."""
    actors = set()
    if trust_id in organisation_ids(user, WARD_ROLES):
        actors.add(Actor.WARD)
    if trust_id in organisation_ids(user, HUB_TRUST_ROLES) or council_id in organisation_ids(
        user, HUB_COUNCIL_ROLES
    ):
        actors.add(Actor.HUB)
    if provider_id is not None and provider_id in organisation_ids(user, PROVIDER_ROLES):
        actors.add(Actor.PROVIDER)
    return frozenset(actors)


def referral_actors(user: User, referral: Referral) -> frozenset[Actor]:
    """The parts the user plays for this referral (its admission's site and patient loaded)."""
    admission = referral.admission
    return actors_for(
        user,
        trust_id=admission.site.organisation_id,
        council_id=admission.patient.local_authority_id,
        provider_id=referral.service.provider_id if referral.service_id else None,
    )


def is_hub_member(user: User) -> bool:
    """True when the user works in the care transfer hub for some trust or council."""
    return bool(organisation_ids(user, HUB_TRUST_ROLES | HUB_COUNCIL_ROLES))


def is_provider_staff(user: User) -> bool:
    """True when the user works for a provider."""
    return bool(organisation_ids(user, PROVIDER_ROLES))


def transfer_pages(user: User) -> list[tuple[str, str]]:
    """The transfer-of-care pages the user works with, as (URL name, label); none for others."""
    hub, provider = is_hub_member(user), is_provider_staff(user)
    pages = []
    if hub:
        pages.append(("pathways:hub_queue", "Care transfer hub queue"))
    if provider:
        pages.append(("pathways:tracker", "Today's people"))
    if hub or provider:
        pages += [("pathways:capacity", "Capacity"), ("pathways:at_home_checks", "91-day checks")]
    return pages
