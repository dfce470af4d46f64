"""Transfer-of-care figures, counted against the day the person left hospital (docs/metrics.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum
from django.utils import timezone

from dashboards.models import DailyTransfers, PendingRecompute
from homefirst.models import Membership
from pathways import services as transfers
from pathways.models import Referral, ServiceKind
from pathways.transitions import Action
from tests.dashboards.conftest import Story, ago, at, discharges, recompute
from tests.factories import ReferralFactory, ServiceFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role


def plus(day: dt.date, n: int) -> dt.date:
    return day + dt.timedelta(days=n)


@pytest.fixture
def hub(trust, council, provider, ward_nurse):
    """One login playing every part of a transfer: ward, hub and provider."""
    for organisation, role in (
        (trust, Role.DISCHARGE_COORDINATOR),
        (council, Role.SOCIAL_WORKER),
        (provider, Role.PROVIDER_STAFF),
    ):
        Membership.objects.create(user=ward_nurse, organisation=organisation, role=role)
    return ward_nurse


@pytest.fixture
def reablement(provider, council):
    return ServiceFactory(provider=provider, kind=ServiceKind.HOME_REABLEMENT, councils=[council])


@pytest.fixture
def rehab_bed(provider, council):
    return ServiceFactory(
        provider=provider, kind=ServiceKind.INTERMEDIATE_CARE_BED, councils=[council]
    )


class Transfer:
    """A referral of a story's admission, driven through the pathways services at past times."""

    def __init__(self, story: Story, service, *, referred: dt.date, pathway: str = "1") -> None:
        self.story = story
        self.by = story.by
        self.referral = ReferralFactory(
            admission=story.admission,
            referred_by=self.by,
            pathway=pathway,
            at=at(referred, 9),
        )
        for action, data in (
            (Action.TRIAGE, {"pathway": pathway}),
            (Action.OFFER, {"service": service}),
            (Action.ACCEPT, {"start_date": referred}),
        ):
            self.step(action, at(referred, 10), **data)

    def step(self, action: Action, moment: dt.datetime, **data) -> Transfer:
        self.referral.refresh_from_db()
        transfers.referral_transition(
            referral=self.referral,
            by=self.by,
            action=action,
            expected_version=self.referral.version,
            at=moment,
            **data,
        )
        return self

    def leave(self, day: dt.date, *, pathway: str = "1") -> Transfer:
        """The ward discharges the patient; the referral follows."""
        destination = "rehab_bed" if pathway == "2" else "usual_residence"
        self.story.discharge(day, 12, pathway=pathway, destination=destination)
        return self

    def visit(self, day: dt.date) -> Transfer:
        return self.step(Action.FIRST_VISIT, at(day, 11))

    def end(self, day: dt.date, outcome: str = "independent") -> Transfer:
        return self.step(Action.END, at(day, 16), outcome=outcome)

    def at_home(self, answer: bool) -> Transfer:
        self.referral.refresh_from_db()
        transfers.referral_at_home_91_days_record(
            referral=self.referral, by=self.by, at_home=answer, expected_version=None
        )
        return self


def figures(day: dt.date, **filters) -> dict:
    fields = [
        f.name
        for f in DailyTransfers._meta.concrete_fields
        if f.get_internal_type() == "PositiveIntegerField"
    ]
    sums = DailyTransfers.objects.filter(day=day, **filters).aggregate(
        **{f: Sum(f) for f in fields}
    )
    return {k: v or 0 for k, v in sums.items()}


def test_a_transfer_counts_on_the_discharge_day_with_days_from_drd_and_discharge_to_start(
    story, hub, reablement
):
    d = ago(20)
    soon = Transfer(story(at(plus(d, -6), 10)).ready(plus(d, -3)), reablement, referred=plus(d, -3))
    soon.leave(d).visit(plus(d, 1))
    late = Transfer(story(at(plus(d, -6), 10)).ready(plus(d, -2)), reablement, referred=plus(d, -2))
    late.leave(d).visit(plus(d, 4))
    waiting = Transfer(story(at(plus(d, -6), 10)), reablement, referred=plus(d, -1)).leave(d)
    waiting.referral.refresh_from_db()
    assert waiting.referral.state == "discharged"  # left hospital; no visit yet
    recompute(d, d)

    row = figures(d, pathway="1", kind=ServiceKind.HOME_REABLEMENT)
    assert row["transfers"] == 3
    assert row["started"] == 2
    assert row["started_next_day"] == 1  # the visit the day after; not the one 4 days after
    assert row["start_delay_days"] == 1 + 4
    # DRDs 3 and 2 days before discharge; visits 1 and 4 days after it.
    assert (row["started_with_drd"], row["drd_to_start_days"]) == (2, (3 + 1) + (2 + 4))
    assert figures(plus(d, 1))["transfers"] == 0  # counted on the day they left, not the visit's


def test_a_withdrawn_referral_is_not_a_transfer(story, hub, reablement):
    d = ago(10)
    gone = Transfer(story(at(plus(d, -3), 10)), reablement, referred=plus(d, -2))
    gone.step(Action.WITHDRAW, at(plus(d, -1), 9), note="Family will care for her.")
    gone.story.discharge(d)
    recompute(d, d)
    assert figures(d)["transfers"] == 0
    assert discharges(d)["discharges"] == 1


def test_outcomes_sum_to_the_ended_episodes_and_the_91_day_check_counts_once_recorded(
    story, hub, reablement
):
    d = ago(100)
    people = [
        Transfer(story(at(plus(d, -4), 10)), reablement, referred=plus(d, -2)).leave(d)
        for _ in range(4)
    ]
    for person in people:
        person.visit(plus(d, 1))
    people[0].end(plus(d, 30), "independent").at_home(True)
    people[1].end(plus(d, 35), "reduced_support").at_home(False)
    people[2].end(plus(d, 12), "readmitted")
    recompute(d, d)

    row = figures(d)
    assert row["ended"] == 3
    assert (row["independent"], row["reduced_support"], row["readmitted"]) == (1, 1, 1)
    assert (row["long_term_care"], row["died"]) == (0, 0)
    assert (row["at_home_91_checked"], row["at_home_91"]) == (2, 1)


def test_days_away_from_home_run_to_the_end_of_a_pathway_2_bed_stay(story, hub, rehab_bed):
    d = ago(30)
    bed = Transfer(story(at(plus(d, -5), 10)), rehab_bed, referred=plus(d, -2), pathway="2")
    bed.leave(d, pathway="2").step(Action.CARE_START, at(d, 15))
    story(at(plus(d, -3), 10)).discharge(d)  # home the day they left
    recompute(d, d)
    assert discharges(d)["days_away"] == 5 + 3  # the bed stay goes on: counted to discharge

    bed.end(plus(d, 14), "independent")
    recompute(d, d)
    assert discharges(d)["days_away"] == (5 + 14) + 3
    assert figures(d, pathway="2", kind=ServiceKind.INTERMEDIATE_CARE_BED)["started"] == 1


def test_a_step_after_discharge_marks_the_discharge_day_stale(
    story, hub, reablement, queued, django_capture_on_commit_callbacks
):
    d = ago(40)
    person = Transfer(story(at(plus(d, -4), 10)), reablement, referred=plus(d, -2)).leave(d)
    PendingRecompute.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        person.visit(plus(d, 2))
    stale = PendingRecompute.objects.get(site_id=person.story.admission.site_id)
    assert stale.first_day == d
    assert len(queued) == 1


def test_steps_before_discharge_leave_the_figures_alone(
    story, hub, reablement, queued, django_capture_on_commit_callbacks
):
    d = ago(3)
    waiting = Transfer(story(at(plus(d, -1), 10)), reablement, referred=d)
    PendingRecompute.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        waiting.step(Action.RESCHEDULE, at(plus(d, 1), 9), start_date=plus(d, 2))
    assert not PendingRecompute.objects.exists()
    assert queued == []
    assert Referral.objects.get().state == "accepted"


def test_transfer_figures_are_idempotent(story, hub, reablement):
    d = ago(15)
    Transfer(story(at(plus(d, -4), 10)), reablement, referred=plus(d, -2)).leave(d).visit(
        plus(d, 1)
    )
    recompute(d, d)
    first = list(DailyTransfers.objects.values())
    recompute(d, d)
    assert list(DailyTransfers.objects.values()) == first
    assert timezone.localdate() > d
