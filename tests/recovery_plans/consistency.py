"""What must hold across a recovery plan's rows after any write."""

from __future__ import annotations

from recovery_plans.models import MAX_TEXT, Action, PlanChange, PlanSection, RecoveryPlan
from recovery_plans.sections import SECTIONS_BY_KEY


def assert_plan_consistent(plan_id: int) -> None:
    """Open pages can follow the plan's changes, and every section holds only its own fields."""
    plan = RecoveryPlan.objects.get(pk=plan_id)
    revisions = list(PlanChange.objects.filter(plan=plan).values_list("revision", flat=True))
    assert max(revisions) == plan.revision
    sections = {s.key: s for s in PlanSection.objects.filter(plan=plan)}
    assert set(sections) == set(SECTIONS_BY_KEY)
    for key, section in sections.items():
        allowed = {name for name, _label in SECTIONS_BY_KEY[key].fields}
        assert set(section.content) <= allowed
        assert all(isinstance(v, str) and len(v) <= MAX_TEXT for v in section.content.values())
        assert section.version >= 1
    for action in Action.objects.filter(plan=plan):
        done = action.status == Action.Status.DONE
        assert (action.done_at is not None) == done and (action.done_by_id is not None) == done
