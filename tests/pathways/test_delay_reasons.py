"""The delay reason a referral's stage suggests, checked against NHS England's list."""

from __future__ import annotations

import csv

import pytest

from discharge.reference import DELAY_REASONS_CSV
from pathways.delay_reasons import propose_delay_reason
from pathways.models import KIND_PATHWAYS, ServiceKind
from pathways.transitions import State

with DELAY_REASONS_CSV.open(newline="", encoding="utf-8") as handle:
    NATIONAL = {row["code"]: row for row in csv.DictReader(handle)}


def test_the_issues_example_waiting_on_reablement_capacity():
    code = propose_delay_reason(state="offered", pathway="1", service_kind="home_reablement")
    assert code == "CAP05"
    assert NATIONAL[code]["family"] == "Capacity"
    assert NATIONAL[code]["reason"] == (
        "Home-based rehabilitation, reablement or recovery services not yet available"
    )


@pytest.mark.parametrize(
    ("state", "pathway", "kind", "code"),
    [
        ("referred", "1", None, "HUB03"),  # the hub has not confirmed needs and pathway
        ("referred", "3", None, "HUB03"),
        ("triaged", "1", None, "HUB02"),  # the hub is making the referrals
        ("triaged", "2", None, "HUB02"),
        ("triaged", "3", None, "HUB01"),  # a care home placement waits on funding
        ("offered", "1", "home_care", "CAP10"),
        ("offered", "1", "community_health", "CAP09"),
        ("offered", "2", "intermediate_care_bed", "CAP02"),
        ("offered", "3", "care_home_bed", "CAP11"),
        ("offered", "2", "equipment", "CAP04"),
        ("offered", "1", "housing_support", "CAP07"),
        ("accepted", "1", "home_reablement", "INT04"),  # waiting for the start date
        ("accepted", "1", "home_care", "INT08"),
        ("accepted", "1", "community_health", "INT07"),
        ("accepted", "2", "intermediate_care_bed", "INT01"),
        ("accepted", "3", "care_home_bed", "INT11"),
        ("accepted", "3", "equipment", "CAP04"),
        ("accepted", "1", "housing_support", "CAP06"),
        ("offered", "2", None, "CAP02"),  # no service named: the pathway decides
        ("accepted", "3", None, "INT11"),
    ],
)
def test_proposal_by_stage_pathway_and_service(state, pathway, kind, code):
    assert propose_delay_reason(state=state, pathway=pathway, service_kind=kind) == code


@pytest.mark.parametrize("state", ["discharged", "started", "ended", "withdrawn"])
def test_no_proposal_once_the_referral_holds_nobody_in_hospital(state):
    assert propose_delay_reason(state=state, pathway="1", service_kind="home_reablement") is None


@pytest.mark.parametrize("state", [State.REFERRED, State.TRIAGED, State.OFFERED, State.ACCEPTED])
@pytest.mark.parametrize("kind", list(ServiceKind))
def test_every_proposal_is_a_national_reason_for_the_pathway(state, kind):
    for pathway in KIND_PATHWAYS[kind]:
        code = propose_delay_reason(state=state, pathway=pathway, service_kind=kind)
        assert code in NATIONAL
        named = NATIONAL[code]["pathways"].split()
        assert not named or pathway in named, (code, pathway)
