"""The delay reason a referral's stage suggests, from NHS England's national list (stable codes).

While the person is in hospital, a referral waits on the hub (referred, triaged), on a
provider's capacity (offered, not yet accepted) or on a start date (accepted). Staff confirm
the suggestion or choose another reason; nothing is recorded without them.
"""

from __future__ import annotations

from pathways.models import ServiceKind
from pathways.transitions import State

K = ServiceKind

# Waiting on the hub: confirming needs and the pathway, then making the referrals. A first
# care home placement waits on the funding decision.
HUB_TRIAGE = "HUB03"
HUB_REFERRALS = "HUB02"
HUB_FUNDING = "HUB01"

# Offered and not yet accepted: the service has no room yet.
CAPACITY_BY_KIND: dict[str, str] = {
    K.HOME_REABLEMENT: "CAP05",
    K.HOME_CARE: "CAP10",
    K.COMMUNITY_HEALTH: "CAP09",
    K.INTERMEDIATE_CARE_BED: "CAP02",
    K.CARE_HOME_BED: "CAP11",
    K.EQUIPMENT: "CAP04",
    K.HOUSING_SUPPORT: "CAP07",
}
# Accepted, waiting for the start date: the service's arrangements are still underway.
ARRANGEMENTS_BY_KIND: dict[str, str] = {
    K.HOME_REABLEMENT: "INT04",
    K.HOME_CARE: "INT08",
    K.COMMUNITY_HEALTH: "INT07",
    K.INTERMEDIATE_CARE_BED: "INT01",
    K.CARE_HOME_BED: "INT11",
    K.EQUIPMENT: "CAP04",
    K.HOUSING_SUPPORT: "CAP06",
}
# When no service is named, the pathway says what kind of service it would be.
KIND_OF_PATHWAY: dict[str, str] = {
    "1": K.HOME_REABLEMENT,
    "2": K.INTERMEDIATE_CARE_BED,
    "3": K.CARE_HOME_BED,
}


def propose_delay_reason(*, state: str, pathway: str, service_kind: str | None) -> str | None:
    """The delay reason code the stage suggests, or None when the referral holds nobody up."""
    if state == State.REFERRED:
        return HUB_TRIAGE
    if state == State.TRIAGED:
        return HUB_FUNDING if pathway == "3" else HUB_REFERRALS
    kind = service_kind or KIND_OF_PATHWAY.get(pathway)
    if kind is None:
        return None
    if state == State.OFFERED:
        return CAPACITY_BY_KIND[kind]
    if state == State.ACCEPTED:
        return ARRANGEMENTS_BY_KIND[kind]
    return None
