"""Every write to a recovery plan: co-edited safely, audited, and announced to open pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pghistory
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from discharge.models import Patient
from homefirst.models import Organisation, User
from recovery_plans import selectors
from recovery_plans.merge import MergeResult, merge
from recovery_plans.models import (
    MAX_TEXT,
    Action,
    Comment,
    Contact,
    EditingLease,
    FamilyInvitation,
    Goal,
    GoalProgressNote,
    Participant,
    PlanChange,
    PlanReview,
    PlanSection,
    RecoveryPlan,
)
from recovery_plans.sections import ALL_SECTION_KEYS, SECTIONS, SECTIONS_BY_KEY, empty_content

INVITATION_LIFETIME = dt.timedelta(days=7)
LEASE_LIFETIME = dt.timedelta(seconds=30)


class PlanConflict(Exception):
    """Someone else changed the same fields differently since this edit began; nothing was saved."""

    def __init__(
        self,
        *,
        current: models.Model,
        conflicts: tuple[str, ...],
        theirs: Mapping,
        mine: Mapping,
        proposed: Mapping | None = None,
    ):
        super().__init__(f"Conflicting edits to {', '.join(conflicts)}")
        self.current = current
        self.conflicts = conflicts
        self.theirs = dict(theirs)
        self.mine = dict(mine)
        # What the editor's form should hold to try again from the current version: the others'
        # changes to the fields that do not clash, and the editor's own values where they do.
        # Resubmitting it then overwrites nothing the editor has not seen.
        self.proposed = dict(proposed if proposed is not None else {**theirs, **mine})
        self.by = getattr(current, "updated_by", None)
        self.at = getattr(current, "updated_at", None)


@dataclass(frozen=True)
class Saved:
    """A saved co-edit: the row as it now is, and whether others' changes were merged in."""

    instance: models.Model
    merged: bool


# --- Guards and bookkeeping -------------------------------------------------------------------


def _locked_plan(plan: RecoveryPlan) -> RecoveryPlan:
    """Lock the plan row: every write to a plan passes here first, so locks come in one order."""
    locked = RecoveryPlan.objects.select_for_update().get(pk=plan.pk)
    if locked.status != RecoveryPlan.Status.ACTIVE:
        raise ValidationError({"__all__": "This plan has been closed."})
    return locked


def _require_staff(plan: RecoveryPlan, by: User) -> None:
    if selectors.is_family_on(plan, by) or not selectors.is_staff_member(by):
        raise PermissionError("Only staff involved in the person's care can change this.")


def _announce(plan: RecoveryPlan, section: str) -> None:
    """Bump the plan's revision and note which section changed, for pages polling it."""
    RecoveryPlan.objects.filter(pk=plan.pk).update(revision=F("revision") + 1)
    plan.refresh_from_db(fields=["revision"])
    PlanChange.objects.create(plan=plan, revision=plan.revision, section=section)


def _text(field: str, value: str | None, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise ValidationError({field: "Remove the NUL character: it cannot be stored."})
    if required and not value:
        raise ValidationError({field: "This cannot be empty."})
    if len(value) > limit:
        raise ValidationError(
            {field: f"Keep this to {limit} characters or fewer (it has {len(value)})."}
        )
    return value


def _not_before_plan(field: str, day: dt.date | None, plan: RecoveryPlan) -> None:
    if day is not None and day < timezone.localdate(plan.started_at):
        raise ValidationError({field: "This date is before the plan started."})


def _co_edit(
    *, current: models.Model, by: User, expected_version: int, mine: Mapping[str, Any], read, write
) -> Saved:
    """Apply an edit that began at ``expected_version`` to the locked row ``current``.

    Nothing changed meanwhile: apply. Others changed other fields: merge. Others changed the
    same fields differently: raise PlanConflict and save nothing.
    """
    theirs = read(current)
    if current.version == expected_version:
        result, merged = MergeResult(merged={**theirs, **mine}), False
    else:
        base_event = current.events.filter(version=expected_version).order_by("-pgh_id").first()
        if base_event is None:
            raise PlanConflict(
                current=current, conflicts=tuple(sorted(mine)), theirs=theirs, mine=mine
            )
        result, merged = merge(read(base_event), theirs, mine), True
        if not result.clean:
            raise PlanConflict(
                current=current,
                conflicts=result.conflicts,
                theirs=theirs,
                mine=mine,
                proposed={**result.merged, **{name: mine[name] for name in result.conflicts}},
            )
    write(current, result.merged)
    current.version += 1
    current.updated_by = by
    current.updated_at = timezone.now()
    current.save()
    return Saved(instance=current, merged=merged)


def _fields(*names: str):
    """Read and write helpers for co-editing plain model fields."""

    def read(obj) -> dict:
        return {name: getattr(obj, name) for name in names}

    def write(obj, values: Mapping) -> None:
        for name in names:
            setattr(obj, name, values[name])

    return read, write


def _content_read(obj) -> dict:
    return dict(obj.content or {})


def _content_write(obj, values: Mapping) -> None:
    obj.content = dict(values)


def _item_update(
    *,
    item: models.Model,
    by: User,
    expected_version: int,
    section: str,
    fields: tuple[str, ...],
    clean,
    write=None,
) -> Saved:
    """Co-edit one item of a plan's lists: staff only, locked, merged, announced."""
    with transaction.atomic(), pghistory.context(user=by.pk):
        plan = _locked_plan(item.plan)
        _require_staff(plan, by)
        mine = clean(plan)
        current = (
            type(item)
            .objects.select_for_update(of=("self",))
            .select_related("updated_by")
            .get(pk=item.pk)
        )
        read, write_fields = _fields(*fields)
        saved = _co_edit(
            current=current,
            by=by,
            expected_version=expected_version,
            mine=mine,
            read=read,
            write=write or write_fields,
        )
        _announce(plan, section)
    return saved


# --- The plan ---------------------------------------------------------------------------------


def plan_start(*, patient: Patient, by: User) -> RecoveryPlan:
    """Start the person's recovery plan, with every section ready to fill in."""
    if not selectors.is_staff_member(by):
        raise PermissionError("Only staff can start a plan.")
    try:
        with transaction.atomic(), pghistory.context(user=by.pk):
            plan = RecoveryPlan.objects.create(patient=patient, started_by=by)
            PlanSection.objects.bulk_create(
                PlanSection(plan=plan, key=s.key, content=empty_content(s.key), updated_by=by)
                for s in SECTIONS
            )
            PlanChange.objects.create(plan=plan, revision=plan.revision, section="plan")
    except IntegrityError as error:
        if "plan_one_active_per_patient" in str(error):
            raise ValidationError(
                {"__all__": "This person already has an active recovery plan."}
            ) from error
        raise
    return plan


def plan_close(*, plan: RecoveryPlan, by: User, outcome: str) -> RecoveryPlan:
    """Close the plan with how things turned out."""
    if outcome not in RecoveryPlan.Outcome.values:
        raise ValidationError({"outcome": "Choose how the plan ended."})
    with transaction.atomic(), pghistory.context(user=by.pk):
        plan = _locked_plan(plan)
        _require_staff(plan, by)
        plan.status = RecoveryPlan.Status.CLOSED
        plan.outcome = outcome
        plan.closed_at = timezone.now()
        plan.save(update_fields=["status", "outcome", "closed_at"])
        _announce(plan, "plan")
    return plan


def section_update(
    *, plan: RecoveryPlan, key: str, by: User, content: Mapping[str, str], expected_version: int
) -> Saved:
    """Save a section's fields, merging with others' edits to other fields."""
    spec = SECTIONS_BY_KEY.get(key)
    if spec is None:
        raise ValidationError({"__all__": "Unknown section."})
    mine = {
        name: _text(name, content.get(name, "")) for name, _label in spec.fields if name in content
    }
    with transaction.atomic(), pghistory.context(user=by.pk):
        plan = _locked_plan(plan)
        if not spec.family_may_edit:
            _require_staff(plan, by)
        section = (
            PlanSection.objects.select_for_update(of=("self",))
            .select_related("updated_by")
            .get(plan=plan, key=key)
        )
        saved = _co_edit(
            current=section,
            by=by,
            expected_version=expected_version,
            mine=mine,
            read=_content_read,
            write=_content_write,
        )
        _announce(plan, key)
    return saved


# --- Goals ------------------------------------------------------------------------------------

GOAL_FIELDS = ("description", "measure", "target_date", "status")


def _goal_values(plan: RecoveryPlan, values: Mapping[str, Any]) -> dict:
    cleaned = {}
    if "description" in values:
        cleaned["description"] = _text("description", values["description"], required=True)
    if "measure" in values:
        cleaned["measure"] = _text("measure", values["measure"])
    if "target_date" in values:
        _not_before_plan("target_date", values["target_date"], plan)
        cleaned["target_date"] = values["target_date"]
    if "status" in values:
        if values["status"] not in Goal.Status.values:
            raise ValidationError({"status": "Choose a status from the list."})
        cleaned["status"] = values["status"]
    return cleaned


def goal_add(
    *,
    plan: RecoveryPlan,
    by: User,
    description: str,
    measure: str = "",
    target_date: dt.date | None = None,
) -> Goal:
    """Add a goal in the person's own words."""
    with transaction.atomic(), pghistory.context(user=by.pk):
        plan = _locked_plan(plan)
        _require_staff(plan, by)
        values = _goal_values(
            plan, {"description": description, "measure": measure, "target_date": target_date}
        )
        goal = Goal.objects.create(plan=plan, updated_by=by, **values)
        _announce(plan, "goals")
    return goal


def goal_update(*, goal: Goal, by: User, expected_version: int, **values: Any) -> Saved:
    """Change a goal, merging with others' edits to its other fields."""
    return _item_update(
        item=goal,
        by=by,
        expected_version=expected_version,
        section="goals",
        fields=GOAL_FIELDS,
        clean=lambda plan: _goal_values(
            plan, {k: v for k, v in values.items() if k in GOAL_FIELDS}
        ),
    )


def goal_progress_note_add(*, goal: Goal, by: User, text: str) -> GoalProgressNote:
    """Note progress towards a goal: staff and family alike."""
    with transaction.atomic(), pghistory.context(user=by.pk):
        plan = _locked_plan(goal.plan)
        note = GoalProgressNote.objects.create(
            goal=goal, written_by=by, text=_text("text", text, required=True)
        )
        _announce(plan, "goals")
    return note


# --- Actions ----------------------------------------------------------------------------------

ACTION_FIELDS = ("what", "owner_organisation", "owner_person", "due_date", "status")


def _action_values(plan: RecoveryPlan, values: Mapping[str, Any]) -> dict:
    cleaned = {}
    if "what" in values:
        cleaned["what"] = _text("what", values["what"], required=True)
    if "owner_organisation" in values:
        owner = values["owner_organisation"]
        if not isinstance(
            owner, Organisation
        ) or owner.pk not in selectors.involved_organisation_ids(plan):
            raise ValidationError(
                {"owner_organisation": "Choose an organisation involved in this person's care."}
            )
        cleaned["owner_organisation"] = owner
    if "owner_person" in values:
        cleaned["owner_person"] = _text("owner_person", values["owner_person"], limit=200)
    if "due_date" in values:
        if values["due_date"] is None:
            raise ValidationError({"due_date": "Enter the date this is due."})
        _not_before_plan("due_date", values["due_date"], plan)
        cleaned["due_date"] = values["due_date"]
    if "status" in values:
        if values["status"] not in Action.Status.values:
            raise ValidationError({"status": "Choose a status from the list."})
        cleaned["status"] = values["status"]
    return cleaned


def action_add(
    *,
    plan: RecoveryPlan,
    by: User,
    what: str,
    owner_organisation: Organisation,
    due_date: dt.date,
    owner_person: str = "",
) -> Action:
    """Add an action with an owner and a due date."""
    with transaction.atomic(), pghistory.context(user=by.pk):
        plan = _locked_plan(plan)
        _require_staff(plan, by)
        values = _action_values(
            plan,
            {
                "what": what,
                "owner_organisation": owner_organisation,
                "owner_person": owner_person,
                "due_date": due_date,
            },
        )
        action = Action.objects.create(plan=plan, updated_by=by, **values)
        _announce(plan, "actions")
    return action


def action_update(*, action: Action, by: User, expected_version: int, **values: Any) -> Saved:
    """Change an action; marking it done records who did it and when."""
    _read, write_fields = _fields(*ACTION_FIELDS)

    def write(obj: Action, merged: Mapping) -> None:
        write_fields(obj, merged)
        # Done records who did it and when; reopening clears them.
        if obj.status == Action.Status.DONE and obj.done_at is None:
            obj.done_by, obj.done_at = by, timezone.now()
        elif obj.status != Action.Status.DONE:
            obj.done_by, obj.done_at = None, None

    return _item_update(
        item=action,
        by=by,
        expected_version=expected_version,
        section="actions",
        fields=ACTION_FIELDS,
        clean=lambda plan: _action_values(
            plan, {k: v for k, v in values.items() if k in ACTION_FIELDS}
        ),
        write=write,
    )


# --- Contacts and review dates ----------------------------------------------------------------

CONTACT_FIELDS = ("name", "role", "phone", "about")
REVIEW_FIELDS = ("due_on", "purpose", "done")


def _contact_values(values: Mapping[str, Any]) -> dict:
    limits = {"name": 200, "role": 200, "phone": 40, "about": 300}
    return {
        name: _text(name, values[name], required=name == "name", limit=limits[name])
        for name in CONTACT_FIELDS
        if name in values
    }


def _review_values(plan: RecoveryPlan, values: Mapping[str, Any]) -> dict:
    cleaned = {}
    if "due_on" in values:
        if values["due_on"] is None:
            raise ValidationError({"due_on": "Enter the review date."})
        _not_before_plan("due_on", values["due_on"], plan)
        cleaned["due_on"] = values["due_on"]
    if "purpose" in values:
        cleaned["purpose"] = _text("purpose", values["purpose"], limit=300)
    if "done" in values:
        cleaned["done"] = bool(values["done"])
    return cleaned


def contact_add(*, plan: RecoveryPlan, by: User, **values: Any) -> Contact:
    """Add someone to call, and what about."""
    with transaction.atomic(), pghistory.context(user=by.pk):
        plan = _locked_plan(plan)
        _require_staff(plan, by)
        contact = Contact.objects.create(
            plan=plan, updated_by=by, **_contact_values({"name": "", **values})
        )
        _announce(plan, "contacts")
    return contact


def contact_update(*, contact: Contact, by: User, expected_version: int, **values: Any) -> Saved:
    """Change a contact, merging with others' edits to its other fields."""
    return _item_update(
        item=contact,
        by=by,
        expected_version=expected_version,
        section="contacts",
        fields=CONTACT_FIELDS,
        clean=lambda plan: _contact_values(values),
    )


def review_add(
    *, plan: RecoveryPlan, by: User, due_on: dt.date | None, purpose: str = ""
) -> PlanReview:
    """Set a date to review the plan together."""
    with transaction.atomic(), pghistory.context(user=by.pk):
        plan = _locked_plan(plan)
        _require_staff(plan, by)
        review = PlanReview.objects.create(
            plan=plan, updated_by=by, **_review_values(plan, {"due_on": due_on, "purpose": purpose})
        )
        _announce(plan, "reviews")
    return review


def review_update(*, review: PlanReview, by: User, expected_version: int, **values: Any) -> Saved:
    """Change a review date, merging with others' edits to its other fields."""
    return _item_update(
        item=review,
        by=by,
        expected_version=expected_version,
        section="reviews",
        fields=REVIEW_FIELDS,
        clean=lambda plan: _review_values(plan, values),
    )


def comment_add(*, plan: RecoveryPlan, by: User, section: str, text: str) -> Comment:
    """Comment on a section: staff and family alike."""
    if section not in ALL_SECTION_KEYS:
        raise ValidationError({"section": "Unknown section."})
    with transaction.atomic(), pghistory.context(user=by.pk):
        plan = _locked_plan(plan)
        comment = Comment.objects.create(
            plan=plan, section=section, written_by=by, text=_text("text", text, required=True)
        )
        _announce(plan, section)
    return comment


def participant_add(*, plan: RecoveryPlan, by: User, user: User) -> Participant:
    """Add a member of staff to the plan (they then see it whatever their organisation)."""
    if not selectors.is_staff_member(user):
        raise ValidationError(
            {"user": "Only staff can be added here; invite family members instead."}
        )
    with transaction.atomic(), pghistory.context(user=by.pk):
        plan = _locked_plan(plan)
        _require_staff(plan, by)
        participant, _created = Participant.objects.get_or_create(
            plan=plan, user=user, defaults={"kind": Participant.Kind.STAFF, "added_by": by}
        )
        _announce(plan, "plan")
    return participant


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Invitation:
    """A new invitation and the secret link it was sent with (shown once to the inviter)."""

    invitation: FamilyInvitation
    token: str


def family_invite(
    *, plan: RecoveryPlan, by: User, name: str, email: str, relationship: str, accept_url: str
) -> Invitation:
    """Invite a family member or unpaid carer to this one plan by a single-use, expiring link.

    ``accept_url`` holds ``{token}``; the link is emailed and returned for the inviter to pass on.
    """
    name = _text("name", name, required=True, limit=200)
    relationship = _text("relationship", relationship, required=True, limit=100)
    email = _text("email", email, required=True, limit=254)
    token = secrets.token_urlsafe(32)
    with transaction.atomic(), pghistory.context(user=by.pk):
        plan = _locked_plan(plan)
        _require_staff(plan, by)
        now = timezone.now()
        invitation = FamilyInvitation.objects.create(
            plan=plan,
            name=name,
            email=email,
            relationship=relationship,
            token_hash=_token_hash(token),
            invited_by=by,
            invited_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        link = accept_url.format(token=token)
        transaction.on_commit(
            lambda: send_mail(
                subject="You are invited to a recovery plan on HomeFirst",
                message=(
                    f"Hello {name},\n\n{by.display_name} has invited you to help with "
                    f"{plan.patient.given_name}'s recovery plan.\n\nOpen this link within 7 days to "
                    f"set up your account (it works once):\n{link}\n"
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[email],
            )
        )
    return Invitation(invitation=invitation, token=token)


def family_invitation_find(token: str) -> FamilyInvitation:
    """The invitation behind a link, if it can still be used; ValidationError saying why not."""
    invitation = (
        FamilyInvitation.objects.select_related("plan__patient")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if invitation is None:
        raise ValidationError(
            "This invitation link is not valid. Ask the person who invited you for a new one."
        )
    if invitation.accepted_at is not None:
        raise ValidationError(
            "This invitation has already been used. Sign in, or ask for a new invitation."
        )
    if invitation.expires_at <= timezone.now():
        raise ValidationError(
            "This invitation has expired. Ask the person who invited you for a new one."
        )
    return invitation


def family_invitation_accept(*, token: str, username: str, password: str) -> User:
    """Create the family member's account, limited to the one plan, and use up the invitation."""
    with transaction.atomic():
        invitation = family_invitation_find(token)
        invitation = FamilyInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise ValidationError(
                "This invitation has already been used. Sign in, or ask for a new invitation."
            )
        username = _text("username", username, required=True, limit=150)
        try:
            User.username_validator(username)
        except ValidationError as error:
            raise ValidationError({"username": error.messages}) from error
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": "That username is taken; choose another."})
        first, _space, rest = invitation.name.partition(" ")
        user = User(
            username=username,
            email=invitation.email,
            # The invitation keeps the whole name; the account's name columns are shorter.
            first_name=first[: User._meta.get_field("first_name").max_length],
            last_name=rest.strip()[: User._meta.get_field("last_name").max_length],
        )
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from error
        user.set_password(password)
        with pghistory.context(user=None, invitation=invitation.pk):
            user.save()
            Participant.objects.create(
                plan=invitation.plan,
                user=user,
                kind=Participant.Kind.FAMILY,
                relationship=invitation.relationship,
                added_by=invitation.invited_by,
            )
            invitation.accepted_at = timezone.now()
            invitation.accepted_by = user
            invitation.save(update_fields=["accepted_at", "accepted_by"])
            _announce(invitation.plan, "plan")
    return user


def lease_renew(*, plan: RecoveryPlan, section: str, user: User) -> None:
    """Say the user has a section open; the lease lapses on its own if they go quiet."""
    if section not in ALL_SECTION_KEYS:
        raise ValidationError({"section": "Unknown section."})
    EditingLease.objects.update_or_create(
        plan=plan,
        section=section,
        user=user,
        defaults={"expires_at": timezone.now() + LEASE_LIFETIME},
    )


def lease_release(*, plan: RecoveryPlan, section: str, user: User) -> None:
    """The user closed the section."""
    if section not in ALL_SECTION_KEYS:
        raise ValidationError({"section": "Unknown section."})
    EditingLease.objects.filter(plan=plan, section=section, user=user).delete()
