"""seed_demo's transfers of care: services with capacity, referrals at every stage, finished episodes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest
from django.db.models import Count
from django.utils import timezone

from discharge.models import Admission
from homefirst.demo.history import demo_seed, demo_today
from homefirst.demo.transfers import NOW_TIME
from pathways.delay_reasons import propose_delay_reason
from pathways.models import Referral, ReferralTransition, Service, ServiceCapacity
from pathways.transitions import TABLE, Action, State

pytestmark = pytest.mark.django_db

SMALL = {"beds": 60, "days": 45, "seed": 3}


def fingerprint() -> list[tuple]:
    referrals = Referral.objects.values_list(
        "admission__patient__nhs_number", "state", "created_at", "service__name", "outcome"
    )
    steps = ReferralTransition.objects.values_list(
        "referral__admission__patient__nhs_number", "action", "at", "by__username"
    )
    return sorted(referrals) + sorted(steps, key=str)


@pytest.fixture
def seeded(db):
    demo_seed(**SMALL)


def test_every_kind_of_service_exists_with_areas_and_a_week_of_capacity(seeded):
    kinds = set(Service.objects.values_list("kind", flat=True))
    assert kinds == {k.value for k in Service.Kind}
    assert not Service.objects.annotate(n=Count("service_areas")).filter(n=0).exists()
    today = demo_today()
    week = [today + dt.timedelta(days=i) for i in range(7)]
    for service in Service.objects.all():
        days = set(ServiceCapacity.objects.filter(service=service).values_list("day", flat=True))
        assert set(week) <= days, service.name


def test_todays_inpatients_have_referrals_at_every_stage_and_past_discharges_finished_episodes(
    seeded,
):
    inpatient = Counter(
        Referral.objects.filter(admission__status="in_hospital").values_list("state", flat=True)
    )
    for state in (State.REFERRED, State.TRIAGED, State.OFFERED, State.ACCEPTED, State.WITHDRAWN):
        assert inpatient[state], state
    left = Counter(
        Referral.objects.exclude(admission__status="in_hospital").values_list("state", flat=True)
    )
    for state in (State.DISCHARGED, State.STARTED, State.ENDED):
        assert left[state], state
    outcomes = set(Referral.objects.exclude(outcome="").values_list("outcome", flat=True))
    assert {"independent", "reduced_support", "long_term_care"} <= outcomes
    assert not Referral.objects.filter(admission__planned_pathway="0").exists()


def test_each_referral_is_a_legal_walk_through_the_state_machine(seeded):
    # The demo's clock: its "now" is the latest 09:30 (the morning board round), so no step
    # may come after that, nor after the real now.
    now = timezone.make_aware(dt.datetime.combine(demo_today(), NOW_TIME))
    assert now <= timezone.now()
    referrals = Referral.objects.select_related("admission", "service").prefetch_related(
        "transitions"
    )
    for referral in referrals:
        steps = list(referral.transitions.all())
        assert steps[0].action == Action.REFER and steps[0].from_state == ""
        assert steps[0].at == referral.created_at >= referral.admission.admitted_at
        for before, after in itertools.pairwise(steps):
            assert after.from_state == before.to_state
            assert after.at >= before.at
            assert TABLE[(State(after.from_state), Action(after.action))].to == after.to_state
        assert steps[-1].to_state == referral.state
        changed = [s.at for s in steps if s.from_state != s.to_state]
        assert referral.state_changed_at == changed[-1]
        assert steps[-1].at <= now
        admission = referral.admission
        if admission.status == Admission.Status.IN_HOSPITAL:
            assert referral.state in (
                State.REFERRED,
                State.TRIAGED,
                State.OFFERED,
                State.ACCEPTED,
                State.WITHDRAWN,
            )
        for s in steps:
            if s.action == Action.DISCHARGE:
                assert s.at == admission.discharged_at
                assert referral.start_date == timezone.localdate(admission.discharged_at)
            if admission.discharged_at and s.action in (Action.TRIAGE, Action.OFFER, Action.ACCEPT):
                assert s.at <= admission.discharged_at
        expected = propose_delay_reason(
            state=referral.state,
            pathway=referral.pathway_id,
            service_kind=referral.service.kind if referral.service else None,
        )
        assert referral.proposed_delay_reason_id == expected


def test_the_same_seed_gives_the_same_referrals(db):
    demo_seed(**SMALL)
    first = fingerprint()
    demo_seed(**SMALL, reset=True)
    assert fingerprint() == first
    demo_seed(**{**SMALL, "seed": 4}, reset=True)
    assert fingerprint() != first


def test_some_91_day_checks_are_recorded_and_only_when_due(db):
    demo_seed(beds=40, days=130, seed=5)
    checked = Referral.objects.filter(at_home_91_days__isnull=False).select_related("admission")
    assert checked.exists()
    for referral in checked:
        assert (
            referral.at_home_91_days_recorded_at
            >= referral.admission.discharged_at + dt.timedelta(days=91)
        )
        assert referral.outcome != "died"
    due = Referral.objects.filter(
        at_home_91_days__isnull=True,
        state__in=[State.DISCHARGED, State.STARTED, State.ENDED],
        admission__discharged_at__lt=timezone.now() - dt.timedelta(days=92),
    ).exclude(outcome="died")
    assert due.exists(), "some checks are still to do"
