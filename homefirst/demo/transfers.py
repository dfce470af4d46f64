"""Demo transfers of care: services and their capacity, referrals at every stage for today's
pathway 1-3 inpatients, and finished episodes (outcomes, 91-day checks) for past discharges.

Runs after the history is loaded and reads it back: every referral fits its admission's
dates (referred around the discharge ready date, accepted before the discharge, started after
it, ended weeks later) and nothing is later than the seeded "now". Rows go in with COPY; the
same seed gives the same referrals.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db.models import F

from discharge.models import Admission
from homefirst.demo import bulk
from homefirst.demo.bulk import Table
from homefirst.demo.city import CLINICIANS, OTHER_COUNCIL_ODS
from homefirst.demo.personas import (
    CARE_HOME_PROVIDER_ODS,
    COMMUNITY_TRUST_ODS,
    COUNCIL_ODS,
    REABLEMENT_PROVIDER_ODS,
    TRUST_ODS,
)
from homefirst.models import Membership, Organisation, User
from pathways.delay_reasons import propose_delay_reason
from pathways.models import (
    KIND_PATHWAYS,
    Outcome,
    Referral,
    ReferralTransition,
    Service,
    ServiceArea,
    ServiceCapacity,
    ServiceKind,
)
from pathways.transitions import Action, State
from pathways.working_time import LONDON

K = ServiceKind
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
# The seeded "now", as in homefirst.demo.history: 09:30 this morning.
NOW_TIME = dt.time(9, 30)
CAPACITY_AHEAD_DAYS = 14

# (provider, name, kind, council areas, share of its pathway's referrals)
SERVICES: tuple[tuple[str, str, str, tuple[str, ...], float], ...] = (
    (REABLEMENT_PROVIDER_ODS, "Home First Reablement", K.HOME_REABLEMENT,
     (COUNCIL_ODS, OTHER_COUNCIL_ODS), 0.58),
    (REABLEMENT_PROVIDER_ODS, "Home First Home Care", K.HOME_CARE,
     (COUNCIL_ODS, OTHER_COUNCIL_ODS), 0.24),
    (COMMUNITY_TRUST_ODS, "Community Nursing at Home", K.COMMUNITY_HEALTH, (COUNCIL_ODS,), 0.12),
    (COMMUNITY_TRUST_ODS, "Community Equipment Service", K.EQUIPMENT,
     (COUNCIL_ODS, OTHER_COUNCIL_ODS), 0.03),
    (COUNCIL_ODS, "Hospital to Home Housing Support", K.HOUSING_SUPPORT, (COUNCIL_ODS,), 0.03),
    (COMMUNITY_TRUST_ODS, "St Luke's Intermediate Care Unit", K.INTERMEDIATE_CARE_BED,
     (COUNCIL_ODS, OTHER_COUNCIL_ODS), 1.0),
    (CARE_HOME_PROVIDER_ODS, "Northgate Care Homes", K.CARE_HOME_BED,
     (COUNCIL_ODS, OTHER_COUNCIL_ODS), 1.0),
)  # fmt: skip

# Provider staff who answer offers and report visits (no password: they make the rows look real).
# The reablement provider's staff member is the 'carer' persona.
PROVIDER_STAFF: dict[str, tuple[str, str, str, str]] = {
    COMMUNITY_TRUST_ODS: ("c.oduya", "Comfort", "Oduya", "Community matron"),
    CARE_HOME_PROVIDER_ODS: ("r.fenwick", "Ruth", "Fenwick", "Care home manager"),
    COUNCIL_ODS: ("j.marsden", "Jake", "Marsden", "Housing options officer"),
}

# Outcomes at the end of an episode, by pathway.
OUTCOMES: dict[str, tuple[tuple[str, float], ...]] = {
    "1": ((Outcome.INDEPENDENT, 0.55), (Outcome.REDUCED_SUPPORT, 0.2),
          (Outcome.LONG_TERM_CARE, 0.14), (Outcome.READMITTED, 0.08), (Outcome.DIED, 0.03)),
    "2": ((Outcome.INDEPENDENT, 0.32), (Outcome.REDUCED_SUPPORT, 0.28),
          (Outcome.LONG_TERM_CARE, 0.25), (Outcome.READMITTED, 0.1), (Outcome.DIED, 0.05)),
    "3": ((Outcome.LONG_TERM_CARE, 0.86), (Outcome.READMITTED, 0.05), (Outcome.DIED, 0.09)),
}  # fmt: skip
# Days from the discharge to the end of the episode: reablement runs up to six weeks.
EPISODE_DAYS = {"1": (7, 42), "2": (14, 42), "3": (21, 35)}
AT_HOME_CHECK = dt.timedelta(days=91)

# Stages of today's inpatients, by days since they became ready to leave (0, 1-2, 3+).
INPATIENT_STAGES: dict[int, tuple[tuple[str, float], ...]] = {
    0: ((State.REFERRED, 0.4), (State.TRIAGED, 0.3), (State.OFFERED, 0.2), (State.ACCEPTED, 0.1)),
    1: ((State.REFERRED, 0.1), (State.TRIAGED, 0.25), (State.OFFERED, 0.35),
        (State.ACCEPTED, 0.3)),
    3: ((State.REFERRED, 0.05), (State.TRIAGED, 0.2), (State.OFFERED, 0.35),
        (State.ACCEPTED, 0.4)),
}  # fmt: skip
IN_HOSPITAL_STAGES = (State.REFERRED, State.TRIAGED, State.OFFERED, State.ACCEPTED)
FORCED_STAGES = (*IN_HOSPITAL_STAGES, State.WITHDRAWN)

NEEDS = (
    "Help to wash and dress morning and evening; mobilises with a frame.",
    "Support with meals and medicines; unsteady on stairs after the fall.",
    "Needs two carers for transfers for now; hoist in use on the ward.",
    "Independent with personal care; needs help with shopping and meals.",
    "Catheter care and wound dressings twice a week; prompts for medicines.",
    "Reablement to regain confidence walking outdoors; perching stool for the kitchen.",
    "Full assistance with personal care; pressure area care.",
)
HOMES = (
    "Lives alone in a ground-floor flat; key safe fitted.",
    "Lives with her husband, who has dementia; terraced house, bathroom upstairs.",
    "Bungalow, level access; lives with son who works full time.",
    "First-floor flat with a lift that is often broken.",
    "Sheltered housing with a warden call system.",
    "Two-storey house; bed could come downstairs if needed.",
)
CARERS = (
    "Daughter visits daily after work.",
    "Neighbour helps with shopping.",
    "Son lives nearby and can do evenings.",
    "No unpaid carers.",
)
WISHES = (
    "To be back in my own home with my cat.",
    "To manage my own washing again.",
    "To get back to the lunch club on Wednesdays.",
    "To stay at home as long as I can.",
    "To be somewhere I feel safe at night.",
)
DECLINES = (
    "No carers free in that area this week.",
    "Needs double-handed calls we cannot staff at present.",
)
WITHDRAWALS = ("Unwell again: needs the acute bed for now.", "Family will manage at home.")

TABLE_FIELDS = {
    "referrals": (
        "admission", "pathway", "service", "state", "needs", "home_situation", "carers",
        "consent", "preferred_outcome", "referred_by", "created_at", "state_changed_at",
        "start_date", "first_visit_at", "care_started_at", "outcome", "outcome_recorded_at",
        "at_home_91_days", "at_home_91_days_recorded_at", "at_home_91_days_recorded_by",
        "proposed_delay_reason", "version", "updated_at", "updated_by",
    ),
    "transitions": (
        "referral", "action", "from_state", "to_state", "at", "by", "note", "pathway",
        "service", "start_date", "outcome",
    ),
}  # fmt: skip


def _local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LONDON).date()


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time).replace(tzinfo=LONDON)


@dataclass
class _ServiceInfo:
    id: int
    provider_ods: str
    kind: str
    councils: tuple[str, ...]
    share: float
    staff_id: int
    starts: Counter = field(default_factory=Counter)


@dataclass
class _Episode:
    """One referral being written: its state, its fields and its steps so far."""

    id: int
    state: str = ""
    at: dt.datetime | None = None
    by: int | None = None
    version: int = 0
    service: _ServiceInfo | None = None
    planned_start: dt.date | None = None
    values: dict = field(default_factory=dict)


class TransferWriter:
    """Writes referrals and their steps for the history's admissions."""

    def __init__(self, *, seed: int, today: dt.date) -> None:
        self.rng = random.Random(f"transfers-{seed}")
        self.today = today
        self.now = _at(today, NOW_TIME)
        self.referrals = Table(Referral, TABLE_FIELDS["referrals"], "referrals")
        self.transitions = Table(ReferralTransition, TABLE_FIELDS["transitions"], "referral steps")
        self.capacity = Table(
            ServiceCapacity, ("service", "day", "available", "declared_by", "declared_at"),
            "service capacity",
        )  # fmt: skip
        org_ids = dict(Organisation.objects.values_list("ods_code", "pk"))
        self.org_ods = {pk: ods for ods, pk in org_ids.items()}
        self.users = self._users(org_ids)
        self.services = self._services(org_ids)
        self.stages: Counter = Counter()
        self.awaiting_first_visit: set[int] = set()

    # --- Set-up ---------------------------------------------------------------------------

    def _users(self, org_ids: dict[str, int]) -> dict[str, int]:
        """Ids of the people who refer, triage and provide, creating the providers' staff."""
        no_login = make_password(None)
        for ods, (username, first, last, title) in PROVIDER_STAFF.items():
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "job_title": title,
                    "email": f"{username}@homefirst.example",
                    "password": no_login,
                },
            )
            Membership.objects.get_or_create(
                user=user, organisation_id=org_ids[ods], role=Membership.Role.PROVIDER_STAFF
            )
        wanted = ["nurse", "coordinator", "socialworker", "carer"]
        wanted += [c[0] for c in CLINICIANS] + [s[0] for s in PROVIDER_STAFF.values()]
        return dict(User.objects.filter(username__in=wanted).values_list("username", "pk"))

    def _services(self, org_ids: dict[str, int]) -> list[_ServiceInfo]:
        created = Service.objects.bulk_create(
            Service(provider_id=org_ids[ods], name=name, kind=kind)
            for ods, name, kind, _councils, _share in SERVICES
        )
        ServiceArea.objects.bulk_create(
            ServiceArea(service=service, council_id=org_ids[council])
            for service, (_ods, _name, _kind, councils, _share) in zip(
                created, SERVICES, strict=True
            )
            for council in councils
        )
        staff = {ods: self.users[username] for ods, (username, *_rest) in PROVIDER_STAFF.items()}
        staff[REABLEMENT_PROVIDER_ODS] = self.users["carer"]
        return [
            _ServiceInfo(
                id=service.pk,
                provider_ods=ods,
                kind=kind,
                councils=councils,
                share=share,
                staff_id=staff[ods],
            )
            for service, (ods, _name, kind, councils, share) in zip(created, SERVICES, strict=True)
        ]

    def tables(self) -> list[Table]:
        return [self.referrals, self.transitions, self.capacity]

    # --- Writing --------------------------------------------------------------------------

    def write(self) -> None:
        """Referrals for the demo trust's pathway 1-3 admissions, then each service's capacity."""
        admissions = (
            Admission.objects.filter(site__organisation__ods_code=TRUST_ODS)
            .filter(
                planned_pathway__in=["1", "2", "3"],
            )
            .annotate(council_id=F("patient__local_authority_id"))
            .order_by("admitted_at", "patient__nhs_number")
            .values_list(
                "pk", "status", "admitted_at", "discharged_at", "planned_pathway_id",
                "actual_pathway_id", "discharge_ready_date", "council_id",
                "patient__unpaid_carer", "updated_by_id",
            )
        )  # fmt: skip
        # The last person to go home on pathway 1 is still waiting for the first visit.
        self.awaiting_first_visit = set(
            Admission.objects.filter(
                site__organisation__ods_code=TRUST_ODS,
                status=Admission.Status.DISCHARGED,
                actual_pathway="1",
            )
            .order_by("-discharged_at", "-pk")
            .values_list("pk", flat=True)[:1]
        )
        inpatients = []
        for row in admissions.iterator(chunk_size=5000):
            if row[1] == Admission.Status.IN_HOSPITAL:
                inpatients.append(row)
            else:
                self._admission(*row)
        # The first few ready inpatients show each stage, however small the demo city.
        ready = 0
        for (
            pk,
            _status,
            admitted_at,
            _left,
            planned,
            _actual,
            drd,
            council_id,
            carer,
            _by,
        ) in inpatients:
            forced = None
            if drd is not None and ready < len(FORCED_STAGES):
                forced, ready = FORCED_STAGES[ready], ready + 1
            self._inpatient(
                pk, admitted_at, planned, drd, self.org_ods[council_id], carer, forced=forced
            )
        self._capacity()

    def _admission(
        self,
        pk,
        status,
        admitted_at,
        discharged_at,
        planned,
        actual,
        drd,
        council_id,
        carer,
        last_by,
    ) -> None:
        rng = self.rng
        council = self.org_ods[council_id]
        if status == Admission.Status.DISCHARGED and actual in ("1", "2", "3"):
            self._discharged(pk, admitted_at, discharged_at, actual, drd, council, carer, last_by)
        elif status == Admission.Status.DIED and rng.random() < 0.5:
            episode = self._refer(pk, admitted_at, discharged_at, planned, drd, council, carer)
            if episode is not None:
                self._step(episode, Action.WITHDRAW, State.WITHDRAWN, discharged_at, last_by,
                           note="Died in hospital.")  # fmt: skip
                self._finish(episode)

    def _referrer(self) -> int:
        names = ["nurse", "coordinator", *(c[0] for c in CLINICIANS[:12])]
        return self.users[self.rng.choice(names)]

    def _hub(self, council: str) -> int:
        if council == COUNCIL_ODS and self.rng.random() < 0.6:
            return self.users["socialworker"]
        return self.users["coordinator"]

    def _choose_service(self, pathway: str, council: str) -> _ServiceInfo:
        options = [
            s for s in self.services if pathway in KIND_PATHWAYS[s.kind] and council in s.councils
        ]
        weights = [s.share for s in options]
        return self.rng.choices(options, weights)[0]

    def _refer(
        self, pk, admitted_at, leaves_at, pathway, drd, council, carer, *, latest=None
    ) -> _Episode | None:
        """The ward's referral, made around the ready date, before ``latest`` (else before leaving)."""
        rng = self.rng
        earliest = admitted_at + HOUR
        latest = latest or (leaves_at - 30 * MINUTE)
        if latest <= earliest:
            return None
        # Wards refer in the working day, often the day before the patient is ready.
        day = drd - dt.timedelta(days=rng.choice((0, 0, 1))) if drd else _local_date(latest)
        aim = _at(day, dt.time(8, 30)) + dt.timedelta(minutes=rng.randrange(9 * 60))
        at = min(max(aim, earliest), latest)
        episode = _Episode(id=self.referrals.new_id())
        by = self._referrer()
        episode.values = {
            "admission": pk,
            "pathway": pathway,
            "needs": rng.choice(NEEDS),
            "home_situation": rng.choice(HOMES),
            "carers": carer or rng.choice(CARERS),
            "consent": "given" if rng.random() < 0.9 else "best_interests",
            "preferred_outcome": rng.choice(WISHES),
            "referred_by": by,
            "created_at": at,
        }
        self._step(episode, Action.REFER, State.REFERRED, at, by, pathway=pathway)
        return episode

    def _step(self, episode: _Episode, action: str, to: str, at: dt.datetime, by, **data) -> None:
        """One row of the referral's history; the referral's state follows it."""
        at = max(at, episode.at) if episode.at else at
        self.transitions.add(
            self.transitions.new_id(),
            referral=episode.id,
            action=action,
            from_state=episode.state,
            to_state=to,
            at=at,
            by=by,
            note=data.get("note", ""),
            pathway=data.get("pathway"),
            service=data["service"].id if data.get("service") else None,
            start_date=data.get("start_date"),
            outcome=data.get("outcome", ""),
        )
        if to != episode.state:
            episode.values["state_changed_at"] = at
        episode.state, episode.at, episode.by = to, at, by
        episode.version += 1

    def _walk_to_acceptance(
        self, episode: _Episode, council: str, until: dt.datetime, stop: str = State.ACCEPTED
    ) -> None:
        """Triage, offer (sometimes declined and offered again) and accept, spaced before ``until``."""
        rng = self.rng
        pathway = episode.values["pathway"]
        gaps = [rng.expovariate(1 / m) for m in (150, 300, 600, 300, 500)]  # minutes
        start = episode.at
        room = (until - start).total_seconds() / 60
        scale = min(1.0, room / (sum(gaps) + 1))
        moments = []
        t = start
        for gap in gaps:
            t = t + dt.timedelta(minutes=max(1.0, gap * scale) if scale < 1 else gap)
            moments.append(min(t, until))
        if rng.random() < 0.03:
            # Withdrawn for a while (unwell again), then referred again.
            self._step(episode, Action.WITHDRAW, State.WITHDRAWN, moments[0], self._referrer(),
                       note=rng.choice(WITHDRAWALS[:1]))  # fmt: skip
            self._step(
                episode, Action.REREFER, State.REFERRED, moments[0] + MINUTE, self._referrer()
            )
        if stop == State.REFERRED:
            return
        hub = self._hub(council)
        self._step(episode, Action.TRIAGE, State.TRIAGED, moments[1], hub, pathway=pathway)
        if stop == State.TRIAGED:
            return
        service = self._choose_service(pathway, council)
        if rng.random() < 0.06:
            self._step(episode, Action.OFFER, State.OFFERED, moments[2], hub, service=service)
            self._step(episode, Action.DECLINE, State.TRIAGED, moments[2] + 20 * MINUTE,
                       service.staff_id, note=rng.choice(DECLINES), service=service)  # fmt: skip
            service = self._choose_service(pathway, council)
        self._step(episode, Action.OFFER, State.OFFERED, moments[3], hub, service=service)
        episode.service = service
        if stop == State.OFFERED:
            return
        start_date = episode.planned_start or _local_date(moments[4])
        start_date = max(start_date, _local_date(episode.values["created_at"]))
        episode.values["start_date"] = start_date
        self._step(episode, Action.ACCEPT, State.ACCEPTED, moments[4], service.staff_id,
                   service=service, start_date=start_date)  # fmt: skip

    def _discharged(self, pk, admitted_at, left_at, pathway, drd, council, carer, last_by) -> None:
        rng = self.rng
        episode = self._refer(pk, admitted_at, left_at, pathway, drd, council, carer)
        if episode is None:
            return
        episode.planned_start = _local_date(left_at)
        self._walk_to_acceptance(episode, council, until=left_at - 5 * MINUTE)
        service = episode.service
        self._step(episode, Action.DISCHARGE, State.DISCHARGED, left_at, last_by)
        service.starts[_local_date(left_at)] += 1
        staff = service.staff_id
        bed_based = pathway in ("2", "3")
        first = left_at + (
            dt.timedelta(minutes=30 + rng.randrange(90)) if bed_based
            else dt.timedelta(minutes=120 + rng.randrange(26 * 60))
        )  # fmt: skip
        if first > self.now or pk in self.awaiting_first_visit:
            return self._finish(episode)
        if bed_based:
            self._step(episode, Action.CARE_START, State.STARTED, first, staff)
            episode.values["care_started_at"] = first
        else:
            self._step(episode, Action.FIRST_VISIT, State.STARTED, first, staff)
            care = first + dt.timedelta(hours=rng.randrange(2, 30))
            if care <= self.now:
                self._step(episode, Action.CARE_START, State.STARTED, care, staff)
                episode.values["care_started_at"] = care
        episode.values["first_visit_at"] = first
        if rng.random() < 0.12:
            changed = first + dt.timedelta(days=rng.randrange(1, 10))
            if changed <= self.now:
                self._step(episode, Action.NEEDS_CHANGE, State.STARTED, changed, staff,
                           note="Now needs help in the evening as well.")  # fmt: skip
        low, high = EPISODE_DAYS[pathway]
        ends = left_at + dt.timedelta(days=rng.uniform(low, high))
        if ends > self.now:
            return self._finish(episode)
        options = OUTCOMES[pathway]
        outcome = rng.choices([o[0] for o in options], [o[1] for o in options])[0]
        ends = max(ends, episode.at + MINUTE)
        if outcome == Outcome.READMITTED:
            self._step(episode, Action.READMIT, State.ENDED, ends, staff, outcome=outcome)
        else:
            self._step(episode, Action.END, State.ENDED, ends, staff, outcome=outcome)
        episode.values.update(outcome=outcome, outcome_recorded_at=ends)
        due = left_at + AT_HOME_CHECK
        if outcome != Outcome.DIED and due <= self.now and rng.random() < 0.75:
            checked = min(due + dt.timedelta(days=rng.uniform(0, 10)), self.now)
            at_home = rng.random() < (0.55 if outcome == Outcome.READMITTED else 0.86)
            episode.values.update(
                at_home_91_days=at_home,
                at_home_91_days_recorded_at=checked,
                at_home_91_days_recorded_by=self._hub(council),
            )
            episode.version += 1
        self._finish(episode)

    def _inpatient(self, pk, admitted_at, planned, drd, council, carer, *, forced=None) -> None:
        rng = self.rng
        if drd is None and rng.random() > 0.35:
            return  # still acutely unwell: the ward has not referred yet
        episode = self._refer(pk, admitted_at, self.now, planned, drd, council, carer,
                              latest=self.now - 10 * MINUTE)  # fmt: skip
        if episode is None:
            return
        if drd is None:
            stage = State.REFERRED if rng.random() < 0.8 else State.TRIAGED
        else:
            waited = (self.today - drd).days
            bands = INPATIENT_STAGES[0 if waited <= 0 else 1 if waited <= 2 else 3]
            stage = rng.choices([b[0] for b in bands], [b[1] for b in bands])[0]
        stage = State.ACCEPTED if forced == State.WITHDRAWN else forced or stage
        if stage == State.ACCEPTED:
            # The start date is today or soon: the confirmed discharge date.
            episode.planned_start = self.today + dt.timedelta(days=rng.choice((0, 0, 1, 1, 2)))
        self._walk_to_acceptance(episode, council, until=self.now - 5 * MINUTE, stop=stage)
        if forced == State.WITHDRAWN or (
            rng.random() < 0.02 and episode.state in IN_HOSPITAL_STAGES
        ):
            self._step(episode, Action.WITHDRAW, State.WITHDRAWN, episode.at + MINUTE,
                       self._hub(council), note=WITHDRAWALS[1])  # fmt: skip
        self.stages[episode.state] += 1
        self._finish(episode)

    def _finish(self, episode: _Episode) -> None:
        """Write the referral row as its last step left it."""
        v = episode.values
        # A decline or a re-referral takes the service back; a withdrawal keeps the last one.
        service = None if episode.state in (State.REFERRED, State.TRIAGED) else episode.service
        self.referrals.add(
            episode.id,
            admission=v["admission"],
            pathway=v["pathway"],
            service=service.id if service else None,
            state=episode.state,
            needs=v["needs"],
            home_situation=v["home_situation"],
            carers=v["carers"],
            consent=v["consent"],
            preferred_outcome=v["preferred_outcome"],
            referred_by=v["referred_by"],
            created_at=v["created_at"],
            state_changed_at=v.get("state_changed_at", v["created_at"]),
            start_date=v.get("start_date"),
            first_visit_at=v.get("first_visit_at"),
            care_started_at=v.get("care_started_at"),
            outcome=v.get("outcome", ""),
            outcome_recorded_at=v.get("outcome_recorded_at"),
            at_home_91_days=v.get("at_home_91_days"),
            at_home_91_days_recorded_at=v.get("at_home_91_days_recorded_at"),
            at_home_91_days_recorded_by=v.get("at_home_91_days_recorded_by"),
            proposed_delay_reason=propose_delay_reason(
                state=episode.state,
                pathway=v["pathway"],
                service_kind=service.kind if service else None,
            ),
            version=episode.version,
            updated_at=max(episode.at, v.get("at_home_91_days_recorded_at") or episode.at),
            updated_by=episode.by,
        )

    def _capacity(self) -> None:
        """Each service's daily capacity, declared by its staff: about what it usually takes."""
        rng = self.rng
        for service in self.services:
            days = sorted(service.starts)
            first = days[0] if days else self.today
            mean = sum(service.starts.values()) / max(1, (self.today - first).days)
            last = self.today + dt.timedelta(days=CAPACITY_AHEAD_DAYS - 1)
            day = first
            while day <= last:
                available = max(0, round(mean * rng.uniform(0.6, 1.3) + rng.uniform(-0.5, 0.5)))
                declared = _at(day, dt.time(8)) - dt.timedelta(days=1 if day > self.today else 0)
                self.capacity.add(
                    self.capacity.new_id(),
                    service=service.id,
                    day=day,
                    available=available,
                    declared_by=service.staff_id,
                    declared_at=min(declared, self.now),
                )
                day += DAY


def transfers_seed(*, seed: int, today: dt.date) -> Counter:
    """Write the demo's services, capacity and referrals; returns today's inpatients by stage."""
    writer = TransferWriter(seed=seed, today=today)
    tables = writer.tables()
    bulk.prepare(tables)
    for table in tables:
        table.reserve()
    writer.write()
    for table in tables:
        table.copy()
    return writer.stages
