"""What must hold between a referral, its steps and its admission after any write."""

from __future__ import annotations

import itertools

from discharge.models import Admission
from pathways.models import Referral, ReferralTransition
from pathways.transitions import IN_HOSPITAL_STATES, State


def assert_referral_consistent(referral_id: int) -> None:
    """The referral stands where its last step left it, and the steps chain from one to the next."""
    referral = Referral.objects.select_related("admission").get(pk=referral_id)
    steps = list(ReferralTransition.objects.filter(referral=referral).order_by("at", "pk"))
    assert steps and steps[0].from_state == ""
    for before, after in itertools.pairwise(steps):
        assert after.from_state == before.to_state
        assert after.at >= before.at
    assert referral.state == steps[-1].to_state
    assert referral.state_changed_at >= referral.created_at
    if referral.state in IN_HOSPITAL_STATES:
        assert referral.admission.status == Admission.Status.IN_HOSPITAL
    if referral.state == State.DISCHARGED:
        assert referral.admission.status == Admission.Status.DISCHARGED
    open_ones = Referral.objects.filter(admission=referral.admission).exclude(
        state__in=[State.ENDED, State.WITHDRAWN]
    )
    assert open_ones.count() <= 1
