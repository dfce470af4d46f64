"""NHS Data Dictionary codes carried in ADT messages, mapped to HomeFirst's stable codes."""

from __future__ import annotations

from discharge import rules
from discharge.models import Admission, DischargeDestination

# PV1-2 patient classes that are an inpatient stay (empty: the event itself says admit).
INPATIENT_CLASSES = frozenset({"I", ""})

# PV1-36 discharge method: 4 means the patient died.
DIED_METHODS = frozenset({"4", "DIED"})

# PV1-37 discharge destination (NHS Data Dictionary) → HomeFirst destination.
DESTINATIONS = {
    "19": DischargeDestination.USUAL_RESIDENCE,
    "29": DischargeDestination.TEMPORARY_RESIDENCE,
    "49": DischargeDestination.OTHER_HOSPITAL,
    "50": DischargeDestination.OTHER_HOSPITAL,
    "51": DischargeDestination.OTHER_HOSPITAL,
    "52": DischargeDestination.OTHER_HOSPITAL,
    "53": DischargeDestination.OTHER_HOSPITAL,
    "84": DischargeDestination.OTHER_HOSPITAL,
    "87": DischargeDestination.OTHER_HOSPITAL,
    "88": DischargeDestination.HOSPICE,
    "79": DischargeDestination.DIED,
}
# Care homes: whether it is a return or a first placement follows the planned pathway.
CARE_HOME_DESTINATIONS = frozenset({"54", "65", "85"})


def admission_method(admission_type: str) -> str:
    """PV1-4: NHS admission methods 11-13 and HL7 types C, R, L are planned; the rest emergency."""
    if admission_type[:1] == "1" or admission_type in {"C", "R", "L", "EL"}:
        return Admission.Method.ELECTIVE
    return Admission.Method.EMERGENCY


def discharge_outcome(
    *, disposition: str, discharged_to: str, planned_pathway: str | None
) -> tuple[str, str | None, list[str]]:
    """Destination, actual pathway and data-quality flags for a discharge the PAS sent."""
    code = discharged_to.split("^")[0].strip()
    flags: list[str] = []
    if disposition in DIED_METHODS or DESTINATIONS.get(code) == DischargeDestination.DIED:
        return DischargeDestination.DIED, None, flags
    if code in CARE_HOME_DESTINATIONS:
        destination = (
            DischargeDestination.CARE_HOME_NEW
            if planned_pathway == "3"
            else DischargeDestination.CARE_HOME_RETURN
        )
    elif code in DESTINATIONS:
        destination = DESTINATIONS[code]
    else:
        destination = DischargeDestination.USUAL_RESIDENCE
        flags.append("destination_assumed")
    if planned_pathway and destination in rules.DESTINATIONS_BY_PATHWAY.get(planned_pathway, ()):
        return destination, planned_pathway, flags
    pathway = next(
        p for p, allowed in sorted(rules.DESTINATIONS_BY_PATHWAY.items()) if destination in allowed
    )
    flags.append("pathway_inferred")
    return destination, pathway, flags
