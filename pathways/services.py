"""Every write to services, capacity and transfer-of-care referrals: checked, one transaction, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from dashboards.triggers import flow_changed
from discharge import services as discharge_services
from discharge.models import Admission, DelayEpisode
from homefirst.models import Organisation, User
from homefirst.selectors import organisation_ids
from pathways.access import PROVIDER_ROLES, actors_for, referral_actors
from pathways.delay_reasons import propose_delay_reason
from pathways.models import (
    REFERRAL_PATHWAYS,
    Consent,
    Outcome,
    Referral,
    ReferralTransition,
    Service,
    ServiceCapacity,
)
from pathways.transitions import (
    CLOSED_STATES,
    IN_HOSPITAL_STATES,
    Action,
    Actor,
    IllegalTransition,
    State,
    next_state,
)

MAX_TEXT = discharge_services.MAX_TEXT
CLOCK_SKEW = discharge_services.CLOCK_SKEW
# The most places a service may declare for one day (the column is a 32-bit integer).
MAX_CAPACITY = 10_000
# How far ahead a start date or a capacity declaration may reach.
PLANNING_HORIZON = dt.timedelta(days=90)
AT_HOME_CHECK_AFTER = dt.timedelta(days=91)


class StaleReferral(Exception):
    """Someone else changed the referral since this step began; nothing was saved."""

    def __init__(self, current: Referral) -> None:
        super().__init__("The referral was changed by someone else.")
        self.current = current


class NotAllowed(PermissionDenied):
    """The user plays no part that may take this step."""


class SuggestionChanged(Exception):
    """The suggested delay reason, or the delay recorded, is no longer what the board showed."""


_WHO = {Actor.WARD: "the ward", Actor.HUB: "the care transfer hub", Actor.PROVIDER: "the provider"}


def _check_text(field: str, value: str, *, required: str = "") -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise ValidationError({field: "Remove the NUL character: it cannot be stored."})
    if required and not value:
        raise ValidationError({field: required})
    if len(value) > MAX_TEXT:
        raise ValidationError({field: f"Keep this to {MAX_TEXT} characters or fewer."})
    return value


def _check_pathway(pathway: str | None) -> str:
    if pathway == "0":
        raise ValidationError(
            {"pathway": "Pathway 0 needs no referral: the ward arranges the discharge home itself."}
        )
    if pathway not in REFERRAL_PATHWAYS:
        raise ValidationError({"pathway": "Choose pathway 1, 2 or 3."})
    return pathway


def _check_moment(at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if at is None:
        return now
    if at > now + CLOCK_SKEW:
        raise ValidationError({"at": "The time cannot be in the future."})
    return at


def _touch(referral: Referral, *, by: User | None, fields: list[str]) -> None:
    """Save the changed fields, bump the version and record who changed the row."""
    referral.version += 1
    referral.updated_at = timezone.now()
    referral.updated_by = by
    referral.save(update_fields=[*fields, "version", "updated_at", "updated_by"])
    _flow_changed(referral)


def _flow_changed(referral: Referral) -> None:
    """After commit, recount the dashboards from the day the person left hospital.

    The transfer-of-care figures count a referral against that day, so its later steps (a
    first visit, an outcome, the 91-day check) change that day's figures.
    """
    admission = referral.admission
    if admission.discharged_at is None:
        return
    transaction.on_commit(
        partial(
            flow_changed,
            site_ids=[admission.site_id],
            day=timezone.localdate(admission.discharged_at),
        )
    )


def _propose(referral: Referral) -> str | None:
    return propose_delay_reason(
        state=referral.state,
        pathway=referral.pathway_id,
        service_kind=referral.service.kind if referral.service_id else None,
    )


# --- Capacity ---------------------------------------------------------------------------------


def capacity_set(*, service: Service, by: User, day: dt.date, available: int) -> ServiceCapacity:
    """Declare what a service can take on one day; a second declaration for the day replaces it."""
    if service.provider_id not in organisation_ids(by, PROVIDER_ROLES):
        raise NotAllowed("Only the provider's own staff declare its capacity.")
    if not isinstance(available, int) or isinstance(available, bool):
        raise ValidationError({"available": "Give a whole number."})
    if available < 0:
        raise ValidationError({"available": "Capacity cannot be negative."})
    if available > MAX_CAPACITY:
        raise ValidationError({"available": f"Declare at most {MAX_CAPACITY:,} places."})
    today = timezone.localdate()
    if day < today:
        raise ValidationError({"day": "Declare capacity for today or a later day."})
    if day > today + PLANNING_HORIZON:
        raise ValidationError({"day": "Declare capacity up to 90 days ahead."})
    if not service.active:
        raise ValidationError({"service": "This service is no longer active."})
    with transaction.atomic(), pghistory.context(user=by.pk):
        row, _ = ServiceCapacity.objects.update_or_create(
            service=service,
            day=day,
            defaults={"available": available, "declared_by": by, "declared_at": timezone.now()},
        )
    return row


# --- Referral ---------------------------------------------------------------------------------


def referral_create(
    *,
    admission: Admission,
    by: User,
    pathway: str,
    needs: str,
    home_situation: str,
    carers: str = "",
    consent: str,
    preferred_outcome: str,
    at: dt.datetime | None = None,
) -> Referral:
    """The ward refers a pathway 1-3 inpatient to the care transfer hub."""
    pathway = _check_pathway(pathway)
    needs = _check_text("needs", needs, required="Describe the person's needs.")
    home_situation = _check_text(
        "home_situation", home_situation, required="Describe the person's home situation."
    )
    carers = _check_text("carers", carers)
    preferred_outcome = _check_text(
        "preferred_outcome", preferred_outcome, required="Say what the person wants."
    )
    if consent not in Consent.values:
        raise ValidationError(
            {"consent": "Record the person's consent, or the best-interests decision."}
        )
    at = _check_moment(at)
    with transaction.atomic(), pghistory.context(user=by.pk):
        admission = (
            Admission.objects.select_for_update(of=("self",))
            .select_related("site", "patient")
            .get(pk=admission.pk)
        )
        actors = actors_for(
            by,
            trust_id=admission.site.organisation_id,
            council_id=admission.patient.local_authority_id,
            provider_id=None,
        )
        if Actor.WARD not in actors:
            raise NotAllowed("Only the ward staff of the patient's trust refer to the hub.")
        if admission.status != Admission.Status.IN_HOSPITAL:
            raise ValidationError({"__all__": "This patient has already left hospital."})
        if at < admission.admitted_at:
            raise ValidationError({"at": "A referral cannot be before the admission."})
        if admission.transfer_referrals.exclude(state__in=CLOSED_STATES).exists():
            raise ValidationError(
                {"__all__": "This patient already has an open referral to the hub."}
            )
        referral = Referral(
            admission=admission,
            pathway_id=pathway,
            needs=needs,
            home_situation=home_situation,
            carers=carers,
            consent=consent,
            preferred_outcome=preferred_outcome,
            referred_by=by,
            created_at=at,
            state_changed_at=at,
            updated_at=timezone.now(),
            updated_by=by,
        )
        referral.proposed_delay_reason_id = _propose(referral)
        referral.save()
        ReferralTransition.objects.create(
            referral=referral,
            action=Action.REFER,
            from_state="",
            to_state=State.REFERRED,
            at=at,
            by=by,
            pathway_id=pathway,
        )
        _plan_pathway(admission, by=by, pathway=pathway)
    return referral


def _plan_pathway(admission: Admission, *, by: User, pathway: str) -> None:
    """Keep the ward's planned pathway in step with the referral's."""
    if admission.status == Admission.Status.IN_HOSPITAL and admission.planned_pathway_id != pathway:
        discharge_services.planned_pathway_set(
            admission=admission, by=by, pathway=pathway, expected_version=None
        )


def _referrals_locked() -> QuerySet[Referral]:
    """Referrals locked for a write, with what the steps and the audit read."""
    return Referral.objects.select_for_update(of=("self",)).select_related(
        "admission__site", "admission__patient", "service", "pathway"
    )


def _locked(referral: Referral, expected_version: int | None) -> Referral:
    """Lock the referral row and check the editor saw its latest version."""
    locked = _referrals_locked().get(pk=referral.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleReferral(current=locked)
    return locked


def _last_step_at(referral: Referral) -> dt.datetime:
    """When the referral's last step was taken: steps that change nothing still come in order."""
    last = referral.transitions.aggregate(at=Max("at"))["at"]
    return max(last, referral.state_changed_at) if last else referral.state_changed_at


@dataclass(frozen=True)
class _StepData:
    """What a step may set, as the caller gave it."""

    pathway: str | None = None
    service: Service | None = None
    start_date: dt.date | None = None
    outcome: str = ""


def referral_transition(
    *,
    referral: Referral,
    by: User,
    action: str,
    expected_version: int | None,
    note: str = "",
    pathway: str | None = None,
    service: Service | None = None,
    start_date: dt.date | None = None,
    outcome: str = "",
    at: dt.datetime | None = None,
) -> Referral:
    """Take one step of the state machine, if the table allows it from here and the user may."""
    if action not in Action.values:
        raise ValidationError({"action": f"Unknown action {action!r}."})
    note = _check_text("note", note)
    at = _check_moment(at)
    with transaction.atomic(), pghistory.context(user=by.pk):
        referral = _locked(referral, expected_version)
        if at < _last_step_at(referral):
            raise ValidationError({"at": "A step cannot be before the referral's last step."})
        return _apply(
            referral,
            by=by,
            actors=referral_actors(by, referral),
            action=Action(action),
            at=at,
            note=note,
            data=_StepData(
                pathway=pathway, service=service, start_date=start_date, outcome=outcome
            ),
        )


def _apply(
    referral: Referral,
    *,
    by: User | None,
    actors: frozenset[Actor] | None,
    action: Action,
    at: dt.datetime,
    note: str,
    data: _StepData,
) -> Referral:
    """Check the table and the step's rules, then write the step's row and the referral's state.

    ``actors`` None means the step follows from another service's write (the discharge).
    """
    try:
        transition = next_state(referral.state, action)
    except IllegalTransition as error:
        raise ValidationError({"action": str(error)}) from error
    if actors is not None and not transition.by & actors:
        who = " or ".join(sorted(_WHO[a] for a in transition.by))
        raise NotAllowed(f"Only {who} may '{action.label.lower()}'.")
    row = ReferralTransition(
        referral=referral,
        action=action,
        from_state=referral.state,
        to_state=transition.to,
        at=at,
        by=by,
        note=note,
    )
    changed = _STEPS[action](referral, by=by, at=at, note=note, data=data, row=row)
    if transition.to != referral.state:
        referral.state = transition.to
        referral.state_changed_at = at
        changed += ["state", "state_changed_at"]
    referral.proposed_delay_reason_id = _propose(referral)
    row.save()
    _touch(referral, by=by, fields=[*changed, "proposed_delay_reason"])
    return referral


# Each step checks its own input, sets what it changes on the referral and the row, and says
# which referral fields it changed.
Step = Callable[..., list[str]]


def _step_triage(referral: Referral, *, by, data: _StepData, row, **_) -> list[str]:
    pathway = _check_pathway(data.pathway)
    referral.pathway_id = row.pathway_id = pathway
    _plan_pathway(referral.admission, by=by, pathway=pathway)
    return ["pathway"]


def _step_offer(referral: Referral, *, data: _StepData, row, **_) -> list[str]:
    service = data.service
    if service is None:
        raise ValidationError({"service": "Choose the service to offer the referral to."})
    if not Service.objects.filter(pk=service.pk, active=True).exists():
        raise ValidationError({"service": "This service is not taking referrals."})
    if referral.pathway_id not in service.pathways:
        raise ValidationError(
            {"service": f"{service.name} does not take people on pathway {referral.pathway_id}."}
        )
    council_id = referral.admission.patient.local_authority_id
    if not service.service_areas.filter(council_id=council_id).exists():
        raise ValidationError(
            {"service": f"{service.name} does not cover the area where the person lives."}
        )
    referral.service = row.service = service
    return ["service"]


def _step_decline(referral: Referral, *, note: str, row, **_) -> list[str]:
    if not note:
        raise ValidationError({"note": "Say why the service cannot take this person."})
    row.service = referral.service
    referral.service = None
    return ["service"]


def _check_start_date(referral: Referral, start_date: dt.date | None) -> dt.date:
    if start_date is None:
        raise ValidationError({"start_date": "Give the date the service starts."})
    referred_on = timezone.localdate(referral.created_at)
    if start_date < referred_on:
        raise ValidationError(
            {
                "start_date": f"The start date cannot be before the referral ({referred_on:%d %b %Y})."
            }
        )
    if start_date > timezone.localdate() + PLANNING_HORIZON:
        raise ValidationError({"start_date": "The start date must be within 90 days."})
    return start_date


def _step_accept(referral: Referral, *, data: _StepData, row, **_) -> list[str]:
    referral.start_date = row.start_date = _check_start_date(referral, data.start_date)
    return ["start_date"]


def _step_discharge(referral: Referral, **_) -> list[str]:
    if referral.admission.status != Admission.Status.DISCHARGED:
        raise ValidationError(
            {"action": "The discharge is recorded on the ward board; the referral follows it."}
        )
    return []


def _step_discharge_cancel(referral: Referral, **_) -> list[str]:
    if referral.admission.status != Admission.Status.IN_HOSPITAL:
        raise ValidationError(
            {
                "action": "A discharge is cancelled by the hospital's ADT feed (A13); "
                "the referral follows it."
            }
        )
    return []


def _step_first_visit(referral: Referral, *, at: dt.datetime, **_) -> list[str]:
    referral.first_visit_at = at
    return ["first_visit_at"]


def _step_care_start(referral: Referral, *, at: dt.datetime, **_) -> list[str]:
    if referral.care_started_at is not None:
        started = timezone.localtime(referral.care_started_at)
        raise ValidationError({"action": f"Care has already started ({started:%d %b %H:%M})."})
    referral.care_started_at = at
    if referral.first_visit_at is None:
        referral.first_visit_at = at
    return ["care_started_at", "first_visit_at"]


def _step_note_only(referral: Referral, **_) -> list[str]:
    return []


def _end(referral: Referral, outcome: str, at: dt.datetime, row) -> list[str]:
    referral.outcome = row.outcome = outcome
    referral.outcome_recorded_at = at
    return ["outcome", "outcome_recorded_at"]


def _step_readmit(referral: Referral, *, at: dt.datetime, row, **_) -> list[str]:
    return _end(referral, Outcome.READMITTED, at, row)


def _step_end(referral: Referral, *, at: dt.datetime, data: _StepData, row, **_) -> list[str]:
    if data.outcome not in Outcome.values:
        raise ValidationError({"outcome": "Choose how the episode ended."})
    return _end(referral, data.outcome, at, row)


def _step_withdraw(referral: Referral, *, note: str, **_) -> list[str]:
    if not note:
        raise ValidationError({"note": "Say why the referral is withdrawn."})
    return []


def _step_rerefer(referral: Referral, **_) -> list[str]:
    admission = referral.admission
    if admission.status != Admission.Status.IN_HOSPITAL:
        raise ValidationError(
            {"action": "The patient has left hospital: there is nothing to re-refer."}
        )
    others = admission.transfer_referrals.exclude(pk=referral.pk).exclude(state__in=CLOSED_STATES)
    if others.exists():
        raise ValidationError({"action": "This patient already has an open referral to the hub."})
    referral.service = None
    referral.start_date = None
    return ["service", "start_date"]


_STEPS: dict[Action, Step] = {
    Action.TRIAGE: _step_triage,
    Action.OFFER: _step_offer,
    Action.DECLINE: _step_decline,
    Action.ACCEPT: _step_accept,
    Action.RESCHEDULE: _step_accept,
    Action.DISCHARGE: _step_discharge,
    Action.DISCHARGE_CANCEL: _step_discharge_cancel,
    Action.FIRST_VISIT: _step_first_visit,
    Action.CARE_START: _step_care_start,
    Action.NEEDS_CHANGE: _step_note_only,
    Action.READMIT: _step_readmit,
    Action.END: _step_end,
    Action.WITHDRAW: _step_withdraw,
    Action.REREFER: _step_rerefer,
}


def referral_admission_left(*, admission: Admission, by: User | None) -> Referral | None:
    """Follow a patient out of hospital: an accepted referral is discharged, any other withdrawn.

    Called by the discharge service inside its transaction (see pathways.apps).
    """
    referral = (
        _referrals_locked().filter(admission=admission).exclude(state__in=CLOSED_STATES).first()
    )
    if referral is None:
        return None
    # The admission row the discharge service has just written, not the one loaded above.
    referral.admission = admission
    at = max(admission.discharged_at or timezone.now(), _last_step_at(referral))
    if admission.status == Admission.Status.DISCHARGED and referral.state == State.ACCEPTED:
        action, note = Action.DISCHARGE, ""
    elif referral.state in IN_HOSPITAL_STATES:
        action = Action.WITHDRAW
        if admission.status == Admission.Status.DIED:
            note = "Died in hospital."
        else:
            note = (
                f"Left hospital on pathway {admission.actual_pathway_id} before a service "
                "accepted the referral."
            )
    else:
        return referral
    return _apply(referral, by=by, actors=None, action=action, at=at, note=note, data=_StepData())


def referral_discharge_cancelled(*, admission: Admission, by: User | None) -> Referral | None:
    """Follow a cancelled discharge back into hospital: a referral discharged with the patient
    and not yet started goes back to accepted, its service and start date kept.

    Called by the discharge service inside its transaction (see pathways.apps). A referral the
    provider has already started is left for the provider to end: someone visited the person.
    """
    referral = _referrals_locked().filter(admission=admission, state=State.DISCHARGED).first()
    if referral is None:
        return None
    referral.admission = admission
    return _apply(
        referral,
        by=by,
        actors=None,
        action=Action.DISCHARGE_CANCEL,
        at=max(timezone.now(), _last_step_at(referral)),
        note="The discharge was cancelled: the person is back in hospital.",
        data=_StepData(),
    )


def referral_patient_readmitted(*, admission: Admission, by: User | None) -> list[Referral]:
    """An emergency admission ends the support a person had at home after an earlier stay.

    Called by the admission service inside its transaction (see pathways.apps): each
    referral of the person's that had left hospital with them and not yet ended ends with
    the outcome "readmitted", as the provider's "Readmitted" step would.
    """
    if admission.method != Admission.Method.EMERGENCY:
        return []
    referrals = list(
        _referrals_locked()
        .filter(
            admission__patient_id=admission.patient_id,
            admission__discharged_at__lte=admission.admitted_at,
            state__in=[State.DISCHARGED, State.STARTED],
        )
        .exclude(admission=admission)
        .order_by("pk")
    )
    site = admission.site
    note = (
        f"Admitted again as an emergency to {site.name} on "
        f"{timezone.localtime(admission.admitted_at):%d %b %Y %H:%M}."
    )
    return [
        _apply(
            referral,
            by=by,
            actors=None,
            action=Action.READMIT,
            at=max(admission.admitted_at, referral.state_changed_at),
            note=note,
            data=_StepData(),
        )
        for referral in referrals
    ]


def referral_at_home_91_days_record(
    *, referral: Referral, by: User, at_home: bool, expected_version: int | None
) -> Referral:
    """Record whether the person is still at home 91 days after leaving hospital."""
    if not isinstance(at_home, bool):
        raise ValidationError({"at_home": "Answer yes or no."})
    with transaction.atomic(), pghistory.context(user=by.pk):
        referral = _locked(referral, expected_version)
        if not referral_actors(by, referral) & {Actor.HUB, Actor.PROVIDER}:
            raise NotAllowed("Only the hub or the provider records the 91-day check.")
        discharged_at = referral.admission.discharged_at
        if (
            referral.state not in (State.DISCHARGED, State.STARTED, State.ENDED)
            or not discharged_at
        ):
            raise ValidationError(
                {"at_home": "The person has not left hospital with this service."}
            )
        if referral.outcome == Outcome.DIED:
            raise ValidationError({"at_home": "The episode ended with the person's death."})
        due = timezone.localdate(discharged_at) + AT_HOME_CHECK_AFTER
        if timezone.localdate() < due:
            raise ValidationError({"at_home": f"The 91-day check falls due on {due:%d %b %Y}."})
        referral.at_home_91_days = at_home
        referral.at_home_91_days_recorded_at = timezone.now()
        referral.at_home_91_days_recorded_by = by
        _touch(
            referral,
            by=by,
            fields=[
                "at_home_91_days",
                "at_home_91_days_recorded_at",
                "at_home_91_days_recorded_by",
            ],
        )
    return referral


def referral_delay_reason_confirm(
    *, referral: Referral, by: User, reason: str, expected_version: int | None
) -> DelayEpisode:
    """Confirm (or change) the patient's delay reason while the referral holds them in hospital.

    ``expected_version`` is the admission's: the delay belongs to the admission.
    """
    referral = (
        Referral.objects.select_related("admission__site", "admission__patient", "service")
        .filter(pk=referral.pk)
        .first()
    )
    if not referral_actors(by, referral) & {Actor.WARD, Actor.HUB}:
        raise NotAllowed("Only the ward or the hub records why a patient is still in hospital.")
    if referral.state not in IN_HOSPITAL_STATES:
        raise ValidationError({"reason": "The referral no longer holds the patient in hospital."})
    return discharge_services.delay_reason_set(
        admission=referral.admission,
        by=by,
        reason=reason,
        expected_version=expected_version,
        responsible_organisation=_responsible_for(referral, reason),
    )


def board_suggestion_confirm(
    *, admission: Admission, by: User, reason_shown: str, delay_shown: str
) -> DelayEpisode:
    """Confirm from the board the delay reason a referral suggests, as the board showed it.

    Only the row's status cell is polled, so the admission's version the row holds may be old
    while what the nurse confirms is current. What must hold is what they saw: under the
    admission's lock the referral still suggests ``reason_shown`` and the open delay is still
    ``delay_shown`` (its reason code, or "" for none); otherwise SuggestionChanged, and nothing
    is saved.
    """
    with transaction.atomic():
        locked = Admission.objects.select_for_update().get(pk=admission.pk)
        referral = (
            _referrals_locked().filter(admission=locked).exclude(state__in=CLOSED_STATES).first()
        )
        open_delay = (
            DelayEpisode.objects.filter(admission=locked, ended_at__isnull=True)
            .values_list("reason_id", flat=True)
            .first()
        )
        suggested = referral.proposed_delay_reason_id if referral else None
        if suggested is None or (suggested, open_delay or "") != (reason_shown, delay_shown):
            raise SuggestionChanged("The suggestion or the delay has changed since it was shown.")
        return referral_delay_reason_confirm(
            referral=referral, by=by, reason=suggested, expected_version=locked.version
        )


def _responsible_for(referral: Referral, reason: str) -> Organisation | None:
    """Who holds the delay: the hub's council for hub reasons, the service's provider for its own."""
    if reason.startswith("HUB"):
        return referral.admission.patient.local_authority
    if referral.service_id and reason.startswith(("CAP", "INT")):
        return referral.service.provider
    return None
