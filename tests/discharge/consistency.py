"""What must hold between an admission and its history rows after any write, whoever made it."""

from __future__ import annotations

import itertools

from django.utils import timezone

from discharge.models import (
    Admission,
    CtrReview,
    DelayEpisode,
    ExpectedDischargeDateChange,
    PlannedPathwayChange,
    WardStay,
)
from discharge.services import CLOCK_SKEW


def assert_admission_consistent(admission_id: int) -> None:
    """The admission's row agrees with its ward stays, reviews, delays and change history."""
    admission = Admission.objects.get(pk=admission_id)
    open_stays = WardStay.objects.filter(admission=admission, ended_at__isnull=True)
    open_delays = DelayEpisode.objects.filter(admission=admission, ended_at__isnull=True)
    if admission.status == Admission.Status.IN_HOSPITAL:
        assert open_stays.count() == 1
        assert open_stays.get().ward_id == admission.current_ward_id
        assert admission.discharged_at is None
    else:
        assert not open_stays.exists()
        assert not open_delays.exists()
    if admission.discharged_at is not None:
        assert admission.discharged_at >= admission.admitted_at
    if open_delays.exists():
        assert admission.discharge_ready_date is not None
    delays = list(DelayEpisode.objects.filter(admission=admission).order_by("started_at", "pk"))
    for earlier, later in itertools.pairwise(delays):
        assert earlier.ended_at is not None and earlier.ended_at <= later.started_at
    latest = CtrReview.objects.filter(admission=admission).order_by("-reviewed_at", "-pk").first()
    assert admission.latest_review_id == (latest.pk if latest else None)
    if admission.discharge_ready_date is not None:
        assert latest is not None and latest.ready_to_leave
    stamps = [
        *CtrReview.objects.filter(admission=admission).values_list("reviewed_at", flat=True),
        *(d.started_at for d in delays),
        *admission.edd_changes.values_list("changed_at", flat=True),
        *admission.pathway_changes.values_list("changed_at", flat=True),
    ]
    assert all(admission.admitted_at <= at <= timezone.now() + CLOCK_SKEW for at in stamps)
    edd = ExpectedDischargeDateChange.objects.filter(admission=admission).order_by("-pk").first()
    if edd is not None:
        assert admission.expected_discharge_date == edd.expected_discharge_date
    planned = PlannedPathwayChange.objects.filter(admission=admission).order_by("-pk").first()
    if planned is not None:
        assert admission.planned_pathway_id == planned.pathway_id
