"""One shared recovery plan per person: sections, goals, actions, contacts, reviews and people."""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from discharge.models import Patient
from homefirst.models import Organisation
from recovery_plans.sections import ALL_SECTION_KEYS, SECTIONS_BY_KEY

MAX_TEXT = 4000


def _user_fk(**kwargs) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", **kwargs
    )


class PlanOutcome(models.TextChoices):
    """How a plan ended."""

    HOME_INDEPENDENT = "home_independent", "At home, independent"
    HOME_WITH_SUPPORT = "home_with_support", "At home with ongoing support"
    LONG_TERM_CARE = "long_term_care", "Moved to long-term care"
    READMITTED = "readmitted", "Readmitted to hospital"
    DIED = "died", "Died"
    MOVED_AWAY = "moved_away", "Moved out of the area"


class Versioned(models.Model):
    """A row co-edited by several people: each save names the version it started from."""

    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = _user_fk(null=True, blank=True)

    class Meta:
        abstract = True


@pghistory.track()
class RecoveryPlan(models.Model):
    """The person's one active recovery plan, continuing after discharge until closed."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    Outcome = PlanOutcome

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="recovery_plans")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField(default=timezone.now)
    started_by = _user_fk()
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=30, choices=PlanOutcome.choices, blank=True)
    # Bumped by every change anywhere in the plan: open pages poll it to pick up others' edits.
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="active"), name="plan_one_active_per_patient"
            ),
            models.CheckConstraint(
                name="plan_closed_has_outcome_and_time",
                condition=Q(status="active", closed_at__isnull=True, outcome="")
                | (Q(status="closed", closed_at__isnull=False) & ~Q(outcome="")),
            ),
            models.CheckConstraint(
                name="plan_closed_after_start",
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("started_at")),
            ),
        ]

    def __str__(self) -> str:
        return f"Recovery plan for {self.patient.full_name}"


@pghistory.track()
class PlanSection(Versioned):
    """One free-text section of a plan; its fields live in ``content`` (see sections.py)."""

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="sections")
    key = models.CharField(max_length=30)
    content = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="plan_section_once"),
            models.CheckConstraint(
                name="plan_section_key_known", condition=Q(key__in=list(SECTIONS_BY_KEY))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} of plan {self.plan_id}"


@pghistory.track()
class Goal(Versioned):
    """A goal in the person's own words, with how they'll know they got there."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        ACHIEVED = "achieved", "Achieved"
        NO_LONGER_RELEVANT = "no_longer_relevant", "No longer relevant"

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="goals")
    description = models.TextField(help_text="In the person's own words.")
    measure = models.TextField(blank=True, help_text="How we will know it has been achieved.")
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(name="goal_has_words", condition=~Q(description="")),
            models.CheckConstraint(
                name="goal_status_known",
                condition=Q(
                    status__in=["not_started", "in_progress", "achieved", "no_longer_relevant"]
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class GoalProgressNote(models.Model):
    """A note of progress towards a goal; anyone on the plan, the family too, may add one."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="progress_notes")
    text = models.TextField()
    written_by = _user_fk()
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["written_at", "id"]
        constraints = [models.CheckConstraint(name="progress_note_has_text", condition=~Q(text=""))]
        triggers = [
            pgtrigger.Protect(
                name="progress_note_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]


@pghistory.track()
class Action(Versioned):
    """Something someone will do, by when, and whether it is done."""

    class Status(models.TextChoices):
        OPEN = "open", "To do"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="actions")
    what = models.TextField()
    owner_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    owner_person = models.CharField(max_length=200, blank=True)
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    done_by = _user_fk(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(name="action_has_words", condition=~Q(what="")),
            models.CheckConstraint(
                name="action_done_has_who_and_when",
                condition=~Q(status="done") | Q(done_by__isnull=False, done_at__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["plan", "status", "due_date"], name="action_overdue_idx")]

    def __str__(self) -> str:
        return self.what[:60]


@pghistory.track()
class Contact(Versioned):
    """Who to call about what."""

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    role = models.CharField(
        max_length=200, blank=True, help_text="For example: daughter, GP, reablement team."
    )
    phone = models.CharField(max_length=40, blank=True)
    about = models.CharField(max_length=300, blank=True, help_text="What to call them about.")

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(name="contact_has_name", condition=~Q(name=""))]

    def __str__(self) -> str:
        return self.name


@pghistory.track()
class PlanReview(Versioned):
    """A date to look at the plan again together."""

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="reviews")
    due_on = models.DateField()
    purpose = models.CharField(max_length=300, blank=True)
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"Review on {self.due_on}"


@pghistory.track()
class Participant(models.Model):
    """Someone added to the plan: a member of staff, or a family member or unpaid carer."""

    class Kind(models.TextChoices):
        STAFF = "staff", "Staff"
        FAMILY = "family", "Family or unpaid carer"

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_participations"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    relationship = models.CharField(max_length=100, blank=True)
    added_by = _user_fk(null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "user"], name="participant_once")]

    def __str__(self) -> str:
        return f"{self.user} on plan {self.plan_id}"


class FamilyInvitation(models.Model):
    """A single-use, expiring link inviting a family member or unpaid carer onto one plan."""

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="invitations")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    relationship = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = _user_fk()
    invited_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = _user_fk(null=True, blank=True)

    class Meta:
        ordering = ["-invited_at"]
        constraints = [
            models.CheckConstraint(
                name="invitation_expires_after_sent", condition=Q(expires_at__gt=F("invited_at"))
            ),
            models.CheckConstraint(
                name="invitation_accepted_by_someone",
                condition=Q(accepted_at__isnull=True, accepted_by__isnull=True)
                | Q(accepted_at__isnull=False, accepted_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.name} to plan {self.plan_id}"


class Comment(models.Model):
    """A comment on one section of the plan."""

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="comments")
    section = models.CharField(max_length=30)
    text = models.TextField()
    written_by = _user_fk()
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["written_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="comment_section_known", condition=Q(section__in=list(ALL_SECTION_KEYS))
            ),
            models.CheckConstraint(name="comment_has_text", condition=~Q(text="")),
        ]
        triggers = [
            pgtrigger.Protect(
                name="comment_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]


class PlanChange(models.Model):
    """Which section changed at which plan revision: open pages re-render only those."""

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="changes")
    revision = models.PositiveIntegerField()
    section = models.CharField(max_length=30)

    class Meta:
        indexes = [models.Index(fields=["plan", "revision"], name="plan_change_rev_idx")]

    def __str__(self) -> str:
        return f"{self.section} at revision {self.revision}"


class EditingLease(models.Model):
    """Someone has a section open for editing; the lease lapses on its own, it never blocks."""

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="leases")
    section = models.CharField(max_length=30)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "section", "user"], name="lease_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} editing {self.section}"
