"""Demo recovery plans: a few of today's inpatients already have one, and a relative is on one."""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from discharge.models import Admission
from homefirst.demo.personas import DEMO_PASSWORD, FAMILY_USERNAME, TRUST_ODS
from homefirst.models import Organisation, User
from recovery_plans import services
from recovery_plans.models import Participant, PlanSection

PLANS = 12

WHAT_MATTERS = [
    "Getting back to my allotment before the spring.",
    "Being at home with my cat, Biscuit.",
    "Seeing my grandchildren on Sundays.",
    "Going to the lunch club on Wednesdays again.",
]
GOALS = [
    ("Walk to the corner shop on my own", "Twice a week without stopping"),
    ("Make my own breakfast", "Every morning for a week"),
    ("Get up the stairs to my bedroom", "With the rail, once a day"),
    ("Go to church on Sunday", "With my daughter driving"),
]


def plans_seed(*, seed: int) -> int:
    """Start recovery plans for some of today's pathway 1-3 inpatients; returns how many.

    Through the services, so at the real now (not the demo's 09:30): their dates run from today.
    """
    rng = random.Random(seed)
    nurse = User.objects.get(username="nurse")
    social_worker = User.objects.get(username="socialworker")
    inpatients = list(
        Admission.objects.filter(
            status=Admission.Status.IN_HOSPITAL,
            site__organisation__ods_code=TRUST_ODS,
            planned_pathway__in=["1", "2", "3"],
        )
        .select_related("patient")
        .order_by("pk")[:PLANS]
    )
    trust = Organisation.objects.get(ods_code=TRUST_ODS)
    for n, admission in enumerate(inpatients):
        plan = services.plan_start(patient=admission.patient, by=nurse)
        about = PlanSection.objects.get(plan=plan, key="about_me")
        services.section_update(
            plan=plan,
            key="about_me",
            by=social_worker,
            expected_version=about.version,
            content={"what_matters": rng.choice(WHAT_MATTERS)},
        )
        words, measure = rng.choice(GOALS)
        services.goal_add(
            plan=plan,
            by=social_worker,
            description=words,
            measure=measure,
            target_date=timezone.localdate() + dt.timedelta(days=rng.randint(7, 42)),
        )
        services.action_add(
            plan=plan,
            by=nurse,
            what="Occupational therapy home visit",
            owner_organisation=trust,
            due_date=timezone.localdate() + dt.timedelta(days=rng.randint(0, 5)),
        )
        services.action_add(
            plan=plan,
            by=nurse,
            what="Assess care needs",
            owner_organisation=admission.patient.local_authority,
            due_date=timezone.localdate() + dt.timedelta(days=rng.randint(1, 7)),
        )
        services.contact_add(
            plan=plan,
            by=nurse,
            name=f"{admission.current_ward.name} nurses' station",
            role="Hospital ward",
            phone=f"0113 392 {4000 + n:04d}",
            about="How I am today",
        )
        if n == 0:
            _relative_add(plan)
    return len(inpatients)


def _relative_add(plan) -> None:
    """A relative with a login on the first plan, as an accepted invitation would leave them."""
    relative, _ = User.objects.update_or_create(
        username=FAMILY_USERNAME,
        defaults={
            "first_name": "Sam",
            "last_name": "Lee",
            "email": "sam.lee@homefirst.example",
            "password": make_password(DEMO_PASSWORD),
        },
    )
    Participant.objects.get_or_create(
        plan=plan,
        user=relative,
        defaults={
            "kind": Participant.Kind.FAMILY,
            "relationship": "Daughter",
            "added_by": plan.started_by,
        },
    )
