"""Every read of recovery plans, already scoped to the person asking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pghistory.models
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from discharge.selectors import patients_visible_to
from homefirst.models import Membership, Organisation, User
from homefirst.selectors import memberships_of
from pathways.selectors import referrals_visible_to, with_referral_data
from recovery_plans.models import (
    Action,
    Comment,
    EditingLease,
    Goal,
    GoalProgressNote,
    Participant,
    PlanChange,
    RecoveryPlan,
)
from recovery_plans.sections import ALL_SECTION_KEYS, SECTIONS, SECTIONS_BY_KEY

STAFF_ROLES = {r for r in Membership.Role if r != Membership.Role.SYSTEM_LEADER}


def is_staff_member(user: User) -> bool:
    """Staff of an organisation in the person's care (system leaders see counts only)."""
    return any(m.role in STAFF_ROLES for m in memberships_of(user))


def plans_visible_to(user: User) -> QuerySet[RecoveryPlan]:
    """Plans of people the user's organisation cares for, and plans the user was added to."""
    as_participant = Q(pk__in=Participant.objects.filter(user=user).values("plan_id"))
    if not is_staff_member(user):
        return RecoveryPlan.objects.filter(as_participant)
    return RecoveryPlan.objects.filter(
        as_participant | Q(patient_id__in=patients_visible_to(user).values("pk"))
    )


def is_family_on(plan: RecoveryPlan, user: User) -> bool:
    """True when the user is on this plan as family or an unpaid carer (not as staff)."""
    return Participant.objects.filter(plan=plan, user=user, kind=Participant.Kind.FAMILY).exists()


def involved_organisation_ids(plan: RecoveryPlan) -> set[int]:
    """Organisations in the person's care: admitting trusts, their council, staff on the plan."""
    patient = plan.patient
    ids = {patient.local_authority_id}
    ids |= set(patient.admissions.values_list("site__organisation_id", flat=True))
    ids |= set(
        Membership.objects.filter(
            user__plan_participations__plan=plan, user__plan_participations__kind="staff"
        ).values_list("organisation_id", flat=True)
    )
    return ids


def involved_organisations(plan: RecoveryPlan) -> QuerySet[Organisation]:
    return Organisation.objects.filter(pk__in=involved_organisation_ids(plan)).order_by("name")


PAGE_ORDER = (
    "about_me",
    "support_network",
    "needs",
    "goals",
    "actions",
    "services",
    "risks",
    "contacts",
    "reviews",
)


@dataclass(frozen=True)
class SectionBlock:
    """One section of the plan as the page shows it."""

    key: str
    title: str
    hint: str
    is_list: bool
    fields: list[tuple[str, str, str]]  # (name, label, value) for a text section
    section: object | None
    comments: list


@dataclass(frozen=True)
class PlanView:
    """Everything the plan page shows, loaded in a fixed number of queries."""

    plan: RecoveryPlan
    sections: dict  # key -> PlanSection
    goals: list[Goal]
    actions: list[Action]
    contacts: list
    reviews: list
    comments: dict  # section key -> [Comment]
    participants: list[Participant]
    today: dt.date
    referrals: list = field(default_factory=list)  # transfers of care the user may see

    @property
    def overdue_actions(self) -> list[Action]:
        return [
            a for a in self.actions if a.status == Action.Status.OPEN and a.due_date < self.today
        ]

    def block(self, key: str) -> SectionBlock:
        """One section with its fields' current values and its comments."""
        spec = SECTIONS_BY_KEY.get(key)
        section = self.sections.get(key)
        content = section.content if section else {}
        return SectionBlock(
            key=key,
            title=ALL_SECTION_KEYS[key],
            hint=spec.hint if spec else "",
            is_list=spec is None,
            fields=[(name, label, content.get(name, "")) for name, label in spec.fields]
            if spec
            else [],
            section=section,
            comments=self.comments.get(key, []),
        )

    @property
    def blocks(self) -> list[SectionBlock]:
        return [self.block(key) for key in PAGE_ORDER]


def plan_for_page(*, user: User, plan_id: int) -> PlanView | None:
    """A visible plan with its sections, items, comments and people; None when out of reach."""
    plan = (
        plans_visible_to(user)
        .select_related("patient", "patient__local_authority", "started_by")
        .prefetch_related(
            "sections__updated_by",
            Prefetch(
                "goals",
                queryset=Goal.objects.select_related("updated_by").prefetch_related(
                    Prefetch(
                        "progress_notes",
                        queryset=GoalProgressNote.objects.select_related("written_by"),
                    )
                ),
            ),
            Prefetch(
                "actions",
                queryset=Action.objects.select_related(
                    "owner_organisation", "done_by", "updated_by"
                ),
            ),
            "contacts",
            "reviews",
            Prefetch("comments", queryset=Comment.objects.select_related("written_by")),
            Prefetch("participants", queryset=Participant.objects.select_related("user")),
        )
        .filter(pk=plan_id)
        .first()
    )
    if plan is None:
        return None
    comments: dict[str, list[Comment]] = {key: [] for key in ALL_SECTION_KEYS}
    for comment in plan.comments.all():
        comments[comment.section].append(comment)
    return PlanView(
        plan=plan,
        sections={s.key: s for s in plan.sections.all()},
        goals=list(plan.goals.all()),
        actions=list(plan.actions.all()),
        contacts=list(plan.contacts.all()),
        reviews=list(plan.reviews.all()),
        comments=comments,
        participants=list(plan.participants.all()),
        today=timezone.localdate(),
        referrals=_referrals_of(user, plan),
    )


def _referrals_of(user: User, plan: RecoveryPlan) -> list:
    """The person's transfers of care the user may see, for the Services involved section."""
    referrals = referrals_visible_to(user).filter(admission__patient_id=plan.patient_id)
    return list(with_referral_data(referrals).order_by("-created_at", "-pk"))


def active_plan_for_patient(*, user: User, patient_id: int) -> RecoveryPlan | None:
    return (
        plans_visible_to(user)
        .filter(patient_id=patient_id, status=RecoveryPlan.Status.ACTIVE)
        .first()
    )


def sections_changed_since(*, plan: RecoveryPlan, revision: int) -> list[str]:
    """Section keys changed after a revision the page already shows."""
    return sorted(
        set(
            PlanChange.objects.filter(plan=plan, revision__gt=revision).values_list(
                "section", flat=True
            )
        )
    )


@dataclass(frozen=True)
class Presence:
    """Someone else has a section open right now."""

    name: str
    role: str
    organisation: str
    section: str
    section_title: str


def presence_on(*, plan: RecoveryPlan, user: User) -> list[Presence]:
    """Who else is editing which section now (their leases have not lapsed)."""
    leases = (
        EditingLease.objects.filter(plan=plan, expires_at__gt=timezone.now())
        .exclude(user=user)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "user__memberships", queryset=Membership.objects.select_related("organisation")
            )
        )
        .order_by("section", "user__first_name")
    )
    present = []
    for lease in leases:
        membership = next(iter(lease.user.memberships.all()), None)
        present.append(
            Presence(
                name=lease.user.first_name or lease.user.username,
                role=membership.get_role_display().lower() if membership else "family",
                organisation=membership.organisation.name if membership else "",
                section=lease.section,
                section_title=ALL_SECTION_KEYS[lease.section],
            )
        )
    return present


def plan_flags_for_patients(patient_ids: list[int], today: dt.date) -> dict[int, tuple[int, int]]:
    """For each patient with an active plan: (plan id, overdue actions), in one query."""
    overdue = Count("actions", filter=Q(actions__status="open", actions__due_date__lt=today))
    rows = (
        RecoveryPlan.objects.filter(patient_id__in=patient_ids, status=RecoveryPlan.Status.ACTIVE)
        .annotate(overdue=overdue)
        .values_list("patient_id", "pk", "overdue")
    )
    return {patient_id: (plan_id, n) for patient_id, plan_id, n in rows}


@dataclass(frozen=True)
class TimelineEntry:
    """One change to the plan: who, from which organisation, when, and before and after."""

    at: dt.datetime
    who: str
    organisation: str
    what: str
    changes: list[tuple[str, object, object]]


_HIDDEN = {"version", "updated_at", "updated_by", "revision", "id", "plan"}


def plan_timeline(plan: RecoveryPlan, limit: int = 300) -> list[TimelineEntry]:
    """Every audited change to the plan and its parts, newest first, from the audit history."""
    events_of = pghistory.models.Events.objects.order_by("-pgh_created_at")
    events = list(events_of.references(plan)[:limit]) + list(events_of.tracks(plan)[:limit])
    events = sorted(
        {e.pgh_slug: e for e in events}.values(),
        key=lambda e: (e.pgh_created_at, e.pgh_id),
        reverse=True,
    )
    user_ids = {(e.pgh_context or {}).get("user") for e in events} - {None}
    users = {
        u.pk: u
        for u in User.objects.filter(pk__in=user_ids).prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("organisation"))
        )
    }
    entries = []
    for e in events[:limit]:
        user = users.get((e.pgh_context or {}).get("user"))
        membership = next(iter(user.memberships.all()), None) if user else None
        diff = e.pgh_diff or {}
        changes = [(k, v[0], v[1]) for k, v in diff.items() if k not in _HIDDEN]
        if e.pgh_obj_model.endswith("PlanSection") and "content" in diff:
            before, after = diff["content"][0] or {}, diff["content"][1] or {}
            changes = [
                (k, before.get(k), after.get(k)) for k in after if before.get(k) != after.get(k)
            ]
        entries.append(
            TimelineEntry(
                at=e.pgh_created_at,
                who=user.display_name if user else "HomeFirst",
                organisation=membership.organisation.name
                if membership
                else ("family" if user else ""),
                what=_describe(e),
                changes=changes,
            )
        )
    return entries


def _describe(event) -> str:
    model = event.pgh_obj_model.split(".")[-1]
    data = event.pgh_data or {}
    noun = {"PlanSection": "Section", "RecoveryPlan": "Plan", "PlanReview": "Review date"}.get(
        model, model
    )
    if model == "PlanSection":
        noun = dict((s.key, s.title) for s in SECTIONS).get(data.get("key"), "Section")
    verb = "added" if event.pgh_label == "insert" else "changed"
    return f"{noun} {verb}"


def family_plans(user: User) -> QuerySet[RecoveryPlan]:
    """The plans a family member was invited to."""
    return RecoveryPlan.objects.filter(
        participants__user=user, participants__kind=Participant.Kind.FAMILY
    ).select_related("patient")
