"""Simulated patient flow through the demo city: beds filled and emptied, minute by minute.

Every bed hosts one stay after another, with a short gap for cleaning and the next patient
to arrive, so no bed is ever double booked and about nine in ten beds are occupied. Each
new patient's clinical course (days meeting the criteria to reside, pathway, delay,
discharge time) is planned when they arrive; patients waiting to move ward take the next
free bed on a ward that can have them. The plans then become rows (reviews, discharge
ready dates, delays ...) loaded with COPY. Time is whole minutes since local midnight of
the first simulated day, in UTC.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from tqdm import tqdm

from discharge import rules
from discharge.models import (
    Admission,
    CtrReview,
    CtrReviewCriterion,
    DelayEpisode,
    DischargeReadyDateChange,
    ExpectedDischargeDateChange,
    Patient,
    PlannedPathwayChange,
    WardStay,
)
from homefirst.demo import bulk
from homefirst.demo import city as c
from homefirst.demo.bulk import Table
from homefirst.demo.city import city_build, city_exists, city_reset
from homefirst.demo.personas import COUNCIL_ODS, OTHER_TRUST_ODS
from homefirst.demo.plans import plans_seed
from homefirst.demo.transfers import transfers_seed
from homefirst.models import Organisation, Ward

DAY = 24 * 60
HOUR = 60
# Days simulated before the history starts, so the wards are full and flowing on day one.
BURN_IN_DAYS = 42
# Beds occupied on average over the day. Discharges happen in the afternoon and arrivals
# through the evening and night, so the morning board round sees about 90%.
OCCUPANCY = 0.83
# The seeded "now": 09:30, in the middle of the morning board round (see demo_today).
NOW_MINUTE = 9 * HOUR + 30
# Board rounds start between 08:15 and 09:00 and take up to two and a half hours.
ROUND_START = 8 * HOUR + 15
ROUND_START_SPREAD = 45
ROUND_LENGTH = 150
LAST_DISCHARGE_MINUTE = 21 * HOUR + 30
# How far past today a plan may reach; the longest courses and delays are capped well inside.
HORIZON_DAYS = 400
LONGEST_ACUTE_DAYS = 120
LONGEST_DELAY_DAYS = 90

Progress = Callable[..., tqdm]


def demo_today(now: dt.datetime | None = None) -> dt.date:
    """The day whose 09:30 is the seeded "now": today from 09:30, yesterday before then.

    So a city seeded in the night holds nothing in the future: a nurse reviewing a patient at
    01:00 is never refused for coming before a review the demo put at 08:45.
    """
    local = timezone.localtime(now)
    morning_round = local.replace(hour=NOW_MINUTE // HOUR, minute=NOW_MINUTE % HOUR)
    morning_round = morning_round.replace(second=0, microsecond=0)
    return local.date() if local >= morning_round else local.date() - dt.timedelta(days=1)


class Clock:
    """Converts simulation minutes (UTC) to local days, dates and UTC timestamps, DST and all."""

    def __init__(self, first_day: dt.date, days: int) -> None:
        tz = timezone.get_default_timezone()
        self.first_day = first_day
        self.epoch = dt.datetime.combine(first_day, dt.time(), tzinfo=tz).astimezone(dt.UTC)
        offset0 = self._offset(self.epoch, tz)
        # Plans reach past today (the stays of today's inpatients), so the tables do too.
        days += HORIZON_DAYS
        hours = days * 24
        # Local minus UTC minutes, by UTC hour and by local wall-clock hour since the epoch.
        self._shift_utc = [
            self._offset(self.epoch + dt.timedelta(hours=h), tz) - offset0 for h in range(hours)
        ]
        start = dt.datetime.combine(first_day, dt.time())
        self._shift_local = [
            self._offset((start + dt.timedelta(hours=h)).replace(tzinfo=tz), tz) - offset0
            for h in range(hours)
        ]
        self._utc_start = self.epoch.hour * HOUR + self.epoch.minute
        self._utc_dates = [
            (self.epoch.date() + dt.timedelta(days=d)).isoformat() for d in range(days + 1)
        ]
        self.dates = [(first_day + dt.timedelta(days=d)).isoformat() for d in range(days)]
        self.day_dates = [first_day + dt.timedelta(days=d) for d in range(days)]
        self._weekday0 = first_day.weekday()

    @staticmethod
    def _offset(moment: dt.datetime, tz: dt.tzinfo) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds()) // 60

    def local(self, t: int) -> tuple[int, int]:
        """The local day index and minute of the day of a simulation time."""
        return divmod(t + self._shift_utc[t // HOUR], DAY)

    def at(self, day: int, minute: int) -> int:
        """The simulation time of a local day and minute."""
        wall = day * DAY + minute
        return wall - self._shift_local[wall // HOUR]

    def weekday(self, day: int) -> int:
        return (self._weekday0 + day) % 7

    def stamp(self, t: int) -> str:
        """A UTC timestamp for COPY."""
        day, minute = divmod(t + self._utc_start, DAY)
        return f"{self._utc_dates[day]} {minute // HOUR:02d}:{minute % HOUR:02d}:00+00"


# --- Clinical courses ---------------------------------------------------------------------------

# Pathway shares by age band (under 65, 65-79, 80 and over): about 50/45/4/1 overall.
PATHWAY_SHARES: tuple[tuple[int, tuple[float, float, float, float]], ...] = (
    (65, (0.74, 0.24, 0.015, 0.005)),
    (80, (0.46, 0.49, 0.04, 0.01)),
    (999, (0.27, 0.66, 0.055, 0.015)),
)
PATHWAYS = ("0", "1", "2", "3")
# Chance of dying in hospital, by the same age bands.
DEATH_RATES = ((65, 0.006), (80, 0.02), (999, 0.045))
# Median days meeting the criteria to reside, by pathway, and how each course stretches it.
ACUTE_DAYS = {"0": 2.0, "1": 7.0, "2": 10.0, "3": 13.0}
COURSE_LENGTH = {
    "medicine": 1.0, "elderly": 1.3, "respiratory": 1.1, "cardiology": 0.8, "stroke": 1.4,
    "stroke_rehab": 1.6, "gastro": 0.9, "surgery": 0.9, "urology": 0.6, "trauma": 1.0,
    "hip": 1.4, "elective": 0.6,
}  # fmt: skip
# Chance a discharge due at the weekend waits for Monday.
WEEKEND_WAIT = {"0": 0.3, "1": 0.6, "2": 0.7, "3": 0.7}
# Discharge times: (from, to, weight) in local minutes; most leave in the afternoon.
DISCHARGE_HOURS = (
    (10 * HOUR, 12 * HOUR, 0.2),
    (12 * HOUR, 14 * HOUR, 0.24),
    (14 * HOUR, 16 * HOUR, 0.3),
    (16 * HOUR, 18 * HOUR, 0.2),
    (18 * HOUR, 21 * HOUR, 0.08),
)
# Wards a long stayer at Northgate General may step down to at St Luke's.
STEP_DOWN = {
    "medicine": "rehab", "elderly": "rehab", "respiratory": "rehab", "trauma": "rehab",
    "hip": "rehab", "stroke": "stroke_rehab",
}  # fmt: skip


def _by_age(bands: Sequence[tuple[int, object]], age: int):
    return next(value for upper, value in bands if age < upper)


@dataclass(slots=True)
class Stay:
    """One admission as planned on arrival, and the beds it actually used.

    ``statuses`` has one letter per review day from ``first_day``: M meets the criteria to
    reside, N no longer meets them, X clinical exception. ``segments`` are
    [ward index, bed label, start, end or None].
    """

    index: int
    person: c.Person
    ward: int
    method: str
    course: str
    admitted: int
    day0: int
    round_start: int
    first_day: int
    first_minute: int | None
    statuses: str
    end_day: int
    end_minute: int
    end_review_minute: int | None
    ended: int
    outcome: str  # a pathway code, or "died"
    destination: str
    seed: int
    moves: list[tuple[int, str]] = field(default_factory=list)
    segments: list[list] = field(default_factory=list)
    waiting_for: int = -1


class CoursePlanner:
    """Plans a patient's clinical course on arrival: reviews, readiness, delay and discharge."""

    def __init__(self, rng: random.Random, clock: Clock) -> None:
        self.rng = rng
        self.clock = clock

    def pathway(self, age: int) -> str:
        """The pathway the person will leave on, or 'died'."""
        if self.rng.random() < _by_age(DEATH_RATES, age):
            return "died"
        return self.rng.choices(PATHWAYS, _by_age(PATHWAY_SHARES, age))[0]

    def plan(self, stay: Stay, age: int) -> None:
        """Fill in the review days, the end of the stay and where the person goes."""
        rng, clock = self.rng, self.clock
        day0, minute0 = clock.local(stay.admitted)
        stay.day0 = day0
        stay.round_start = ROUND_START + rng.randrange(ROUND_START_SPREAD + 1)
        board = stay.round_start + rng.randrange(ROUND_LENGTH)
        if minute0 + 30 <= board:
            stay.first_day, stay.first_minute = day0, board
        elif minute0 + 4 * HOUR <= 22 * HOUR:
            # Admitted after the board round: the post-take review is the day's review.
            stay.first_day, stay.first_minute = day0, minute0 + 60 + rng.randrange(3 * HOUR)
        else:
            stay.first_day, stay.first_minute = day0 + 1, None
        if stay.outcome == "died":
            self._plan_death(stay, minute0)
        else:
            self._plan_discharge(stay)
        stay.ended = clock.at(stay.end_day, stay.end_minute)

    def _review_minute(self, stay: Stay, day: int) -> int:
        if day == stay.first_day and stay.first_minute is not None:
            return stay.first_minute
        return stay.round_start + self.rng.randrange(ROUND_LENGTH)

    def _plan_death(self, stay: Stay, minute0: int) -> None:
        rng = self.rng
        stay.end_day = stay.day0 + min(
            LONGEST_ACUTE_DAYS, int(rng.lognormvariate(math.log(5), 0.9))
        )
        earliest = minute0 + 2 * HOUR if stay.end_day == stay.day0 else 0
        if earliest >= DAY - 10:
            stay.end_day += 1
            earliest = 0
        stay.end_minute = earliest + rng.randrange(DAY - earliest)
        reviewed = stay.end_day >= stay.first_day
        stay.end_review_minute = self._review_minute(stay, stay.end_day) if reviewed else None
        last = stay.end_day
        if stay.end_review_minute is None or stay.end_review_minute >= stay.end_minute:
            stay.end_review_minute = None
            last -= 1
        stay.statuses = "M" * max(0, last - stay.first_day + 1)
        stay.destination = "died"

    def _plan_discharge(self, stay: Stay) -> None:
        rng, pathway = self.rng, stay.outcome
        median = ACUTE_DAYS[pathway] * COURSE_LENGTH[stay.course]
        acute = min(LONGEST_ACUTE_DAYS, int(rng.lognormvariate(math.log(median), 0.8)))
        if stay.first_day > stay.day0:
            # Admitted late: the admission day, with no review, was the first acute day.
            acute = max(0, acute - 1)
        statuses = "M" * acute
        if acute and rng.random() < (0.03 if pathway == "0" else 0.08):
            # Ready, then unwell again: the discharge ready date is cleared and set anew.
            statuses += "N" * (1 + rng.randrange(3)) + "M" * (1 + rng.randrange(4))
        if rng.random() < 0.05:
            statuses += "X"
        statuses += "N" * (1 + min(LONGEST_DELAY_DAYS, self._delay_days(pathway)))
        day = stay.first_day + len(statuses) - 1
        while True:
            if self.clock.weekday(day) >= 5 and rng.random() < WEEKEND_WAIT[pathway]:
                day += 7 - self.clock.weekday(day)
            review = self._review_minute(stay, day)
            minute = self._discharge_minute(review)
            if minute is not None:
                break
            day += 1
        statuses += "N" * (day - stay.first_day + 1 - len(statuses))
        stay.statuses = statuses
        stay.end_day, stay.end_minute, stay.end_review_minute = day, minute, review
        stay.destination = _destination(rng, pathway)

    def _delay_days(self, pathway: str) -> int:
        rng = self.rng
        if pathway == "0":
            return rng.choices((0, 1, 2, 3, 4), (0.7, 0.19, 0.06, 0.03, 0.02))[0]
        if pathway == "1":
            return 0 if rng.random() < 0.3 else 1 + int(rng.lognormvariate(math.log(1.2), 0.9))
        if pathway == "2":
            return 1 + int(rng.lognormvariate(math.log(4), 0.7))
        return 2 + int(rng.lognormvariate(math.log(8), 0.6))

    def _discharge_minute(self, review: int) -> int | None:
        """A discharge time after the day's review; None when the day is too far gone."""
        rng = self.rng
        earliest = review + 45
        if earliest > LAST_DISCHARGE_MINUTE:
            return None
        for _ in range(3):
            start, end, _weight = rng.choices(DISCHARGE_HOURS, [h[2] for h in DISCHARGE_HOURS])[0]
            minute = start + rng.randrange(end - start)
            if minute >= earliest:
                return minute
        return earliest + rng.randrange(min(90, LAST_DISCHARGE_MINUTE - earliest + 1))


# Destinations by pathway (all within discharge.rules.DESTINATIONS_BY_PATHWAY), with weights.
DESTINATIONS: dict[str, tuple[tuple[str, float], ...]] = {
    "0": (("usual_residence", 0.84), ("care_home_return", 0.1), ("temporary_residence", 0.02),
          ("other_hospital", 0.03), ("hospice", 0.01)),
    "1": (("usual_residence", 0.93), ("temporary_residence", 0.02), ("care_home_return", 0.03),
          ("hospice", 0.02)),
    "2": (("rehab_bed", 1.0),),
    "3": (("care_home_new", 0.95), ("hospice", 0.05)),
}  # fmt: skip


def _destination(rng: random.Random, pathway: str) -> str:
    options = DESTINATIONS[pathway]
    return rng.choices([o[0] for o in options], [o[1] for o in options])[0]


# --- The flow -----------------------------------------------------------------------------------

ARRIVE, LEAVE, MOVE_READY = 0, 1, 2


@dataclass
class Flow:
    """What the simulation produced: every stay, and the clock to read them by."""

    clock: Clock
    city: c.City
    stays: list[Stay]
    now: int
    window_start: int


class Simulation:
    """The event loop: arrivals on free beds, ward moves and departures, in time order."""

    def __init__(self, city: c.City, *, days: int, seed: int, today: dt.date) -> None:
        self.city = city
        self.rng = random.Random(seed)
        first = today - dt.timedelta(days=days + BURN_IN_DAYS)
        self.clock = Clock(first, days + BURN_IN_DAYS + 1)
        self.today = days + BURN_IN_DAYS
        self.now = self.clock.at(self.today, NOW_MINUTE)
        self.window_start = self.clock.at(BURN_IN_DAYS, 0)
        self.population = c.Population(self.rng, today)
        self.planner = CoursePlanner(self.rng, self.clock)
        self.stays: list[Stay] = []
        self.events: list[tuple] = []
        self._seq = 0
        self.waiting: dict[str, deque[tuple[int, int]]] = {}
        # How long stays hold a bed on each ward, learned as they end: it sets the gap between
        # stays. A plain running mean: stays are long-tailed, and a moving average of recent
        # ones would run below the mean and overfill the wards.
        self.held = [[(1.5 if w.plan.onward else 6.0) * DAY * 5, 5] for w in city.wards]
        self.other_trust = city.org_ids[OTHER_TRUST_ODS]

    def _push(self, t: int, kind: int, a: object, b: int = 0) -> None:
        self._seq += 1
        heapq.heappush(self.events, (t, self._seq, kind, a, b))

    def run(self, progress: Progress) -> Flow:
        """Simulate from the first day to the seeded 'now'."""
        rng = self.rng
        for w, ward in enumerate(self.city.wards):
            for label in ward.beds:
                # Staggered first arrivals, so the wards do not fill in one wave.
                self._push(rng.randrange(3 * DAY), ARRIVE, (w, label))
        bar = progress(total=self.today + 1, desc="Simulating patient flow", unit="day")
        shown = 0
        while self.events and self.events[0][0] <= self.now:
            t, _seq, kind, a, b = heapq.heappop(self.events)
            day = t // DAY
            if day > shown:
                bar.update(day - shown)
                shown = day
            if kind == ARRIVE:
                self._arrive(t, a, elective=bool(b))
            elif kind == LEAVE:
                self._leave(t, self.stays[a])
            else:
                self._move_ready(t, self.stays[a], b)
        bar.update(self.today + 1 - shown)
        bar.close()
        return Flow(
            clock=self.clock,
            city=self.city,
            stays=self.stays,
            now=self.now,
            window_start=self.window_start,
        )

    def _gap(self, w: int) -> int:
        """Minutes a bed stands empty before its next patient: cleaning, then the next arrival."""
        total, count = self.held[w]
        mean = max(45.0, total / count * (1 / OCCUPANCY - 1))
        return 30 + int(self.rng.expovariate(1 / (mean - 30)))

    def _free(self, t: int, bed: tuple[int, str], since: int) -> None:
        w = bed[0]
        self.held[w][0] += t - since
        self.held[w][1] += 1
        elective = self.city.wards[w].plan.elective
        if elective and self.rng.random() < elective:
            # Planned admissions come in on weekday mornings; the bed is kept for them.
            self._push(self._next_weekday_morning(t + 30), ARRIVE, bed, 1)
        else:
            self._push(t + self._gap(w), ARRIVE, bed)

    def _arrive(self, t: int, bed: tuple[int, str], *, elective: bool) -> None:
        if not elective:
            stay = self._next_waiting(self.city.wards[bed[0]].plan.group, t)
            if stay is not None:
                self._move(t, stay, bed)
                return
        self._admit(t, bed, method="elective" if elective else "emergency")

    def _next_weekday_morning(self, t: int) -> int:
        day, minute = self.clock.local(t)
        if minute > 7 * HOUR:
            day += 1
        while self.clock.weekday(day) >= 5:
            day += 1
        return max(t, self.clock.at(day, 7 * HOUR + self.rng.randrange(150)))

    def _admit(self, t: int, bed: tuple[int, str], *, method: str) -> None:
        rng = self.rng
        w, label = bed
        ward = self.city.wards[w]
        plan = ward.plan
        onward = None
        course = plan.course
        if plan.onward:
            onward = rng.choices([o[0] for o in plan.onward], [o[1] for o in plan.onward])[0]
            course = _COURSE_OF_GROUP[onward]
        council = COUNCIL_ODS if rng.random() < 0.88 else c.OTHER_COUNCIL_ODS
        if ward.trust_id == self.other_trust:
            council = c.OTHER_COUNCIL_ODS if rng.random() < 0.7 else COUNCIL_ODS
        person = self.population.returning(t) or self.population.new(course=course, council=council)
        age = self.population.today.year - person.date_of_birth.year
        stay = Stay(
            index=len(self.stays),
            person=person,
            ward=w,
            method=method,
            course=course,
            admitted=t,
            day0=0,
            round_start=0,
            first_day=0,
            first_minute=None,
            statuses="",
            end_day=0,
            end_minute=0,
            end_review_minute=None,
            ended=0,
            outcome=self.planner.pathway(age),
            destination="",
            seed=rng.getrandbits(48),
        )
        self.planner.plan(stay, age)
        self.stays.append(stay)
        person.in_hospital = True
        stay.segments.append([w, label, t, None])
        self._plan_moves(stay, onward, age)
        self._push(stay.ended, LEAVE, stay.index)
        if stay.moves:
            self._push(stay.moves[0][0], MOVE_READY, stay.index, 0)

    def _plan_moves(self, stay: Stay, onward: str | None, age: int) -> None:
        rng = self.rng
        site = self.city.wards[stay.ward].plan.site
        if onward is not None:
            ready = stay.admitted + 12 * HOUR + rng.randrange(24 * HOUR)
            if stay.ended - ready > 18 * HOUR:
                stay.moves.append((ready, onward))
        step_down = STEP_DOWN.get(stay.course)
        long_stay = stay.ended - stay.admitted > 10 * DAY
        if step_down and site == c.ACUTE_SITE and age >= 70 and long_stay and rng.random() < 0.35:
            ready = stay.admitted + (3 + rng.randrange(4)) * DAY
            if stay.moves:
                ready = max(ready, stay.moves[-1][0] + DAY)
            if stay.ended - ready > 3 * DAY:
                stay.moves.append((ready, step_down))

    def _move_ready(self, t: int, stay: Stay, k: int) -> None:
        if stay.ended <= t:
            return
        stay.waiting_for = k
        self.waiting.setdefault(stay.moves[k][1], deque()).append((stay.index, k))

    def _next_waiting(self, group: str, t: int) -> Stay | None:
        queue = self.waiting.get(group)
        while queue:
            index, k = queue.popleft()
            stay = self.stays[index]
            if stay.waiting_for == k and stay.ended > t + HOUR:
                return stay
        return None

    def _move(self, t: int, stay: Stay, bed: tuple[int, str]) -> None:
        old = stay.segments[-1]
        old[3] = t
        self._free(t, (old[0], old[1]), old[2])
        stay.segments.append([bed[0], bed[1], t, None])
        k = stay.waiting_for
        stay.waiting_for = -1
        if k + 1 < len(stay.moves):
            self._push(max(t + HOUR, stay.moves[k + 1][0]), MOVE_READY, stay.index, k + 1)

    def _leave(self, t: int, stay: Stay) -> None:
        current = stay.segments[-1]
        current[3] = t
        stay.waiting_for = -1
        self._free(t, (current[0], current[1]), current[2])
        person = stay.person
        person.in_hospital = False
        if stay.outcome == "died":
            person.died = True
        else:
            self.population.left(person, t)


# The clinical course of the wards a patient moves on to from an assessment unit.
_COURSE_OF_GROUP = {
    "medicine": "medicine", "elderly": "elderly", "respiratory": "respiratory",
    "gastro": "gastro", "stroke": "stroke", "cardiology": "cardiology", "surgery": "surgery",
    "urology": "urology",
}  # fmt: skip


def simulate(city: c.City, *, days: int, seed: int, today: dt.date, progress: Progress) -> Flow:
    """Run the flow for ``days`` days (after a burn-in) up to 09:30 on ``today``."""
    return Simulation(city, days=days, seed=seed, today=today).run(progress)


# --- From plans to rows -------------------------------------------------------------------------

# Criteria a patient on each course meets, the likeliest first.
CRITERIA_BY_COURSE: dict[str, tuple[str, ...]] = {
    "medicine": ("08", "03", "04", "06", "02"),
    "elderly": ("06", "08", "03", "04"),
    "respiratory": ("02", "04", "08", "01"),
    "cardiology": ("04", "11", "01", "08"),
    "stroke": ("05", "06", "03"),
    "stroke_rehab": ("06", "05"),
    "gastro": ("03", "08", "11", "04"),
    "surgery": ("10", "03", "08", "11"),
    "urology": ("11", "03", "08"),
    "trauma": ("09", "08", "06", "03"),
    "hip": ("09", "06", "08", "03"),
    "elective": ("09", "08", "03"),
}
# Criteria that only hold in the first days (after surgery, a procedure, or critical care).
EARLY_CRITERIA = frozenset({"01", "09", "10", "11"})
CRITERION_WEIGHTS = (5, 3, 2, 1, 1)
LAST_HOURS_OF_LIFE = "07"

EXCEPTION_REASONS = (
    "Consultant wants to review the echo result before discharge.",
    "Borderline observations overnight; senior review planned this afternoon.",
    "Family meeting booked for tomorrow; discharge agreed to wait for it.",
    "Awaiting blood culture results; clinically agreed to hold.",
    "Falls risk: physiotherapy to reassess mobility before discharge.",
)
NOTES = {
    "M": (
        "IV antibiotics continue; review switch to oral tomorrow.",
        "Still needing oxygen; wean as tolerated.",
        "NEWS2 improving.",
        "Therapy assessment requested.",
        "Awaiting imaging.",
        "Pain controlled; mobilising with frame.",
    ),
    "N": (
        "Medically optimised.",
        "Ready to go home once support is in place.",
        "TTOs requested.",
        "Referred to the care transfer hub.",
        "Family updated.",
        "Transport booked.",
    ),
    "X": ("Clinical exception agreed at board round.",),
}
# When the first plan is wrong, what it usually was.
FIRST_PLAN_INSTEAD = {"0": "1", "1": "0", "2": "1", "3": "1"}

# Delay reasons likely on each pathway (NHS England's codes), with weights.
DELAY_REASONS: dict[str, tuple[tuple[str, float], ...]] = {
    "0": (("HOS03", 0.35), ("HOS04", 0.2), ("HOS01", 0.15), ("CAP01", 0.1), ("WEL04", 0.05),
          ("HOS07", 0.05), ("CAP07", 0.04), ("WEL02", 0.06)),
    "1": (("CAP05", 0.25), ("INT04", 0.15), ("CAP10", 0.14), ("INT08", 0.1), ("HUB02", 0.07),
          ("HUB03", 0.05), ("CAP04", 0.08), ("INT10", 0.05), ("HOS05", 0.05), ("CAP09", 0.06)),
    "2": (("CAP02", 0.5), ("INT01", 0.25), ("HUB01", 0.1), ("CAP04", 0.05), ("INT10", 0.1)),
    "3": (("INT11", 0.3), ("CAP11", 0.3), ("HUB01", 0.15), ("INT10", 0.1), ("WEL01", 0.1),
          ("INT12", 0.05)),
}  # fmt: skip
# Who holds each delay: the trust, the person's council, or a named service.
RESPONSIBLE = {
    "HOS": "trust", "HUB": "council", "WEL": "council",
    "INT01": c.COMMUNITY_TRUST_ODS, "INT04": c.REABLEMENT_PROVIDER_ODS,
    "INT07": c.COMMUNITY_TRUST_ODS, "CAP01": c.REABLEMENT_PROVIDER_ODS,
    "CAP02": c.COMMUNITY_TRUST_ODS, "CAP04": c.COMMUNITY_TRUST_ODS,
    "CAP05": c.REABLEMENT_PROVIDER_ODS, "CAP09": c.COMMUNITY_TRUST_ODS,
    "CAP10": c.REABLEMENT_PROVIDER_ODS, "CAP11": c.CARE_HOME_PROVIDER_ODS,
}  # fmt: skip


PATIENT_FIELDS = (
    "nhs_number", "given_name", "family_name", "date_of_birth", "sex", "postcode",
    "local_authority", "gp_practice_code", "lives_alone", "unpaid_carer", "communication_needs",
)  # fmt: skip
ADMISSION_FIELDS = (
    "patient", "site", "current_ward", "bed_label", "method", "specialty", "admitted_at",
    "status", "discharged_at", "discharge_destination", "actual_pathway", "planned_pathway",
    "expected_discharge_date", "discharge_ready_date", "latest_review", "version",
    "updated_at", "updated_by",
)  # fmt: skip


@dataclass
class Tables:
    """The bulk tables the history fills, in the order they are written."""

    patients: Table
    admissions: Table
    ward_stays: Table
    reviews: Table
    review_criteria: Table
    drd_changes: Table
    edd_changes: Table
    pathway_changes: Table
    delays: Table

    @classmethod
    def create(cls) -> Tables:
        return cls(
            patients=Table(Patient, PATIENT_FIELDS, "patients"),
            admissions=Table(Admission, ADMISSION_FIELDS, "admissions"),
            ward_stays=Table(
                WardStay,
                ("admission", "ward", "bed_label", "started_at", "ended_at", "moved_by"),
                "ward stays",
            ),
            reviews=Table(
                CtrReview,
                (
                    "admission",
                    "reviewed_at",
                    "review_date",
                    "reviewed_by",
                    "meets",
                    "exception_reason",
                    "note",
                ),
                "criteria-to-reside reviews",
            ),
            review_criteria=Table(CtrReviewCriterion, ("review", "criterion"), "criteria met"),
            drd_changes=Table(
                DischargeReadyDateChange,
                ("admission", "discharge_ready_date", "changed_at", "review"),
                "discharge ready dates",
            ),
            edd_changes=Table(
                ExpectedDischargeDateChange,
                ("admission", "expected_discharge_date", "changed_at", "changed_by"),
                "expected discharge dates",
            ),
            pathway_changes=Table(
                PlannedPathwayChange,
                ("admission", "pathway", "changed_at", "changed_by"),
                "planned pathways",
            ),
            delays=Table(
                DelayEpisode,
                (
                    "admission",
                    "reason",
                    "responsible_organisation",
                    "started_at",
                    "ended_at",
                    "recorded_by",
                ),
                "delays",
            ),
        )

    def all(self) -> list[Table]:
        return [getattr(self, f.name) for f in fields(self)]


class RowWriter:
    """Turns each planned stay into the rows the services would have written along the way."""

    def __init__(self, flow: Flow, tables: Tables) -> None:
        self.flow = flow
        self.clock = flow.clock
        self.city = flow.city
        self.t = tables
        self.patient_ids: dict[int, int] = {}

    def write(self, progress: Progress) -> None:
        """Rows for every stay that overlaps the history window."""
        stays = [s for s in self.flow.stays if s.ended > self.flow.window_start]
        bar = progress(total=len(stays), desc="Writing the history", unit="stay")
        for i, stay in enumerate(stays):
            self._stay(stay)
            if i % 1000 == 999:
                bar.update(1000)
        bar.update(len(stays) % 1000)
        bar.close()

    def _patient(self, person: c.Person) -> int:
        patient_id = self.patient_ids.get(person.index)
        if patient_id is None:
            patient_id = self.patient_ids[person.index] = self.t.patients.new_id()
            self.t.patients.add(
                patient_id,
                nhs_number=person.nhs_number,
                given_name=person.given_name,
                family_name=person.family_name,
                date_of_birth=person.date_of_birth.isoformat(),
                sex=person.sex,
                postcode=person.postcode,
                local_authority=self.city.org_ids[person.council],
                gp_practice_code=person.gp_practice,
                lives_alone=person.lives_alone,
                unpaid_carer=person.unpaid_carer,
                communication_needs=person.communication_needs,
            )
        return patient_id

    def _stay(self, stay: Stay) -> None:
        rng = random.Random(stay.seed)
        flow, clock, t = self.flow, self.clock, self.t
        inpatient = stay.ended > flow.now
        limit = flow.now if inpatient else stay.ended
        admission_id = t.admissions.new_id()
        # (time, user) of every change the services would have stamped on the admission.
        changes: list[tuple[int, int | None]] = []
        wards = self.city.wards
        for i, (w, label, start, end) in enumerate(stay.segments):
            moved_by = None if i == 0 else self.city.coordinator_id
            t.ward_stays.add(
                t.ward_stays.new_id(),
                admission=admission_id,
                ward=wards[w].id,
                bed_label=label,
                started_at=clock.stamp(start),
                ended_at=None if end is None else clock.stamp(end),
                moved_by=moved_by,
            )
            if i:
                changes.append((start, moved_by))

        reviewed, latest, drd, runs = self._reviews(stay, admission_id, limit, rng, changes)
        edd = self._edd(stay, admission_id, limit, reviewed, rng, changes)
        planned = self._pathway(stay, admission_id, reviewed, inpatient, rng, changes)
        self._delays(stay, admission_id, runs, limit, reviewed, rng, changes)

        last_ward = wards[stay.segments[-1][0]]
        status, left_at, destination, actual = "in_hospital", None, "", None
        if not inpatient:
            status = "died" if stay.outcome == "died" else "discharged"
            left_at, destination = clock.stamp(stay.ended), stay.destination
            actual = None if stay.outcome == "died" else stay.outcome
            changes.append((stay.ended, self._someone(rng, last_ward)))
        last_at, last_by = stay.admitted, None
        for at, by in changes:
            if at >= last_at:
                last_at, last_by = at, by
        t.admissions.add(
            admission_id,
            patient=self._patient(stay.person),
            site=last_ward.site_id,
            current_ward=last_ward.id,
            bed_label=stay.segments[-1][1],
            method=stay.method,
            specialty=wards[stay.ward].plan.specialty,
            admitted_at=clock.stamp(stay.admitted),
            status=status,
            discharged_at=left_at,
            discharge_destination=destination,
            actual_pathway=actual,
            planned_pathway=planned,
            expected_discharge_date=edd,
            discharge_ready_date=drd,
            latest_review=latest,
            # What the services would have counted: one version per change.
            version=1 + len(changes),
            updated_at=clock.stamp(last_at),
            updated_by=last_by,
        )

    def _ward_at(self, stay: Stay, at: int) -> c.WardInfo:
        for w, _label, start, _end in reversed(stay.segments):
            if start <= at:
                return self.city.wards[w]
        return self.city.wards[stay.ward]

    def _someone(self, rng: random.Random, ward: c.WardInfo) -> int:
        """The coordinator (of the ward's own trust) or one of the ward's team."""
        if rng.random() < 0.5:
            return ward.team[rng.randrange(len(ward.team))]
        if ward.trust_id == self.city.org_ids[OTHER_TRUST_ODS]:
            return self.city.other_coordinator_id
        return self.city.coordinator_id

    def _reviews(
        self,
        stay: Stay,
        admission_id: int,
        limit: int,
        rng: random.Random,
        changes: list[tuple[int, int | None]],
    ) -> tuple[dict[int, tuple[int, int]], int | None, str | None, list[list]]:
        """Daily reviews, their criteria and the discharge ready date they move, by the rule.

        Returns the (time, reviewer) of each day's review, the latest review's id, the
        current discharge ready date and the runs of readiness as [start, end or None].
        """
        clock, t = self.clock, self.t
        criteria_pool = CRITERIA_BY_COURSE[stay.course]
        reviewed: dict[int, tuple[int, int]] = {}
        latest = None
        current: dt.date | None = None
        runs: list[list] = []
        last = len(stay.statuses) - 1
        for i, status in enumerate(stay.statuses):
            day = stay.first_day + i
            if i == 0 and stay.first_minute is not None:
                minute = stay.first_minute
            elif day == stay.end_day:
                minute = stay.end_review_minute
            else:
                minute = stay.round_start + rng.randrange(ROUND_LENGTH)
            at = clock.at(day, minute)
            if at > limit:
                break
            team = self._ward_at(stay, at).team
            by = team[rng.randrange(len(team))]
            review_id = t.reviews.new_id()
            t.reviews.add(
                review_id,
                admission=admission_id,
                reviewed_at=clock.stamp(at),
                review_date=clock.dates[day],
                reviewed_by=by,
                meets=status == "M",
                exception_reason=rng.choice(EXCEPTION_REASONS) if status == "X" else "",
                note=rng.choice(NOTES[status]) if rng.random() < 0.12 else "",
            )
            if status == "M":
                codes = _criteria(rng, criteria_pool, i)
                if stay.outcome == "died" and i == last:
                    codes = sorted({*codes, LAST_HOURS_OF_LIFE})
                for code in codes:
                    t.review_criteria.add(
                        t.review_criteria.new_id(), review=review_id, criterion=code
                    )
            new = rules.next_discharge_ready_date(
                current=current, ready=status == "N", review_date=clock.day_dates[day]
            )
            if new != current:
                t.drd_changes.add(
                    t.drd_changes.new_id(),
                    admission=admission_id,
                    discharge_ready_date=None if new is None else new.isoformat(),
                    changed_at=clock.stamp(at),
                    review=review_id,
                )
                if new is None:
                    runs[-1][1] = at
                else:
                    runs.append([at, None])
                current = new
            reviewed[day] = (at, by)
            latest = review_id
            changes.append((at, by))
        return reviewed, latest, None if current is None else current.isoformat(), runs

    def _edd(
        self,
        stay: Stay,
        admission_id: int,
        limit: int,
        reviewed: dict[int, tuple[int, int]],
        rng: random.Random,
        changes: list[tuple[int, int | None]],
    ) -> str | None:
        """The expected date of discharge: set on the day of admission, revised when it slips."""
        clock, t = self.clock, self.t
        first_at = stay.admitted + 60 + rng.randrange(5 * HOUR)
        day0_ends = clock.at(stay.day0 + 1, 0)
        if first_at > min(limit, day0_ends - 1):
            first_at = stay.admitted + 30
            if first_at > limit:
                return None
        los = stay.end_day - stay.day0
        accuracy = rng.uniform(0.8, 1.2) if stay.method == "elective" else rng.uniform(0.45, 1.15)
        edd = stay.day0 + max(1 if los else 0, round(los * accuracy))
        team = self._ward_at(stay, first_at).team
        set_by = team[rng.randrange(len(team))]
        entries = [(first_at, edd, set_by)]
        ready_day = stay.first_day + len(stay.statuses.rstrip("N"))
        for day in sorted(reviewed):
            if len(entries) > 4 or day == stay.day0:
                continue
            at, by = reviewed[day]
            new = None
            if edd < day and rng.random() < 0.7:
                new = day + max(1, round((stay.end_day - day) * rng.uniform(0.6, 1.2)))
            elif day == ready_day and stay.outcome != "died" and rng.random() < 0.5:
                new = day + {"0": 0, "1": 2, "2": 4, "3": 7}[stay.outcome] + rng.randrange(2)
            if new is not None and new != edd and at + 5 <= limit:
                edd = new
                entries.append((at + 5, edd, by))
        for at, value, by in entries:
            t.edd_changes.add(
                t.edd_changes.new_id(),
                admission=admission_id,
                expected_discharge_date=clock.dates[value],
                changed_at=clock.stamp(at),
                changed_by=by,
            )
            changes.append((at, by))
        return clock.dates[edd]

    def _pathway(
        self,
        stay: Stay,
        admission_id: int,
        reviewed: dict[int, tuple[int, int]],
        inpatient: bool,
        rng: random.Random,
        changes: list[tuple[int, int | None]],
    ) -> str | None:
        """The planned pathway: set at the first review, sometimes re-planned before discharge."""
        if not reviewed:
            return None
        days = sorted(reviewed)
        if stay.outcome == "died":
            final = first = "1" if rng.random() < 0.6 else "0"
        else:
            final = stay.outcome
            first = final if rng.random() < 0.85 else FIRST_PLAN_INSTEAD[final]
        at, by = reviewed[days[0]]
        entries = [(at + 3, first, by)]
        if first != final:
            ready_day = stay.first_day + len(stay.statuses.rstrip("N"))
            day = max(stay.first_day + 1, ready_day - rng.randrange(3))
            if day in reviewed:
                at, by = reviewed[day]
                entries.append((at + 4, final, by))
            elif not inpatient:
                # Re-planned at the last review at the latest, so the plan matches the discharge.
                at, by = reviewed[days[-1]]
                entries.append((at + 4, final, by))
        t = self.t
        for at, code, by in entries:
            t.pathway_changes.add(
                t.pathway_changes.new_id(),
                admission=admission_id,
                pathway=code,
                changed_at=self.clock.stamp(at),
                changed_by=by,
            )
            changes.append((at, by))
        return entries[-1][1]

    def _delays(
        self,
        stay: Stay,
        admission_id: int,
        runs: list[list],
        limit: int,
        reviewed: dict[int, tuple[int, int]],
        rng: random.Random,
        changes: list[tuple[int, int | None]],
    ) -> None:
        """Why a ready patient is still here: one reason per episode, the reason may change."""
        if stay.outcome == "died":
            return
        clock, t = self.clock, self.t
        weighted = DELAY_REASONS[stay.outcome]
        codes, weights = [w[0] for w in weighted], [w[1] for w in weighted]
        for start, end in runs:
            start_day = clock.local(start)[0]
            end_day = clock.local(end)[0] if end is not None else stay.end_day
            # Leaving on the day they became ready is no delay; a short wobble is not recorded.
            if end_day == start_day or (end is not None and end_day - start_day < 2):
                continue
            finish = stay.ended if end is None else end
            begin = start + 10 + rng.randrange(170)
            if begin >= finish or begin > limit:
                continue
            episodes = [(begin, rng.choices(codes, weights)[0])]
            if end_day - start_day >= 4 and rng.random() < 0.35:
                switch_day = start_day + 2 + rng.randrange(end_day - start_day - 1)
                if switch_day in reviewed:
                    switch_at = reviewed[switch_day][0] + 20
                    other = [code for code in codes if code != episodes[0][1]]
                    if begin < switch_at < finish and switch_at <= limit and other:
                        episodes.append((switch_at, rng.choice(other)))
            for k, (at, code) in enumerate(episodes):
                ends = episodes[k + 1][0] if k + 1 < len(episodes) else finish
                by = self._someone(rng, self._ward_at(stay, at))
                t.delays.add(
                    t.delays.new_id(),
                    admission=admission_id,
                    reason=code,
                    responsible_organisation=self._responsible(stay, code),
                    started_at=clock.stamp(at),
                    ended_at=None if ends > limit else clock.stamp(ends),
                    recorded_by=by,
                )
                changes.append((at, by))

    def _responsible(self, stay: Stay, code: str) -> int:
        holder = RESPONSIBLE.get(code) or RESPONSIBLE.get(code[:3]) or "council"
        if holder == "trust":
            return self.city.wards[stay.ward].trust_id
        if holder == "council":
            return self.city.org_ids[stay.person.council]
        return self.city.org_ids[holder]


def _criteria(rng: random.Random, pool: Sequence[str], day: int) -> list[str]:
    """One to three criteria from the course's list; those of the first days fade out."""
    if day >= 3:
        pool = [code for code in pool if code not in EARLY_CRITERIA] or pool
    weights = CRITERION_WEIGHTS[: len(pool)]
    wanted = 1 + (rng.random() < 0.35) + (day < 2 and rng.random() < 0.2)
    chosen: list[str] = []
    for _ in range(wanted * 2):
        code = rng.choices(pool, weights)[0]
        if code not in chosen:
            chosen.append(code)
        if len(chosen) == wanted:
            break
    return sorted(chosen)


# --- Seeding ------------------------------------------------------------------------------------


class DemoDataExists(Exception):
    """The demo city is already in the database and no reset was asked for."""


@dataclass(frozen=True)
class Summary:
    """What the database holds after seeding."""

    organisations: int
    wards: int
    beds: int
    trust_beds: int
    patients: int
    admissions: int
    inpatients: int
    trust_inpatients: int
    reviews: int
    discharges: int
    deaths: int
    pathway_mix: dict[str, float]

    @property
    def occupancy(self) -> float:
        """Share of the demo trust's beds occupied now."""
        return self.trust_inpatients / self.trust_beds if self.trust_beds else 0.0


def _silent(**kwargs: object) -> tqdm:
    return tqdm(disable=True, **kwargs)


def demo_seed(
    *,
    beds: int = 600,
    days: int = 90,
    seed: int = 1,
    reset: bool = False,
    if_empty: bool = False,
    today: dt.date | None = None,
    progress: Progress = _silent,
) -> Summary | None:
    """Build the city and ``days`` days of history up to the latest 09:30 (demo_today); None when skipped.

    One transaction: a failure leaves nothing behind. Raises DemoDataExists when the city
    is already there and neither ``reset`` nor ``if_empty`` says what to do about it.
    """
    if days < 1:
        raise ValueError("The history needs at least one day.")
    if if_empty and city_exists():
        return None
    today = today or demo_today()
    with transaction.atomic():
        if reset:
            city_reset()
        elif city_exists():
            raise DemoDataExists("The demo city already exists: use --reset to rebuild it.")
        with connection.cursor() as cursor:
            # An admission names its latest review before the review is written.
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        city = city_build(beds=beds)
        flow = simulate(city, days=days, seed=seed, today=today, progress=progress)
        tables = Tables.create()
        bulk.prepare(tables.all())
        for table in tables.all():
            table.reserve()
        RowWriter(flow, tables).write(progress)
        bar = progress(total=sum(len(t.lines) for t in tables.all()), desc="Loading", unit="row")
        for table in tables.all():
            bar.set_description(f"Loading {table.label}")
            table.copy(bar.update)
        bar.set_description("Checking foreign keys")
        with connection.cursor() as cursor:
            # Check the deferred foreign keys now rather than at commit, inside the bar;
            # then back to deferred, the default, for whatever else the transaction does.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        bar.close()
        plans_seed(seed=seed)
        transfers_seed(seed=seed, today=today)
    return demo_summary()


def demo_summary() -> Summary:
    """Counts of what the demo database holds, and the pathway mix of its discharges."""
    trust = Q(site__organisation__ods_code=c.TRUST_ODS)
    admissions = Admission.objects.aggregate(
        total=Count("pk"),
        inpatients=Count("pk", filter=Q(status=Admission.Status.IN_HOSPITAL)),
        trust_inpatients=Count("pk", filter=Q(status=Admission.Status.IN_HOSPITAL) & trust),
        discharges=Count("pk", filter=Q(status=Admission.Status.DISCHARGED)),
        deaths=Count("pk", filter=Q(status=Admission.Status.DIED)),
    )
    by_pathway = dict(
        Admission.objects.filter(status=Admission.Status.DISCHARGED)
        .values_list("actual_pathway")
        .annotate(n=Count("pk"))
        .order_by()
    )
    discharges = admissions["discharges"]
    beds = Ward.objects.aggregate(
        all=Sum("bed_count"),
        trust=Sum("bed_count", filter=Q(site__organisation__ods_code=c.TRUST_ODS)),
    )
    return Summary(
        organisations=Organisation.objects.count(),
        wards=Ward.objects.count(),
        beds=beds["all"] or 0,
        trust_beds=beds["trust"] or 0,
        patients=Patient.objects.count(),
        admissions=admissions["total"],
        inpatients=admissions["inpatients"],
        trust_inpatients=admissions["trust_inpatients"],
        reviews=CtrReview.objects.count(),
        discharges=discharges,
        deaths=admissions["deaths"],
        pathway_mix={
            code: by_pathway.get(code, 0) / discharges if discharges else 0.0 for code in PATHWAYS
        },
    )
