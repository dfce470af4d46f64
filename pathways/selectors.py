"""Every read of services, capacity and referrals, already scoped to what the user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import QueryDict
from django.utils import timezone

from discharge.models import Admission, DelayEpisode, DelayReason, Patient
from discharge.selectors import admissions_visible_to, with_transfer_status_data
from homefirst.models import Organisation, User, Ward
from homefirst.selectors import WARD_ROLES, organisation_ids
from pathways.access import (
    HUB_COUNCIL_ROLES,
    HUB_TRUST_ROLES,
    PROVIDER_ROLES,
    actors_for,
    referral_actors,
)
from pathways.filters import HubQueueFilter
from pathways.models import (
    KIND_PATHWAYS,
    Referral,
    ReferralTransition,
    Service,
    ServiceArea,
    ServiceCapacity,
)
from pathways.targets import Target, stage_target
from pathways.transitions import (
    CLOSED_STATES,
    IN_HOSPITAL_STATES,
    WAITING_STATES,
    Action,
    Actor,
    State,
    actions_for,
)

# Steps taken elsewhere than on the referral's page: the discharge (and its cancelling) is
# recorded on the board or by the hospital's ADT feed, and the referral follows.
NOT_ON_THE_REFERRAL_PAGE = frozenset({Action.DISCHARGE, Action.DISCHARGE_CANCEL})


def _start_of_local_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- Who sees which referral ------------------------------------------------------------------


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    """Referrals of the user's trust, of residents of their council, or offered to their service."""
    trust_ids = organisation_ids(user, WARD_ROLES)
    council_ids = organisation_ids(user, HUB_COUNCIL_ROLES)
    provider_ids = organisation_ids(user, PROVIDER_ROLES)
    if not (trust_ids or council_ids or provider_ids):
        return Referral.objects.none()
    return Referral.objects.filter(
        Q(admission__site__organisation_id__in=trust_ids)
        | Q(admission__patient__local_authority_id__in=council_ids)
        | Q(service__provider_id__in=provider_ids)
    )


def _hub_scope(user: User) -> Q | None:
    """Referrals the user works on as the hub; None when they are not in the hub."""
    trust_ids = organisation_ids(user, HUB_TRUST_ROLES)
    council_ids = organisation_ids(user, HUB_COUNCIL_ROLES)
    if not (trust_ids or council_ids):
        return None
    return Q(admission__site__organisation_id__in=trust_ids) | Q(
        admission__patient__local_authority_id__in=council_ids
    )


def referrals_for_hub(user: User) -> QuerySet[Referral] | None:
    """Referrals the user works on in the care transfer hub; None when they are not in the hub."""
    scope = _hub_scope(user)
    return None if scope is None else Referral.objects.filter(scope)


def referrals_for_provider(user: User) -> QuerySet[Referral] | None:
    """Referrals offered to the user's provider; None when they work for no provider."""
    provider_ids = organisation_ids(user, PROVIDER_ROLES)
    if not provider_ids:
        return None
    return Referral.objects.filter(service__provider_id__in=provider_ids)


def with_referral_data(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """Join what a referral's row or card shows, so a list costs no query per referral."""
    return referrals.select_related(
        "admission__patient__local_authority",
        "admission__site",
        "admission__current_ward",
        "pathway",
        "service__provider",
        "proposed_delay_reason",
        "referred_by",
        "updated_by",
    )


def referral_for(*, user: User, referral_id: int) -> Referral | None:
    """One referral the user may see, with its steps; None when out of reach."""
    transitions = ReferralTransition.objects.select_related("by", "service", "pathway")
    return (
        with_referral_data(referrals_visible_to(user))
        .prefetch_related(Prefetch("transitions", queryset=transitions))
        .filter(pk=referral_id)
        .first()
    )


def referrals_for_admission(user: User, admission: Admission) -> list[Referral]:
    """The admission's referrals the user may see, newest first (pathways/includes/referral_status.html)."""
    return list(
        with_referral_data(referrals_visible_to(user))
        .filter(admission=admission)
        .order_by("-created_at", "-pk")
    )


def referrals_for_admission_version(user: User, admission: Admission) -> tuple:
    """What decides the admission's referral section: for its ETag, in one query."""
    summary = (
        referrals_visible_to(user)
        .filter(admission=admission)
        .aggregate(n=Count("pk"), last=Max("updated_at"))
    )
    return (summary["n"], summary["last"])


def referrable_admission(*, user: User, admission_id: int) -> Admission | None:
    """An inpatient of the user's trust whom they may refer to the hub; None when out of reach."""
    return (
        Admission.objects.filter(
            site__organisation_id__in=organisation_ids(user, WARD_ROLES),
            status=Admission.Status.IN_HOSPITAL,
        )
        .select_related("patient__local_authority", "site", "current_ward", "planned_pathway")
        .filter(pk=admission_id)
        .first()
    )


def can_refer(user: User, admission: Admission, referrals: list[Referral]) -> bool:
    """The ward may refer an inpatient who has no open referral."""
    actors = actors_for(
        user,
        trust_id=admission.site.organisation_id,
        council_id=admission.patient.local_authority_id,
        provider_id=None,
    )
    return (
        Actor.WARD in actors
        and admission.status == Admission.Status.IN_HOSPITAL
        and not any(r.state not in CLOSED_STATES for r in referrals)
    )


def actions_available(user: User, referral: Referral) -> list[Action]:
    """The steps this user may take on the referral's page, from where it stands."""
    actions = actions_for(referral.state, referral_actors(user, referral))
    actions = [a for a in actions if a not in NOT_ON_THE_REFERRAL_PAGE]
    if referral.care_started_at is not None:
        actions = [a for a in actions if a != Action.CARE_START]
    if referral.admission.status != Admission.Status.IN_HOSPITAL:
        actions = [a for a in actions if a != Action.REREFER]
    return actions


# --- Services and capacity --------------------------------------------------------------------


def services_visible_to(user: User) -> QuerySet[Service]:
    """Services the user works with: their own provider's, or (in the hub) those taking referrals."""
    provider_ids = organisation_ids(user, PROVIDER_ROLES)
    council_ids = organisation_ids(user, HUB_COUNCIL_ROLES)
    coordinating = bool(organisation_ids(user, HUB_TRUST_ROLES))
    if not (provider_ids or council_ids or coordinating):
        return Service.objects.none()
    scope = Q(provider_id__in=provider_ids)
    if coordinating:
        scope |= Q(active=True)
    elif council_ids:
        in_area = ServiceArea.objects.filter(council_id__in=council_ids).values("service_id")
        scope |= Q(active=True, pk__in=in_area)
    return Service.objects.filter(scope)


def services_managed_by(user: User) -> QuerySet[Service]:
    """Services whose capacity the user declares: their own provider's."""
    return Service.objects.filter(
        provider_id__in=organisation_ids(user, PROVIDER_ROLES), active=True
    ).select_related("provider")


@dataclass(frozen=True)
class ServiceOption:
    """A service the hub may offer a referral to, with the room it has declared."""

    service: Service
    today: int | None
    tomorrow: int | None

    @property
    def label(self) -> str:
        def room(value: int | None) -> str:
            return "not declared" if value is None else str(value)

        return (
            f"{self.service.name} ({self.service.provider.name}): "
            f"{self.service.capacity_unit} today {room(self.today)}, tomorrow {room(self.tomorrow)}"
        )


def services_for_offer(referral: Referral, today: dt.date | None = None) -> list[ServiceOption]:
    """Active services that take the referral's pathway in the person's area, with their room."""
    today = today or timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    kinds = [kind for kind, pathways in KIND_PATHWAYS.items() if referral.pathway_id in pathways]
    services = list(
        Service.objects.filter(
            active=True,
            kind__in=kinds,
            service_areas__council_id=referral.admission.patient.local_authority_id,
        )
        .select_related("provider")
        .order_by("kind", "name")
    )
    room = {
        (row.service_id, row.day): row.available
        for row in ServiceCapacity.objects.filter(service__in=services, day__in=[today, tomorrow])
    }
    return [
        ServiceOption(service=s, today=room.get((s.pk, today)), tomorrow=room.get((s.pk, tomorrow)))
        for s in services
    ]


def capacity_days(service: Service, *, today: dt.date, days: int = 14) -> list[tuple]:
    """The service's declared capacity for the coming days: (day, row or None)."""
    window = [today + dt.timedelta(days=i) for i in range(days)]
    rows = {
        row.day: row
        for row in ServiceCapacity.objects.filter(service=service, day__in=window).select_related(
            "declared_by"
        )
    }
    return [(day, rows.get(day)) for day in window]


@dataclass(frozen=True)
class DayDemand:
    """One day of a service: the capacity declared and the starts already booked."""

    day: dt.date
    capacity: int | None
    starts: int

    @property
    def short(self) -> bool:
        return self.capacity is not None and self.starts > self.capacity


@dataclass(frozen=True)
class ServiceDemand:
    """A service's next days: referrals waiting for its answer, starts booked, capacity offered."""

    service: Service
    awaiting_answer: int
    days: list[DayDemand]

    @property
    def capacity(self) -> int:
        return sum(d.capacity or 0 for d in self.days)

    @property
    def starts(self) -> int:
        return sum(d.starts for d in self.days)

    @property
    def undeclared_days(self) -> int:
        return sum(1 for d in self.days if d.capacity is None)

    @property
    def room_left(self) -> int:
        """Capacity over the window less the starts booked and the offers waiting for an answer."""
        return self.capacity - self.starts - self.awaiting_answer


@dataclass(frozen=True)
class CapacityOverview:
    """Capacity against demand for the user's services over the coming days."""

    days: list[dt.date]
    services: list[ServiceDemand]
    unplaced: dict[str, int] = field(default_factory=dict)  # triaged, no service yet, by pathway


def capacity_against_demand(
    *, user: User, today: dt.date | None = None, days: int = 7
) -> CapacityOverview:
    """For each service, referrals waiting against capacity offered for the next days; 4 queries."""
    today = today or timezone.localdate()
    window = [today + dt.timedelta(days=i) for i in range(days)]
    services = list(services_visible_to(user).select_related("provider").order_by("kind", "name"))
    capacity = {
        (row["service_id"], row["day"]): row["available"]
        for row in ServiceCapacity.objects.filter(service__in=services, day__in=window).values(
            "service_id", "day", "available"
        )
    }
    booked: dict[tuple[int, dt.date], int] = {}
    awaiting: dict[int, int] = {}
    for row in (
        Referral.objects.filter(service__in=services)
        .filter(
            Q(state=State.OFFERED)
            | Q(
                state__in=[State.ACCEPTED, State.DISCHARGED, State.STARTED, State.ENDED],
                start_date__in=window,
            )
        )
        .values("service_id", "state", "start_date")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        if row["state"] == State.OFFERED:
            awaiting[row["service_id"]] = awaiting.get(row["service_id"], 0) + row["n"]
        else:
            key = (row["service_id"], row["start_date"])
            booked[key] = booked.get(key, 0) + row["n"]
    unplaced: dict[str, int] = {}
    hub = referrals_for_hub(user)
    if hub is not None:
        unplaced = dict(
            hub.filter(state=State.TRIAGED)
            .values_list("pathway_id")
            .annotate(n=Count("pk"))
            .order_by("pathway_id")
        )
    return CapacityOverview(
        days=window,
        services=[
            ServiceDemand(
                service=s,
                awaiting_answer=awaiting.get(s.pk, 0),
                days=[
                    DayDemand(
                        day=d, capacity=capacity.get((s.pk, d)), starts=booked.get((s.pk, d), 0)
                    )
                    for d in window
                ],
            )
            for s in services
        ],
        unplaced=unplaced,
    )


# --- The hub queue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """One referral in the hub queue, with its wait and target worked out."""

    referral: Referral
    waited: dt.timedelta
    target: Target | None
    days_delayed: int | None
    open_delay: DelayEpisode | None

    @property
    def admission(self) -> Admission:
        return self.referral.admission

    @property
    def patient(self) -> Patient:
        return self.referral.admission.patient

    @property
    def suggestion(self) -> DelayReason | None:
        """The delay reason the stage suggests, when it differs from the one recorded."""
        return delay_reason_suggestion(self.referral, self.open_delay)


def delay_reason_suggestion(
    referral: Referral | None, open_delay: DelayEpisode | None
) -> DelayReason | None:
    """The referral's proposed delay reason, for a patient ready to leave, if not already recorded."""
    if referral is None or referral.state not in IN_HOSPITAL_STATES:
        return None
    admission = referral.admission
    proposed = referral.proposed_delay_reason
    if proposed is None or admission.discharge_ready_date is None:
        return None
    if admission.status != Admission.Status.IN_HOSPITAL:
        return None
    if open_delay is not None and open_delay.reason_id == proposed.code:
        return None
    return proposed


@dataclass(frozen=True)
class HubQueue:
    """The hub queue: its filters (a bound django-filter FilterSet) and its rows."""

    filters: HubQueueFilter
    rows: list[QueueRow]


def _hub_queue_referrals(user: User, params: QueryDict) -> HubQueueFilter | None:
    hub = referrals_for_hub(user)
    if hub is None:
        return None
    filters = HubQueueFilter(params, queryset=hub, services=services_visible_to(user))
    return filters


def _queue_queryset(filters: HubQueueFilter) -> QuerySet[Referral]:
    referrals = filters.qs
    if not filters.form.cleaned_data.get("stage"):
        referrals = referrals.filter(state__in=WAITING_STATES)
    return referrals


def _with_open_delays(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    open_delays = DelayEpisode.objects.filter(ended_at__isnull=True).select_related("reason")
    return with_referral_data(referrals).prefetch_related(
        Prefetch("admission__delays", queryset=open_delays, to_attr="open_delays")
    )


def _queue_row(referral: Referral, now: dt.datetime) -> QueueRow:
    admission = referral.admission
    return QueueRow(
        referral=referral,
        waited=now - referral.state_changed_at,
        target=stage_target(
            state=referral.state,
            pathway=referral.pathway_id,
            state_changed_at=referral.state_changed_at,
            discharge_ready_date=admission.discharge_ready_date,
            now=now,
        ),
        days_delayed=admission.days_delayed(timezone.localdate(now)),
        open_delay=admission.open_delays[0] if admission.open_delays else None,
    )


def hub_queue(*, user: User, params: QueryDict, now: dt.datetime | None = None) -> HubQueue | None:
    """Every open referral the user's hub works on, longest wait at its stage first; None outside the hub."""
    now = now or timezone.now()
    filters = _hub_queue_referrals(user, params)
    if filters is None:
        return None
    referrals = _with_open_delays(_queue_queryset(filters)).order_by("state_changed_at", "pk")
    return HubQueue(filters=filters, rows=[_queue_row(r, now) for r in referrals])


def hub_queue_row(
    *, user: User, referral_id: int, now: dt.datetime | None = None
) -> QueueRow | None:
    """One referral as its hub queue row; None when the user's hub does not work on it."""
    hub = referrals_for_hub(user)
    referral = None if hub is None else _with_open_delays(hub).filter(pk=referral_id).first()
    return None if referral is None else _queue_row(referral, now or timezone.now())


def open_delay_of(admission: Admission) -> DelayEpisode | None:
    """The admission's current delay episode, if any."""
    return admission.delays.filter(ended_at__isnull=True).select_related("reason").first()


def hub_queue_version(*, user: User, params: QueryDict, now: dt.datetime | None = None) -> tuple:
    """What decides the queue's rows, for its ETag, in one query (the minute moves the waits on)."""
    now = now or timezone.now()
    filters = _hub_queue_referrals(user, params)
    if filters is None:
        return ()
    summary = _queue_queryset(filters).aggregate(
        n=Count("pk"), last=Max("updated_at"), admission_last=Max("admission__updated_at")
    )
    return (
        summary["n"],
        summary["last"],
        summary["admission_last"],
        now.replace(second=0, microsecond=0),
    )


# --- The tracker ------------------------------------------------------------------------------


# The steps the tracker offers in one tap.
TRACKER_STEPS = (Action.FIRST_VISIT, Action.CARE_START, Action.NEEDS_CHANGE, Action.READMIT)


@dataclass(frozen=True)
class TrackerCard:
    """One person on the tracker, with the one-tap steps open to them now."""

    referral: Referral
    steps: list[Action]


def tracker_card(user: User, referral: Referral) -> TrackerCard:
    """The card for a referral loaded with :func:`with_referral_data`."""
    steps = [s for s in actions_available(user, referral) if s in TRACKER_STEPS]
    return TrackerCard(referral=referral, steps=steps)


@dataclass(frozen=True)
class Tracker:
    """A provider's day: offers to answer, and the people to see today."""

    offers: list[Referral]
    people: list[TrackerCard]
    in_care: int
    show_all: bool


def tracker(*, user: User, today: dt.date | None = None, show_all: bool = False) -> Tracker | None:
    """Offers awaiting an answer and today's people, in three queries; None for non-provider staff."""
    referrals = referrals_for_provider(user)
    if referrals is None:
        return None
    today = today or timezone.localdate()
    day_start = _start_of_local_day(today)
    offers = list(
        with_referral_data(referrals.filter(state=State.OFFERED)).order_by("state_changed_at", "pk")
    )
    started = Q(state=State.STARTED)
    if not show_all:
        # Someone whose care is running and was not touched today is not today's work.
        started &= (
            Q(care_started_at__isnull=True)
            | Q(care_started_at__gte=day_start)
            | Q(first_visit_at__gte=day_start)
            | Q(state_changed_at__gte=day_start)
        )
    people = with_referral_data(
        referrals.filter(
            Q(state=State.ACCEPTED, start_date__lte=today) | Q(state=State.DISCHARGED) | started
        )
    ).order_by("start_date", "admission__patient__family_name", "pk")
    return Tracker(
        offers=offers,
        people=[tracker_card(user, r) for r in people],
        in_care=referrals.filter(state=State.STARTED).count(),
        show_all=show_all,
    )


# --- After discharge --------------------------------------------------------------------------

AT_HOME_CHECK_DAYS = 91


def due_at_home_checks(*, user: User, today: dt.date | None = None) -> list[Referral] | None:
    """People whose 91-day 'still at home?' check is due and not yet recorded; None if not hub or provider."""
    hub = _hub_scope(user)
    provider_ids = organisation_ids(user, PROVIDER_ROLES)
    if hub is None and not provider_ids:
        return None
    scope = Q(service__provider_id__in=provider_ids)
    if hub is not None:
        scope |= hub
    today = today or timezone.localdate()
    # Discharged on or before the day 91 days ago.
    discharged_by = _start_of_local_day(today - dt.timedelta(days=AT_HOME_CHECK_DAYS - 1))
    return list(
        with_referral_data(
            Referral.objects.filter(scope)
            .filter(
                state__in=[State.DISCHARGED, State.STARTED, State.ENDED],
                at_home_91_days__isnull=True,
                admission__discharged_at__lt=discharged_by,
            )
            .exclude(outcome=Referral.Outcome.DIED)
        ).order_by("admission__discharged_at", "pk")
    )


# --- The ward board ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusRow:
    """What a board row's transfer-of-care status reads: the admission (with its open referrals
    prefetched) and its open delay, as on a BoardRow, without the rest of the row."""

    admission: Admission
    open_delay: DelayEpisode | None


def ward_status_rows(*, user: User, ward: Ward) -> list[StatusRow]:
    """The transfer-of-care status of each inpatient on the ward, in three queries."""
    admissions = with_transfer_status_data(
        admissions_visible_to(user).filter(current_ward=ward, status=Admission.Status.IN_HOSPITAL)
    )
    return [StatusRow(a, a.open_delays[0] if a.open_delays else None) for a in admissions]


def ward_referrals_version(*, user: User, ward: Ward) -> tuple:
    """What decides the board's referral statuses, for their ETag, in one query.

    Per inpatient, what the status cell reads (board_status.html): the name, the planned
    pathway and the referrals' latest change; and, only while an open referral suggests a
    delay reason, whether the patient is ready to leave and the open delay's reason (which
    decide whether the suggestion shows). Not the admission's version, nor its discharge ready
    date otherwise: a review or EDD saved elsewhere on the row leaves the statuses as they
    were, so the ward's tablets get a 304 rather than every status again.
    """
    referrals = (
        Referral.objects.filter(admission=OuterRef("pk"))
        .order_by()
        .values("admission")
        .annotate(n=Count("pk"), last=Max("updated_at"))
    )
    suggesting = Referral.objects.filter(
        admission=OuterRef("pk"), proposed_delay_reason__isnull=False
    ).exclude(state__in=CLOSED_STATES)
    open_delay = DelayEpisode.objects.filter(admission=OuterRef("pk"), ended_at__isnull=True)
    rows = (
        admissions_visible_to(user)
        .filter(current_ward=ward, status=Admission.Status.IN_HOSPITAL)
        .annotate(
            referral_count=Subquery(referrals.values("n")),
            referral_changed=Subquery(referrals.values("last")),
            suggests=Exists(suggesting),
            delay_reason=Subquery(open_delay.values("reason_id")[:1]),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "patient__given_name",
            "patient__family_name",
            "planned_pathway_id",
            "referral_count",
            "referral_changed",
            "suggests",
            "discharge_ready_date",
            "delay_reason",
        )
    )
    return tuple((*row[:6], (row[7] is not None, row[8]) if row[6] else None) for row in rows)


def councils() -> QuerySet[Organisation]:
    """The councils, for filters."""
    return Organisation.objects.filter(kind=Organisation.Kind.LOCAL_AUTHORITY)
