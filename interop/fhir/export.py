"""HomeFirst records as FHIR R4 resources (plain dicts), UK Core identifiers where they apply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from discharge.models import Admission, DischargeDestination, Patient, WardStay
from recovery_plans.models import Action, Goal, RecoveryPlan
from recovery_plans.sections import SECTIONS_BY_KEY

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
ADMISSION_SYSTEM = "https://homefirst.nhs.uk/Id/admission"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
DISPOSITION_SYSTEM = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"

ENCOUNTER_STATUS = {
    Admission.Status.IN_HOSPITAL: "in-progress",
    Admission.Status.DISCHARGED: "finished",
    Admission.Status.DIED: "finished",
    Admission.Status.CANCELLED: "entered-in-error",
}
DISPOSITION = {
    DischargeDestination.USUAL_RESIDENCE: ("home", "Home"),
    DischargeDestination.CARE_HOME_RETURN: ("long", "Long-term care"),
    DischargeDestination.CARE_HOME_NEW: ("long", "Long-term care"),
    DischargeDestination.REHAB_BED: ("rehab", "Rehabilitation"),
    DischargeDestination.TEMPORARY_RESIDENCE: ("alt-home", "Alternative home"),
    DischargeDestination.OTHER_HOSPITAL: ("other-hcf", "Other healthcare facility"),
    DischargeDestination.HOSPICE: ("hosp", "Hospice"),
    DischargeDestination.DIED: ("exp", "Expired"),
}
GOAL_LIFECYCLE = {
    Goal.Status.NOT_STARTED: "proposed",
    Goal.Status.IN_PROGRESS: "active",
    Goal.Status.ACHIEVED: "completed",
    Goal.Status.NO_LONGER_RELEVANT: "cancelled",
}
ACTIVITY_STATUS = {
    Action.Status.OPEN: "not-started",
    Action.Status.DONE: "completed",
    Action.Status.CANCELLED: "cancelled",
}


def instant(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def _ref(kind: str, pk: int, display: str = "") -> dict:
    ref = {"reference": f"{kind}/{pk}"}
    if display:
        ref["display"] = display
    return ref


def patient_resource(patient: Patient) -> dict:
    """Patient with the NHS number as its identifier."""
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": patient.nhs_number}],
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
        "gender": patient.sex if patient.sex in {"female", "male", "other"} else "unknown",
        "birthDate": patient.date_of_birth.isoformat(),
    }
    if patient.postcode:
        resource["address"] = [{"use": "home", "postalCode": patient.postcode}]
    if patient.gp_practice_code:
        resource["generalPractitioner"] = [
            {"identifier": {"system": ODS_SYSTEM, "value": patient.gp_practice_code}}
        ]
    return resource


def _location(stay: WardStay) -> dict:
    entry = {
        "location": {
            "identifier": {"value": stay.ward.code},
            "display": f"{stay.ward.name}{f', bed {stay.bed_label}' if stay.bed_label else ''}",
        },
        "status": "active" if stay.ended_at is None else "completed",
        "period": {"start": instant(stay.started_at)},
    }
    if stay.ended_at:
        entry["period"]["end"] = instant(stay.ended_at)
    return entry


def encounter_resource(admission: Admission, stays: Iterable[WardStay] | None = None) -> dict:
    """Encounter: the inpatient stay, its ward moves and how it ended."""
    stays = list(admission.ward_stays.all() if stays is None else stays)
    # A cancelled move is an empty period: it never happened, so it is not location history.
    lived = [s for s in stays if s.ended_at is None or s.ended_at > s.started_at]
    period = {"start": instant(admission.admitted_at)}
    if admission.discharged_at:
        period["end"] = instant(admission.discharged_at)
    resource = {
        "resourceType": "Encounter",
        "id": str(admission.pk),
        "identifier": [{"system": ADMISSION_SYSTEM, "value": str(admission.pk)}],
        "status": ENCOUNTER_STATUS[admission.status],
        "class": {"system": ACT_CODE, "code": "IMP", "display": "inpatient encounter"},
        "subject": _ref("Patient", admission.patient_id),
        "period": period,
        "serviceProvider": {
            "identifier": {"system": ODS_SYSTEM, "value": admission.site.organisation.ods_code},
            "display": admission.site.organisation.name,
        },
    }
    if lived and admission.status != Admission.Status.CANCELLED:
        resource["location"] = [_location(s) for s in lived]
    hospitalization: dict = {}
    if admission.discharge_destination:
        code, display = DISPOSITION[admission.discharge_destination]
        hospitalization["dischargeDisposition"] = {
            "coding": [{"system": DISPOSITION_SYSTEM, "code": code, "display": display}],
            "text": admission.get_discharge_destination_display(),
        }
        if admission.discharge_destination != DischargeDestination.DIED:
            hospitalization["destination"] = {
                "display": admission.get_discharge_destination_display()
            }
    if admission.method:
        hospitalization["admitSource"] = {"text": admission.get_method_display()}
    if hospitalization:
        resource["hospitalization"] = hospitalization
    pathway = admission.actual_pathway_id or admission.planned_pathway_id
    if pathway:
        resource["type"] = [{"text": f"Discharge to Assess pathway {pathway}"}]
    return resource


def goal_resource(goal: Goal, patient_id: int) -> dict:
    """Goal: the person's own words, when by, and whether achieved."""
    resource = {
        "resourceType": "Goal",
        "id": str(goal.pk),
        "lifecycleStatus": GOAL_LIFECYCLE[goal.status],
        "description": {"text": goal.description},
        "subject": _ref("Patient", patient_id),
    }
    if goal.status == Goal.Status.ACHIEVED:
        resource["achievementStatus"] = {
            "coding": [{"system": GOAL_ACHIEVEMENT, "code": "achieved", "display": "Achieved"}]
        }
    if goal.target_date:
        resource["target"] = [{"dueDate": goal.target_date.isoformat()}]
    if goal.measure:
        resource["note"] = [{"text": f"How we will know: {goal.measure}"}]
    return resource


def care_plan_resource(plan: RecoveryPlan) -> dict:
    """CarePlan: the recovery plan's goals, actions and what its sections say."""
    period = {"start": instant(plan.started_at)}
    if plan.closed_at:
        period["end"] = instant(plan.closed_at)
    resource = {
        "resourceType": "CarePlan",
        "id": str(plan.pk),
        "status": "active" if plan.status == RecoveryPlan.Status.ACTIVE else "completed",
        "intent": "plan",
        "title": "Recovery plan",
        "subject": _ref("Patient", plan.patient_id),
        "period": period,
        "created": instant(plan.started_at),
    }
    if goals := list(plan.goals.all()):
        resource["goal"] = [_ref("Goal", g.pk) for g in goals]
    activities = [
        {
            "detail": {
                "status": ACTIVITY_STATUS[a.status],
                "description": a.what,
                "scheduledPeriod": {"end": a.due_date.isoformat()},
                "performer": [
                    {
                        "identifier": {
                            "system": ODS_SYSTEM,
                            "value": a.owner_organisation.ods_code,
                        },
                        "display": a.owner_person or a.owner_organisation.name,
                    }
                ],
            }
        }
        for a in plan.actions.all()
    ]
    if activities:
        resource["activity"] = activities
    notes = []
    for section in plan.sections.all():
        spec = SECTIONS_BY_KEY.get(section.key)
        if spec is None:
            continue
        for name, label in spec.fields:
            if text := (section.content or {}).get(name, "").strip():
                notes.append({"text": f"{spec.title} — {label}: {text}"})
    if notes:
        resource["note"] = notes
    return resource


def bundle(entries: list[tuple[str, dict]]) -> dict:
    """A collection Bundle of resources, each with its full URL."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": instant(dt.datetime.now(dt.UTC)),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }


EPISODE_STATUS = {
    "referred": "waitlist",
    "triaged": "waitlist",
    "offered": "waitlist",
    "accepted": "planned",
    "discharged": "planned",
    "started": "active",
    "ended": "finished",
    "withdrawn": "cancelled",
}


def episode_of_care_resource(referral) -> dict:
    """EpisodeOfCare: the transfer of care, from referral to the end of the service's episode."""
    admission = referral.admission
    history, previous = [], None
    for step in referral.transitions.all():
        status = EPISODE_STATUS[step.to_state]
        if previous is not None and previous["status"] == status:
            continue
        if previous is not None:
            previous["period"]["end"] = instant(step.at)
        previous = {"status": status, "period": {"start": instant(step.at)}}
        history.append(previous)
    period = {"start": instant(referral.created_at)}
    if referral.outcome_recorded_at:
        period["end"] = instant(referral.outcome_recorded_at)
    manager = referral.service.provider if referral.service_id else admission.site.organisation
    resource = {
        "resourceType": "EpisodeOfCare",
        "id": str(referral.pk),
        "status": EPISODE_STATUS[referral.state],
        "type": [{"text": f"Transfer of care, Discharge to Assess pathway {referral.pathway_id}"}],
        "patient": _ref("Patient", admission.patient_id),
        "managingOrganization": {
            "identifier": {"system": ODS_SYSTEM, "value": manager.ods_code},
            "display": manager.name,
        },
        "period": period,
    }
    # The current status is the resource's own; statusHistory holds the ones before it.
    if len(history) > 1:
        resource["statusHistory"] = history[:-1]
    return resource
