"""The demo city: its organisations, hospital sites, wards, staff and the people who live there."""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from dataclasses import dataclass

import pghistory.models
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connection

from discharge import nhs_number
from homefirst.demo import personas
from homefirst.demo.personas import (
    ADMIN_USERNAME,
    CARE_HOME_PROVIDER_ODS,
    COMMUNITY_TRUST_ODS,
    COUNCIL_ODS,
    DEMO_PASSWORD,
    OTHER_TRUST_ODS,
    PERSONAS,
    REABLEMENT_PROVIDER_ODS,
    TRUST_ODS,
)
from homefirst.models import Membership, Organisation, Role, Site, User, Ward

OTHER_COUNCIL_ODS = "E08000036"
# The launcher's banner reads the admin's password the same way.
ADMIN_PASSWORD = getattr(personas, "ADMIN_PASSWORD", DEMO_PASSWORD)

Kind = Organisation.Kind

ORGANISATIONS: tuple[tuple[str, str, str], ...] = (
    (TRUST_ODS, "Northgate Teaching Hospitals NHS Foundation Trust", Kind.ACUTE_TRUST),
    (OTHER_TRUST_ODS, "Riverside and District Hospitals NHS Trust", Kind.ACUTE_TRUST),
    (COUNCIL_ODS, "Northgate City Council", Kind.LOCAL_AUTHORITY),
    (OTHER_COUNCIL_ODS, "Eastmoor Metropolitan Borough Council", Kind.LOCAL_AUTHORITY),
    (COMMUNITY_TRUST_ODS, "Northgate Community Healthcare NHS Trust", Kind.COMMUNITY_TRUST),
    (REABLEMENT_PROVIDER_ODS, "Home First Reablement and Home Care", Kind.CARE_PROVIDER),
    (CARE_HOME_PROVIDER_ODS, "Northgate Care Homes Partnership", Kind.CARE_PROVIDER),
)

# The main acute site; long stayers there may step down to St Luke's.
ACUTE_SITE = "RHF01"
SITES: tuple[tuple[str, str, str], ...] = (
    ("RHF01", TRUST_ODS, "Northgate General Hospital"),
    ("RHF02", TRUST_ODS, "St Luke's Hospital"),
    ("RXX01", OTHER_TRUST_ODS, "Riverside General Hospital"),
)


@dataclass(frozen=True)
class WardPlan:
    """A ward as the city plans it: where, what, how big, and how patients arrive on it.

    ``group`` names the wards a patient waiting to move can go to; ``onward`` (assessment
    units only) is where their patients move on to; ``elective`` is the share of planned
    admissions among the ward's own admissions.
    """

    site: str
    code: str
    name: str
    specialty: str
    beds: int
    group: str
    course: str
    onward: tuple[tuple[str, float], ...] = ()
    elective: float = 0.0


# Bed numbers are for the default 600-bed trust and scale with --beds.
TRUST_WARDS: tuple[WardPlan, ...] = (
    WardPlan("RHF01", "AMU", "Acute Medical Unit", "General medicine", 44, "amu", "medicine",
             onward=(("medicine", 0.34), ("elderly", 0.26), ("respiratory", 0.15),
                     ("gastro", 0.1), ("stroke", 0.07), ("cardiology", 0.08))),
    WardPlan("RHF01", "SAU", "Surgical Assessment Unit", "General surgery", 22, "sau", "surgery",
             onward=(("surgery", 0.7), ("gastro", 0.15), ("urology", 0.15))),
    WardPlan("RHF01", "CCU", "Coronary Care Unit", "Cardiology", 12, "ccu", "cardiology",
             onward=(("cardiology", 1.0),)),
    WardPlan("RHF01", "W10", "Ward 10", "General medicine", 30, "medicine", "medicine"),
    WardPlan("RHF01", "W11", "Ward 11", "General medicine", 30, "medicine", "medicine"),
    WardPlan("RHF01", "W12", "Ward 12", "Respiratory medicine", 30, "respiratory", "respiratory"),
    WardPlan("RHF01", "W14", "Ward 14", "Cardiology", 28, "cardiology", "cardiology"),
    WardPlan("RHF01", "W15", "Ward 15", "Care of the elderly", 30, "elderly", "elderly"),
    WardPlan("RHF01", "W16", "Ward 16", "Care of the elderly", 30, "elderly", "elderly"),
    WardPlan("RHF01", "STR", "Stroke Unit", "Stroke medicine", 26, "stroke", "stroke"),
    WardPlan("RHF01", "W20", "Ward 20", "General surgery", 30, "surgery", "surgery", elective=0.3),
    WardPlan("RHF01", "W21", "Ward 21", "Trauma and orthopaedics", 30, "trauma", "trauma"),
    WardPlan("RHF01", "W22", "Ward 22 (Hip Fracture Unit)", "Trauma and orthopaedics", 26,
             "trauma", "hip"),
    WardPlan("RHF01", "W23", "Ward 23", "Gastroenterology", 26, "gastro", "gastro"),
    WardPlan("RHF02", "ASH", "Ash Ward", "Care of the elderly", 28, "rehab", "elderly"),
    WardPlan("RHF02", "BCH", "Beech Ward", "Care of the elderly", 28, "rehab", "elderly"),
    WardPlan("RHF02", "CDR", "Cedar Ward", "Elective orthopaedics", 24, "elective", "elective",
             elective=0.9),
    WardPlan("RHF02", "ELM", "Elm Ward", "General medicine", 28, "medicine", "medicine"),
    WardPlan("RHF02", "MPL", "Maple Ward", "Stroke rehabilitation", 24, "stroke_rehab",
             "stroke_rehab"),
    WardPlan("RHF02", "OAK", "Oak Ward", "Urology", 24, "urology", "urology", elective=0.45),
    WardPlan("RHF02", "WLW", "Willow Ward", "Respiratory medicine", 26, "respiratory",
             "respiratory"),
)  # fmt: skip

OTHER_TRUST_WARD = WardPlan(
    "RXX01", "W7", "Ward 7", "General medicine", 20, "riverside", "medicine"
)

# A bay holds six beds; side rooms take the rest.
BAY_SIZE = 6


def bed_labels(count: int) -> list[str]:
    """Bed labels as a ward names them: bays A1-A6, B1-B6 ..., then side rooms SR1, SR2 ..."""
    side_rooms = count // 7
    in_bays = count - side_rooms
    labels = [f"{chr(ord('A') + i // BAY_SIZE)}{i % BAY_SIZE + 1}" for i in range(in_bays)]
    return labels + [f"SR{i + 1}" for i in range(side_rooms)]


def scaled_bed_counts(beds: int) -> list[int]:
    """Share ``beds`` among the trust's wards in proportion to their plan (largest remainder)."""
    if beds < len(TRUST_WARDS):
        raise ValueError(f"The trust needs at least {len(TRUST_WARDS)} beds, one per ward.")
    planned = sum(w.beds for w in TRUST_WARDS)
    exact = [w.beds * beds / planned for w in TRUST_WARDS]
    counts = [max(1, int(x)) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: beds - sum(counts)]:
        counts[i] += 1
    return counts


# --- Staff --------------------------------------------------------------------------------------

# (username, first name, last name, job title): clinicians who review patients on the wards.
# They hold no password: they exist so that reviews and edits carry believable names.
CLINICIANS: tuple[tuple[str, str, str, str], ...] = (
    ("dr.adeyemi", "Tunde", "Adeyemi", "Consultant physician"),
    ("dr.chen", "Li", "Chen", "Consultant geriatrician"),
    ("dr.patel", "Priya", "Patel", "Specialty registrar"),
    ("dr.murphy", "Siobhan", "Murphy", "Consultant respiratory physician"),
    ("dr.kowalski", "Piotr", "Kowalski", "Consultant cardiologist"),
    ("dr.hussain", "Imran", "Hussain", "Consultant stroke physician"),
    ("dr.evans", "Rhiannon", "Evans", "Consultant surgeon"),
    ("dr.nwosu", "Chidi", "Nwosu", "Consultant orthopaedic surgeon"),
    ("dr.wright", "Oliver", "Wright", "Consultant gastroenterologist"),
    ("dr.begum", "Nasima", "Begum", "Foundation doctor"),
    ("dr.taylor", "Hannah", "Taylor", "Core trainee"),
    ("dr.osei", "Kwame", "Osei", "Consultant urologist"),
    ("n.walsh", "Mary", "Walsh", "Ward sister"),
    ("n.reid", "James", "Reid", "Charge nurse"),
    ("n.santos", "Maria", "Santos", "Staff nurse"),
    ("n.ahmed", "Yasmin", "Ahmed", "Advanced nurse practitioner"),
)
OTHER_TRUST_CLINICIAN = ("dr.lindqvist", "Erik", "Lindqvist", "Consultant physician")

# The nurse persona runs the board round on the first care-of-the-elderly ward.
NURSE_WARD = "W15"


@dataclass
class WardInfo:
    """A created ward, with what the history needs to fill it."""

    id: int
    site_id: int
    trust_id: int
    plan: WardPlan
    beds: list[str]
    team: list[int]


@dataclass
class City:
    """The ids of everything the history refers to."""

    org_ids: dict[str, int]
    wards: list[WardInfo]
    coordinator_id: int
    other_coordinator_id: int


# --- The people who live in the city ------------------------------------------------------------

# Postcode districts of each council's area, and the first part of its GP practice codes.
POSTCODE_DISTRICTS: dict[str, tuple[str, ...]] = {
    COUNCIL_ODS: tuple(f"LS{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                          16, 17, 18, 19, 20, 25, 26, 27, 28)),
    OTHER_COUNCIL_ODS: tuple(f"WF{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)),
}  # fmt: skip
GP_PRACTICE_PREFIX: dict[str, str] = {COUNCIL_ODS: "B86", OTHER_COUNCIL_ODS: "B87"}
GP_PRACTICES_PER_COUNCIL = 40
# Letters a postcode's inward code never uses.
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

GIVEN_NAMES_FEMALE: tuple[str, ...] = (
    "Margaret", "Jean", "Dorothy", "Joan", "Patricia", "Barbara", "Sheila", "Brenda", "Irene",
    "Doreen", "Maureen", "Elsie", "Edna", "Valerie", "Pauline", "Christine", "Susan", "Linda",
    "Janet", "Elizabeth", "Mary", "Ann", "Kathleen", "Evelyn", "Marjorie", "Gwen", "Hilda",
    "Beryl", "Audrey", "Sandra", "Carol", "Gillian", "Karen", "Julie", "Sarah", "Emma",
    "Fatima", "Nasreen", "Shirin", "Sunita", "Priya", "Grace", "Blessing", "Agnieszka", "Mei",
    "Bridget", "Rose", "Olive",
)  # fmt: skip
GIVEN_NAMES_MALE: tuple[str, ...] = (
    "John", "David", "Michael", "Peter", "Robert", "Brian", "Alan", "Kenneth", "Dennis",
    "Ronald", "Derek", "Geoffrey", "Keith", "Roy", "Harold", "Albert", "Frank", "George",
    "William", "Thomas", "James", "Colin", "Malcolm", "Trevor", "Stephen", "Paul", "Gary",
    "Mark", "Andrew", "Daniel", "Mohammed", "Abdul", "Tariq", "Rajesh", "Harjit", "Samuel",
    "Emmanuel", "Tomasz", "Wei", "Patrick", "Desmond", "Winston",
)  # fmt: skip
FAMILY_NAMES: tuple[str, ...] = (
    "Smith", "Jones", "Taylor", "Brown", "Wilson", "Johnson", "Walker", "Wright", "Robinson",
    "Thompson", "White", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Clarke",
    "Jackson", "Turner", "Hill", "Moore", "Cooper", "Ward", "Morris", "King", "Baker",
    "Harrison", "Morgan", "Patel", "Khan", "Hussain", "Ali", "Ahmed", "Begum", "Singh",
    "Kaur", "Sharma", "Chen", "Nowak", "Kowalczyk", "Okafor", "Mensah", "Campbell", "Murphy",
    "O'Brien", "Kelly", "Lee", "Shaw", "Atkinson", "Holmes", "Greenwood", "Sutcliffe",
    "Ackroyd", "Barraclough", "Haigh", "Lister", "Pickersgill", "Schofield", "Thornton",
)  # fmt: skip
CARER_RELATIONSHIPS: tuple[str, ...] = (
    "daughter", "son", "wife", "husband", "partner", "niece", "neighbour", "friend",
)  # fmt: skip
COMMUNICATION_NEEDS: tuple[str, ...] = (
    "Hearing aids: face the patient and speak clearly.",
    "British Sign Language interpreter needed for discussions about care.",
    "Interpreter needed: Urdu.",
    "Interpreter needed: Polish.",
    "Interpreter needed: Punjabi.",
    "Living with dementia: 'This is me' document in the notes; daughter helps with decisions.",
    "Registered blind: large print is not enough; read documents aloud.",
    "Learning disability: hospital passport in the notes; easy-read information.",
    "Aphasia after a stroke: use yes/no questions and picture boards.",
)


# --- The residents who come into hospital ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Person:
    """A resident of the city who comes into hospital at least once."""

    index: int
    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    sex: str
    postcode: str
    council: str
    gp_practice: str
    lives_alone: bool
    unpaid_carer: str
    communication_needs: str
    in_hospital: bool = False
    died: bool = False


# (mean, spread, youngest, oldest) of patients' ages on arrival, by clinical course.
AGE_PROFILE: dict[str, tuple[int, int, int, int]] = {
    "medicine": (70, 17, 18, 101),
    "elderly": (85, 6, 70, 103),
    "respiratory": (70, 14, 18, 98),
    "cardiology": (69, 13, 25, 97),
    "stroke": (75, 12, 30, 99),
    "stroke_rehab": (76, 11, 35, 99),
    "gastro": (60, 18, 18, 95),
    "surgery": (58, 19, 18, 96),
    "urology": (66, 15, 20, 95),
    "trauma": (66, 21, 18, 101),
    "hip": (83, 8, 55, 104),
    "elective": (67, 10, 35, 90),
}


# Minutes within which a return counts as a readmission.
READMISSION_WINDOW = 30 * 24 * 60


class Population:
    """Makes new residents on demand and remembers who may come back in."""

    def __init__(self, rng: random.Random, today: dt.date) -> None:
        self.rng = rng
        self.today = today
        self.people: list[Person] = []
        self.recent: deque[tuple[int, Person]] = deque()  # (left at, person), oldest first
        self.former: list[Person] = []
        # NHS numbers walk the 999 test range in a scrambled but repeatable order: a step
        # coprime to a million visits every number once.
        self._step = 7_919 * 13
        self._next = rng.randrange(1_000_000)
        self._drawn = 0

    def _nhs_number(self) -> str:
        while True:
            self._drawn += 1
            if self._drawn > 1_000_000:
                raise ValueError("The 999 test range has no NHS numbers left: seed fewer days.")
            self._next = (self._next + self._step) % 1_000_000
            first_nine = f"999{self._next:06d}"
            check = nhs_number.check_digit(first_nine)
            if check is not None:
                return f"{first_nine}{check}"

    def new(self, *, course: str, council: str) -> Person:
        """A new resident, their age suited to the clinical course they arrive with."""
        rng = self.rng
        mean, spread, youngest, oldest = AGE_PROFILE[course]
        age = min(oldest, max(youngest, round(rng.gauss(mean, spread))))
        born = self.today - dt.timedelta(days=age * 365 + rng.randrange(365))
        sex = "female" if rng.random() < 0.53 else "male"
        if rng.random() < 0.004:
            sex = "unknown"
        names = GIVEN_NAMES_FEMALE if sex == "female" else GIVEN_NAMES_MALE
        family = rng.choice(FAMILY_NAMES)
        district = rng.choice(POSTCODE_DISTRICTS[council])
        letters = POSTCODE_LETTERS
        postcode = f"{district} {rng.randrange(10)}{rng.choice(letters)}{rng.choice(letters)}"
        practice = f"{GP_PRACTICE_PREFIX[council]}{rng.randrange(GP_PRACTICES_PER_COUNCIL) + 1:03d}"
        lives_alone = rng.random() < (0.42 if age >= 75 else 0.18)
        carer = ""
        if rng.random() < (0.3 if age >= 75 else 0.1):
            carer_name = rng.choice(GIVEN_NAMES_FEMALE + GIVEN_NAMES_MALE)
            relation = rng.choice(CARER_RELATIONSHIPS)
            carer = f"{carer_name} {family} ({relation}), 07700 900{rng.randrange(1000):03d}"
        needs = rng.choice(COMMUNICATION_NEEDS) if rng.random() < 0.08 else ""
        person = Person(
            index=len(self.people),
            nhs_number=self._nhs_number(),
            given_name=rng.choice(names),
            family_name=family,
            date_of_birth=born,
            sex=sex,
            postcode=postcode,
            council=council,
            gp_practice=practice,
            lives_alone=lives_alone,
            unpaid_carer=carer,
            communication_needs=needs,
        )
        self.people.append(person)
        return person

    def returning(self, t: int) -> Person | None:
        """Someone coming back in: often within 30 days of leaving, sometimes much later."""
        rng = self.rng
        while self.recent and self.recent[0][0] < t - READMISSION_WINDOW:
            self.former.append(self.recent.popleft()[1])
        roll = rng.random()
        for _ in range(3):
            if roll < 0.09 and self.recent:
                person = self.recent[rng.randrange(len(self.recent))][1]
            elif 0.09 <= roll < 0.14 and self.former:
                person = self.former[rng.randrange(len(self.former))]
            else:
                return None
            if not person.in_hospital and not person.died:
                return person
        return None

    def left(self, person: Person, t: int) -> None:
        self.recent.append((t, person))


# --- Building it --------------------------------------------------------------------------------


def city_exists() -> bool:
    """True when the demo trust is already in the database."""
    return Organisation.objects.filter(ods_code=TRUST_ODS).exists()


def city_reset() -> None:
    """Empty every table that hangs off the organisations, and their audit events.

    TRUNCATE, not DELETE: the append-only triggers refuse deletes of history rows. The
    tables are found from the foreign keys, so tables other apps add are emptied too.
    """
    tables = _tables_referencing(Organisation._meta.db_table)
    tables |= {
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event)
        and getattr(model, "pgh_tracked_model", None) is not None
        and model.pgh_tracked_model._meta.db_table in tables
    }
    quoted = ", ".join(connection.ops.quote_name(t) for t in sorted(tables))
    with connection.cursor() as cursor:
        # Pending deferred checks would make TRUNCATE fail; run them now, then defer again.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _tables_referencing(table: str) -> set[str]:
    """The table and every table that refers to it through foreign keys, transitively."""
    sql = """
        WITH RECURSIVE tree(rel) AS (
            SELECT %s::regclass
            UNION
            SELECT c.conrelid::regclass FROM pg_constraint c JOIN tree ON c.confrelid = tree.rel
            WHERE c.contype = 'f'
        )
        SELECT rel::text FROM tree
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [table])
        return {name.strip('"') for (name,) in cursor.fetchall()}


def city_build(*, beds: int) -> City:
    """Create the organisations, sites, wards and users of the demo city."""
    org_ids = {
        org.ods_code: org.pk
        for org in Organisation.objects.bulk_create(
            Organisation(ods_code=ods, name=name, kind=kind) for ods, name, kind in ORGANISATIONS
        )
    }
    sites = {
        site.code: site
        for site in Site.objects.bulk_create(
            Site(code=code, organisation_id=org_ids[ods], name=name) for code, ods, name in SITES
        )
    }
    plans = [*TRUST_WARDS, OTHER_TRUST_WARD]
    counts = [*scaled_bed_counts(beds), max(4, round(beds / 30))]
    wards = Ward.objects.bulk_create(
        Ward(
            site=sites[p.site],
            code=p.code,
            name=p.name,
            specialty=p.specialty,
            bed_count=count,
        )
        for p, count in zip(plans, counts, strict=True)
    )
    users = _users_create(org_ids)
    trust_team = [users[c[0]] for c in CLINICIANS]
    infos = []
    for i, (plan, ward, count) in enumerate(zip(plans, wards, counts, strict=True)):
        site = sites[plan.site]
        if plan is OTHER_TRUST_WARD:
            team = [users["outsider"], users[OTHER_TRUST_CLINICIAN[0]]]
        else:
            # Two doctors and a nurse from the roster, turn and turn about.
            team = [trust_team[(2 * i) % 12], trust_team[(2 * i + 1) % 12], trust_team[12 + i % 4]]
            if plan.code == NURSE_WARD:
                team.append(users["nurse"])
        infos.append(
            WardInfo(
                id=ward.pk,
                site_id=site.pk,
                trust_id=site.organisation_id,
                plan=plan,
                beds=bed_labels(count),
                team=team,
            )
        )
    return City(
        org_ids=org_ids,
        wards=infos,
        coordinator_id=users["coordinator"],
        other_coordinator_id=users[OTHER_TRUST_CLINICIAN[0]],
    )


def _users_create(org_ids: dict[str, int]) -> dict[str, int]:
    """The personas, the admin and the clinicians, each with a membership; returns ids by username."""
    # One hash for every demo login: the password is public, and hashing it once per user
    # would cost seconds on every seed. Clinicians get no login (None).
    demo = make_password(DEMO_PASSWORD)
    admin = demo if ADMIN_PASSWORD == DEMO_PASSWORD else make_password(ADMIN_PASSWORD)
    people = [
        (p.username, p.first_name, p.last_name, p.job_title, p.organisation_ods, p.role, demo)
        for p in PERSONAS
    ]
    people.append(
        (ADMIN_USERNAME, "Demo", "Administrator", "System administrator", TRUST_ODS,
         Role.ADMINISTRATOR, admin)
    )  # fmt: skip
    people += [(*c, TRUST_ODS, Role.WARD_STAFF, None) for c in CLINICIANS]
    people.append((*OTHER_TRUST_CLINICIAN, OTHER_TRUST_ODS, Role.WARD_STAFF, None))
    ids: dict[str, int] = {}
    for username, first, last, title, ods, role, password in people:
        is_admin = username == ADMIN_USERNAME
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "job_title": title,
                "email": f"{username}@homefirst.example",
                "is_active": True,
                "is_staff": is_admin,
                "is_superuser": is_admin,
                "password": password or make_password(None),
            },
        )
        Membership.objects.get_or_create(user=user, organisation_id=org_ids[ods], role=role)
        ids[username] = user.pk
    return ids
