"""Many people editing one plan at once, on real Postgres: no accepted edit lost, every other
edit refused with a conflict, nothing else."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from recovery_plans import services
from recovery_plans.models import Goal, PlanSection
from tests.factories import recovery_plan_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 8
EDITS_PER_THREAD = 12
SECTION_FIELDS = ["what_matters", "about_me", "how_to_support"]
GOAL_FIELDS = ["description", "measure"]


def test_concurrent_edits_lose_nothing(admission, ward_nurse, social_worker):
    plan = recovery_plan_for(admission, ward_nurse)
    goal = services.goal_add(plan=plan, by=ward_nurse, description="Walk to the shop")
    editors = [ward_nurse, social_worker]
    start = threading.Barrier(THREADS)

    def attempt(target: str, field: str, value: str, by):
        """Read the version as an editor's page would, then save one field from it."""
        if target == "section":
            seen = PlanSection.objects.get(plan=plan, key="about_me").version
            return services.section_update(
                plan=plan, key="about_me", by=by, content={field: value}, expected_version=seen
            )
        seen = Goal.objects.get(pk=goal.pk).version
        return services.goal_update(goal=goal, by=by, expected_version=seen, **{field: value})

    def edit(thread: int) -> list[tuple]:
        rng = random.Random(thread)
        outcomes = []
        start.wait()
        try:
            for n in range(EDITS_PER_THREAD):
                value = f"t{thread}-e{n}"
                target = rng.choice(["section", "goal"])
                field = rng.choice(SECTION_FIELDS if target == "section" else GOAL_FIELDS)
                try:
                    saved = attempt(target, field, value, editors[thread % 2])
                    outcomes.append((target, field, value, "accepted", saved.instance.version))
                except services.PlanConflict:
                    outcomes.append((target, field, value, "conflict", None))
        finally:
            connection.close()
        return outcomes

    with ThreadPoolExecutor(THREADS) as pool:
        results = [o for batch in pool.map(edit, range(THREADS)) for o in batch]

    assert len(results) == THREADS * EDITS_PER_THREAD  # every edit either saved or got a conflict
    section = PlanSection.objects.get(plan=plan, key="about_me")
    goal.refresh_from_db()
    finals = {"section": section.content, "goal": {f: getattr(goal, f) for f in GOAL_FIELDS}}
    accepted = [r for r in results if r[3] == "accepted"]
    for target, row in (("section", section), ("goal", goal)):
        mine = [r for r in accepted if r[0] == target]
        assert row.version == 1 + len(mine)  # one version per accepted edit, none skipped
        assert len({r[4] for r in mine}) == len(mine)  # each accepted edit made its own version
        for field in {r[1] for r in mine}:
            last = max((r for r in mine if r[1] == field), key=lambda r: r[4])
            assert finals[target][field] == last[2]  # the last accepted edit of a field stands
        history = {e.version: e for e in row.events.all()}
        for _target, field, value, _outcome, version in mine:
            stored = history[version].content if target == "section" else vars(history[version])
            assert stored[field] == value  # every accepted edit is in the audit history
    assert any(r[3] == "conflict" for r in results)  # the race really happened
