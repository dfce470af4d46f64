"""Every read of patients and admissions, already scoped to what the user may see."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

import pghistory.models
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from discharge.models import (
    Admission,
    Criterion,
    CtrReview,
    DelayEpisode,
    DelayReason,
    Patient,
)
from homefirst.models import Membership, User, Ward
from homefirst.selectors import WARD_ROLES, organisation_ids
from pathways.models import Referral
from pathways.transitions import CLOSED_STATES
from recovery_plans.models import Action, RecoveryPlan

LONG_STAY_THRESHOLDS = (21, 14, 7)


def admissions_visible_to(user: User) -> QuerySet[Admission]:
    """Admissions this user may see: their trust's, residents of their council, or referred to their service."""
    trust_ids = organisation_ids(user, WARD_ROLES)
    council_ids = organisation_ids(user, {Membership.Role.SOCIAL_WORKER})
    provider_ids = organisation_ids(user, {Membership.Role.PROVIDER_STAFF})
    if not trust_ids and not council_ids and not provider_ids:
        return Admission.objects.none()
    scope = Q(site__organisation_id__in=trust_ids) | Q(patient__local_authority_id__in=council_ids)
    if provider_ids:
        # A subquery, not a join: a patient referred twice would otherwise appear twice.
        referred = Referral.objects.filter(service__provider_id__in=provider_ids)
        scope |= Q(pk__in=referred.values("admission_id"))
    return Admission.objects.filter(scope)


def admissions_editable_by(user: User) -> QuerySet[Admission]:
    """Admissions whose discharge readiness this user may record: ward staff of the trust."""
    return Admission.objects.filter(
        site__organisation_id__in=organisation_ids(user, WARD_ROLES)
    ).exclude(status=Admission.Status.CANCELLED)


def patients_visible_to(user: User) -> QuerySet[Patient]:
    """Patients with at least one admission the user may see."""
    return Patient.objects.filter(pk__in=admissions_visible_to(user).values("patient_id"))


def active_criteria() -> list[Criterion]:
    """The criteria to reside offered on a review, in their printed order."""
    return list(Criterion.objects.filter(active=True))


def delay_reasons_for(pathway_code: str | None) -> list[DelayReason]:
    """Active delay reasons, those naming the patient's planned pathway first."""
    reasons = list(DelayReason.objects.filter(active=True))
    if pathway_code is None:
        return reasons
    return sorted(
        reasons, key=lambda r: (bool(r.pathways) and pathway_code not in r.pathways, r.code)
    )


# --- The ward board ---------------------------------------------------------------------------


class CtrStatus(enum.Enum):
    """Where a patient stands against the criteria to reside, as the board shows it."""

    NOT_REVIEWED = "not_reviewed"
    MEETS = "meets"
    NCTR = "nctr"
    EXCEPTION = "exception"


@dataclass(frozen=True)
class BoardRow:
    """One inpatient on the ward board, with everything the row shows already worked out."""

    admission: Admission
    age: int
    length_of_stay: int
    long_stay: int | None  # 7, 14 or 21: the highest threshold reached
    edd_passed: bool
    reviewed_today: bool
    ctr_status: CtrStatus
    days_delayed: int | None
    open_delay: DelayEpisode | None

    @property
    def patient(self) -> Patient:
        return self.admission.patient

    @property
    def needs_delay_reason(self) -> bool:
        """An NCTR patient still in hospital must have a reason recorded."""
        return self.admission.discharge_ready_date is not None and self.open_delay is None


@dataclass(frozen=True)
class BoardSummary:
    """The counts at the top of a ward board."""

    beds: int
    inpatients: int
    not_reviewed_today: int
    nctr: int
    delayed: int
    stay_7_plus: int
    stay_21_plus: int


class BoardFilter(enum.StrEnum):
    ALL = "all"
    NCTR = "nctr"
    NOT_REVIEWED = "not_reviewed"
    STAY_7_PLUS = "stay_7_plus"


class BoardSort(enum.StrEnum):
    BED = "bed"
    NAME = "name"
    LENGTH_OF_STAY = "los"
    EDD = "edd"
    DAYS_DELAYED = "delay"


def _long_stay(days: int) -> int | None:
    return next((t for t in LONG_STAY_THRESHOLDS if days >= t), None)


def board_row_for(admission: Admission, today: dt.date) -> BoardRow:
    """Work out one board row from an admission loaded by :func:`board_admissions`."""
    review = admission.latest_review
    reviewed_today = review is not None and review.review_date == today
    if review is None:
        status = CtrStatus.NOT_REVIEWED
    elif review.meets:
        status = CtrStatus.MEETS
    elif review.exception_reason:
        status = CtrStatus.EXCEPTION
    else:
        status = CtrStatus.NCTR
    open_delays = admission.open_delays
    los = admission.length_of_stay(today)
    edd = admission.expected_discharge_date
    return BoardRow(
        admission=admission,
        age=admission.patient.age_on(today),
        length_of_stay=los,
        long_stay=_long_stay(los),
        edd_passed=edd is not None and edd < today,
        reviewed_today=reviewed_today,
        ctr_status=status,
        days_delayed=admission.days_delayed(today),
        open_delay=open_delays[0] if open_delays else None,
    )


def _with_recovery_plan(admissions: QuerySet[Admission]) -> QuerySet[Admission]:
    """Annotate the patient's active recovery plan and its overdue actions, as subqueries."""
    today = timezone.localdate()
    active = RecoveryPlan.objects.filter(patient=OuterRef("patient_id"), status="active")
    overdue = (
        Action.objects.filter(
            plan__patient=OuterRef("patient_id"),
            plan__status="active",
            status="open",
            due_date__lt=today,
        )
        .order_by()
        .values("plan__patient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return admissions.annotate(
        plan_id=Subquery(active.values("pk")[:1]),
        plan_overdue_actions=Coalesce(Subquery(overdue), 0),
    )


def with_transfer_status_data(admissions: QuerySet[Admission]) -> QuerySet[Admission]:
    """Prefetch what a row's transfer-of-care status shows (pathways/includes/board_status.html):
    the open delay (as ``open_delays``) and the open referrals (as ``open_referrals``)."""
    return admissions.select_related("patient").prefetch_related(
        Prefetch(
            "delays",
            queryset=DelayEpisode.objects.filter(ended_at__isnull=True).select_related("reason"),
            to_attr="open_delays",
        ),
        Prefetch(
            "transfer_referrals",
            queryset=Referral.objects.exclude(state__in=CLOSED_STATES).select_related(
                "service", "proposed_delay_reason"
            ),
            to_attr="open_referrals",
        ),
    )


def with_board_data(admissions: QuerySet[Admission]) -> QuerySet[Admission]:
    """Join and prefetch everything a board row shows, so rows cost no extra queries."""
    return with_transfer_status_data(
        _with_recovery_plan(admissions)
        .select_related("planned_pathway", "updated_by", "latest_review", "current_ward")
        .prefetch_related("latest_review__criteria")
    )


def board_admissions(user: User) -> QuerySet[Admission]:
    """Visible admissions, ready to render as board rows."""
    return with_board_data(admissions_visible_to(user))


def board_admission_for_edit(*, user: User, admission_id: int) -> Admission | None:
    """One admission the user may edit, ready to render as a board row; None when out of reach."""
    return with_board_data(admissions_editable_by(user)).filter(pk=admission_id).first()


def admission_for_save(*, user: User, admission_id: int) -> Admission | None:
    """One admission the user may edit, without the board row's data: enough for a save, whose
    service locks and re-reads the row; None when out of reach."""
    return admissions_editable_by(user).filter(pk=admission_id).first()


def _start_of_local_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def ward_board(
    *,
    user: User,
    ward: Ward,
    today: dt.date | None = None,
    show: BoardFilter = BoardFilter.ALL,
    pathway: str | None = None,
    sort: BoardSort = BoardSort.BED,
) -> list[BoardRow]:
    """One row per current inpatient on the ward, in a constant number of queries."""
    today = today or timezone.localdate()
    admissions = board_admissions(user).filter(
        current_ward=ward, status=Admission.Status.IN_HOSPITAL
    )
    if show == BoardFilter.NCTR:
        admissions = admissions.filter(discharge_ready_date__isnull=False)
    elif show == BoardFilter.NOT_REVIEWED:
        admissions = admissions.exclude(latest_review__review_date=today)
    elif show == BoardFilter.STAY_7_PLUS:
        admissions = admissions.filter(
            admitted_at__lt=_start_of_local_day(today - dt.timedelta(days=6))
        )
    if pathway:
        admissions = admissions.filter(planned_pathway_id=pathway)
    rows = [board_row_for(a, today) for a in admissions]
    return sorted(rows, key=_sort_key(sort))


def _natural(label: str) -> tuple:
    """Sort bed labels as a person would: B2 before B10."""
    head = label.rstrip("0123456789")
    tail = label[len(head) :]
    return (head, int(tail) if tail else -1)


def _sort_key(sort: BoardSort):
    far = dt.date.max
    return {
        BoardSort.BED: lambda r: _natural(r.admission.bed_label),
        BoardSort.NAME: lambda r: (r.patient.family_name, r.patient.given_name),
        BoardSort.LENGTH_OF_STAY: lambda r: -r.length_of_stay,
        BoardSort.EDD: lambda r: r.admission.expected_discharge_date or far,
        BoardSort.DAYS_DELAYED: lambda r: -(r.days_delayed if r.days_delayed is not None else -1),
    }[sort]


def board_summary(*, user: User, ward: Ward, today: dt.date | None = None) -> BoardSummary:
    """The board's headline counts, in one query."""
    today = today or timezone.localdate()
    counts = (
        admissions_visible_to(user)
        .filter(current_ward=ward, status=Admission.Status.IN_HOSPITAL)
        .aggregate(**_count_expressions(today))
    )
    return BoardSummary(beds=ward.bed_count, **counts)


def _count_expressions(today: dt.date) -> dict:
    day_7 = _start_of_local_day(today - dt.timedelta(days=6))
    day_21 = _start_of_local_day(today - dt.timedelta(days=20))
    return {
        "inpatients": Count("pk"),
        "not_reviewed_today": Count(
            "pk", filter=Q(latest_review__isnull=True) | ~Q(latest_review__review_date=today)
        ),
        "nctr": Count("pk", filter=Q(discharge_ready_date__isnull=False)),
        "delayed": Count("pk", filter=Q(discharge_ready_date__lt=today)),
        "stay_7_plus": Count("pk", filter=Q(admitted_at__lt=day_7)),
        "stay_21_plus": Count("pk", filter=Q(admitted_at__lt=day_21)),
    }


@dataclass(frozen=True)
class WardOverview:
    """A ward with its board counts, for the site overview."""

    ward: Ward
    summary: BoardSummary


def site_overview(*, user: User, today: dt.date | None = None) -> list[WardOverview]:
    """Every ward the user may open with its counts, in one query for the wards and one for the counts."""
    from homefirst.selectors import wards_visible_to

    today = today or timezone.localdate()
    wards = list(wards_visible_to(user).select_related("site"))
    per_ward = {
        row.pop("current_ward"): row
        for row in (
            admissions_visible_to(user)
            .filter(current_ward__in=wards, status=Admission.Status.IN_HOSPITAL)
            .values("current_ward")
            .annotate(**_count_expressions(today))
        )
    }
    empty = dict.fromkeys(_count_expressions(today), 0)
    return [
        WardOverview(ward=w, summary=BoardSummary(beds=w.bed_count, **per_ward.get(w.pk, empty)))
        for w in wards
    ]


# --- The patient page -------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened during an admission, for the patient page."""

    at: dt.datetime
    kind: str
    text: str
    by: str = ""


def admission_timeline(admission: Admission) -> list[TimelineEntry]:
    """Ward moves, reviews, EDD, DRD and pathway changes, delays and discharge, oldest first."""
    entries: list[TimelineEntry] = [
        TimelineEntry(
            admission.admitted_at,
            "admission",
            f"Admitted ({admission.get_method_display().lower()})",
        ),
    ]
    for stay in admission.ward_stays.select_related("ward", "moved_by"):
        bed = f", bed {stay.bed_label}" if stay.bed_label else ""
        entries.append(
            TimelineEntry(
                stay.started_at, "ward", f"On {stay.ward.name}{bed}", _name(stay.moved_by)
            )
        )
    for review in admission.reviews.select_related("reviewed_by").prefetch_related("criteria"):
        entries.append(
            TimelineEntry(
                review.reviewed_at, "review", _review_text(review), _name(review.reviewed_by)
            )
        )
    for change in admission.edd_changes.select_related("changed_by"):
        text = f"Expected date of discharge set to {change.expected_discharge_date:%d %b %Y}"
        entries.append(TimelineEntry(change.changed_at, "edd", text, _name(change.changed_by)))
    for change in admission.drd_changes.all():
        date = change.discharge_ready_date
        text = (
            f"Discharge ready date set to {date:%d %b %Y}"
            if date
            else "Discharge ready date cleared"
        )
        entries.append(TimelineEntry(change.changed_at, "drd", text))
    for change in admission.pathway_changes.select_related("changed_by"):
        entries.append(
            TimelineEntry(
                change.changed_at,
                "pathway",
                f"Planned pathway {change.pathway_id}",
                _name(change.changed_by),
            )
        )
    for delay in admission.delays.select_related("reason", "recorded_by"):
        entries.append(
            TimelineEntry(
                delay.started_at, "delay", f"Delay: {delay.reason.reason}", _name(delay.recorded_by)
            )
        )
        if delay.ended_at:
            entries.append(
                TimelineEntry(delay.ended_at, "delay", f"Delay ended: {delay.reason.reason}")
            )
    if admission.discharged_at:
        entries.append(
            TimelineEntry(
                admission.discharged_at,
                "discharge",
                _discharge_text(admission),
                _name(admission.updated_by),
            )
        )
    return sorted(entries, key=lambda e: e.at)


def _name(user: User | None) -> str:
    return user.display_name if user else ""


def _review_text(review: CtrReview) -> str:
    if review.meets:
        names = ", ".join(c.label for c in review.criteria.all())
        return f"Meets the criteria to reside: {names}"
    if review.exception_reason:
        return f"Meets no criterion; clinical exception: {review.exception_reason}"
    return "No longer meets the criteria to reside"


def _discharge_text(admission: Admission) -> str:
    if admission.status == Admission.Status.DIED:
        return "Died in hospital"
    return (
        f"Discharged on pathway {admission.actual_pathway_id} to "
        f"{admission.get_discharge_destination_display().lower()}"
    )


@dataclass(frozen=True)
class AuditEntry:
    """One audited change: who, when and what changed."""

    at: dt.datetime
    what: str
    changes: dict
    by: str


def audit_history(
    patient: Patient, admissions: Iterable[Admission], limit: int = 200
) -> list[AuditEntry]:
    """The audit trail of the patient's record and their admissions, newest first."""
    # pghistory aggregates references per model, so ask once for the patient and once for the stays.
    events_of = pghistory.models.Events.objects.order_by("-pgh_created_at")
    events = list(events_of.references(patient)[:limit])
    if admissions := list(admissions):
        events += list(events_of.references(admissions)[:limit])
    events = sorted(
        {e.pgh_slug: e for e in events}.values(), key=lambda e: e.pgh_created_at, reverse=True
    )[:limit]
    user_ids = {e.pgh_context.get("user") for e in events if e.pgh_context}
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=user_ids - {None})}
    return [
        AuditEntry(
            at=e.pgh_created_at,
            what=f"{e.pgh_obj_model.split('.')[-1]} {e.pgh_label}",
            changes={
                k: v for k, v in (e.pgh_diff or {}).items() if k not in {"version", "updated_at"}
            },
            by=names.get(
                (e.pgh_context or {}).get("user"), (e.pgh_context or {}).get("command", "system")
            ),
        )
        for e in events
    ]
