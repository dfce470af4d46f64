"""The transfer-of-care state machine: every legal (state, action) pair, where it leads and who may take it.

Anything not in :data:`TABLE` is refused. The services check the table, then the rules that
depend on the data (a start date, a service covering the person's area ...).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.db import models


class State(models.TextChoices):
    """Where a referral stands (stable codes)."""

    REFERRED = "referred", "Referred to the hub"
    TRIAGED = "triaged", "Triaged by the hub"
    OFFERED = "offered", "Offered to a service"
    ACCEPTED = "accepted", "Accepted with a start date"
    DISCHARGED = "discharged", "Discharged, awaiting first visit"
    STARTED = "started", "Service started"
    ENDED = "ended", "Episode ended"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Action(models.TextChoices):
    """What someone does to a referral (stable codes). Referring creates it: no state leads there."""

    REFER = "refer", "Refer to the hub"
    TRIAGE = "triage", "Triage: confirm or change the pathway"
    OFFER = "offer", "Offer to a service"
    DECLINE = "decline", "Decline the offer"
    ACCEPT = "accept", "Accept with a start date"
    RESCHEDULE = "reschedule", "Change the start date"
    DISCHARGE = "discharge", "Discharged from hospital"
    DISCHARGE_CANCEL = "discharge_cancel", "Discharge cancelled: back in hospital"
    FIRST_VISIT = "first_visit", "First visit done"
    CARE_START = "care_start", "Care started"
    NEEDS_CHANGE = "needs_change", "Needs changed"
    READMIT = "readmit", "Readmitted to hospital"
    END = "end", "End the episode with an outcome"
    WITHDRAW = "withdraw", "Withdraw the referral"
    REREFER = "rerefer", "Re-refer to the hub"


class Actor(enum.StrEnum):
    """The part someone plays for one referral; a discharge coordinator is both ward and hub."""

    WARD = "ward"  # ward staff and discharge coordinators of the admitting trust
    HUB = "hub"  # discharge coordinators of the trust, social workers of the person's council
    PROVIDER = "provider"  # staff of the provider whose service the referral is offered to


@dataclass(frozen=True)
class Transition:
    """Where a legal action leads, and who may take it."""

    to: State
    by: frozenset[Actor]


def _t(to: State, *by: Actor) -> Transition:
    return Transition(to=to, by=frozenset(by))


S, A = State, Action
WARD, HUB, PROVIDER = Actor.WARD, Actor.HUB, Actor.PROVIDER

TABLE: dict[tuple[State, Action], Transition] = {
    # The hub confirms or changes the pathway, then finds a service.
    (S.REFERRED, A.TRIAGE): _t(S.TRIAGED, HUB),
    (S.TRIAGED, A.TRIAGE): _t(S.TRIAGED, HUB),
    (S.TRIAGED, A.OFFER): _t(S.OFFERED, HUB),
    # The provider answers the offer; a decline hands the referral back to the hub.
    (S.OFFERED, A.ACCEPT): _t(S.ACCEPTED, PROVIDER),
    (S.OFFERED, A.DECLINE): _t(S.TRIAGED, PROVIDER),
    (S.ACCEPTED, A.RESCHEDULE): _t(S.ACCEPTED, PROVIDER),
    (S.ACCEPTED, A.NEEDS_CHANGE): _t(S.ACCEPTED, PROVIDER),
    # The ward records the discharge on the board; the referral follows it.
    (S.ACCEPTED, A.DISCHARGE): _t(S.DISCHARGED, WARD),
    # A discharge recorded in error and cancelled (ADT A13) takes the referral back with it.
    (S.DISCHARGED, A.DISCHARGE_CANCEL): _t(S.ACCEPTED, WARD),
    # At home: the provider reports what happens, in one tap each.
    (S.DISCHARGED, A.FIRST_VISIT): _t(S.STARTED, PROVIDER),
    (S.DISCHARGED, A.CARE_START): _t(S.STARTED, PROVIDER),
    (S.STARTED, A.CARE_START): _t(S.STARTED, PROVIDER),
    (S.DISCHARGED, A.NEEDS_CHANGE): _t(S.DISCHARGED, PROVIDER),
    (S.STARTED, A.NEEDS_CHANGE): _t(S.STARTED, PROVIDER),
    (S.DISCHARGED, A.READMIT): _t(S.ENDED, PROVIDER),
    (S.STARTED, A.READMIT): _t(S.ENDED, PROVIDER),
    (S.DISCHARGED, A.END): _t(S.ENDED, PROVIDER),
    (S.STARTED, A.END): _t(S.ENDED, PROVIDER),
    # Before the person leaves hospital the ward or the hub may withdraw; the ward may re-refer.
    (S.REFERRED, A.WITHDRAW): _t(S.WITHDRAWN, WARD, HUB),
    (S.TRIAGED, A.WITHDRAW): _t(S.WITHDRAWN, WARD, HUB),
    (S.OFFERED, A.WITHDRAW): _t(S.WITHDRAWN, WARD, HUB),
    (S.ACCEPTED, A.WITHDRAW): _t(S.WITHDRAWN, WARD, HUB),
    (S.WITHDRAWN, A.REREFER): _t(S.REFERRED, WARD),
}

# A referral in these states is finished: a new one may be made for the admission.
CLOSED_STATES = frozenset({S.ENDED, S.WITHDRAWN})
OPEN_STATES = frozenset(State) - CLOSED_STATES
# Waiting for someone to act before the service starts: the hub queue's stages.
WAITING_STATES = (S.REFERRED, S.TRIAGED, S.OFFERED, S.ACCEPTED, S.DISCHARGED)
# The person is still in hospital (the delay reason follows the referral).
IN_HOSPITAL_STATES = frozenset({S.REFERRED, S.TRIAGED, S.OFFERED, S.ACCEPTED})


class IllegalTransition(ValueError):
    """The action is not allowed from the referral's state."""


def next_state(state: str, action: str) -> Transition:
    """The transition for an action from a state; IllegalTransition (with the reason) when none."""
    try:
        transition = TABLE[(State(state), Action(action))]
    except ValueError as error:
        raise IllegalTransition(f"Unknown state or action: {state!r}, {action!r}.") from error
    except KeyError:
        allowed = ", ".join(a.label.lower() for a in actions_from(state)) or "nothing"
        raise IllegalTransition(
            f"A referral that is {State(state).label.lower()} cannot be "
            f"'{Action(action).label.lower()}'. From here: {allowed}."
        ) from None
    return transition


def actions_from(state: str) -> list[Action]:
    """The actions the table allows from a state, in the table's order."""
    return [action for (from_state, action) in TABLE if from_state == state]


def actions_for(state: str, actors: frozenset[Actor] | set[Actor]) -> list[Action]:
    """The actions these actors may take from a state."""
    return [
        action
        for (from_state, action), transition in TABLE.items()
        if from_state == state and transition.by & set(actors)
    ]
