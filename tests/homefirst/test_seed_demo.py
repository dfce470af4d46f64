"""seed_demo: a believable, repeatable demo city whose rows keep the rules of the domain."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections import Counter, defaultdict

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from discharge import nhs_number, rules
from discharge.models import (
    Admission,
    CtrReview,
    DelayEpisode,
    ExpectedDischargeDateChange,
    Patient,
    WardStay,
)
from homefirst.demo.history import demo_today
from homefirst.demo.personas import ADMIN_USERNAME, DEMO_PASSWORD, PERSONAS, TRUST_ODS
from homefirst.models import Membership, Organisation, User, Ward

SMALL = {"beds": 60, "days": 20, "seed": 3}
Status = Admission.Status


def seed_demo(**options) -> str:
    """Run the command quietly and return what it printed."""
    out = io.StringIO()
    call_command("seed_demo", quiet=True, stdout=out, **options)
    return out.getvalue()


def fingerprint() -> list[tuple]:
    """Who was admitted when, what happened to them, and every review: enough to tell runs apart."""
    admissions = Admission.objects.values_list(
        "patient__nhs_number",
        "admitted_at",
        "status",
        "actual_pathway",
        "discharged_at",
        "current_ward__code",
        "bed_label",
        "discharge_ready_date",
    )
    reviews = CtrReview.objects.values_list(
        "admission__patient__nhs_number", "reviewed_at", "meets", "reviewed_by__username"
    )
    return sorted(admissions) + sorted(reviews)


@pytest.fixture
def seeded(db) -> str:
    return seed_demo(**SMALL)


def test_personas_and_admin_exist_and_can_log_in(seeded):
    for persona in PERSONAS:
        user = User.objects.get(username=persona.username)
        assert user.check_password(DEMO_PASSWORD), persona.username
        assert Membership.objects.filter(
            user=user, organisation__ods_code=persona.organisation_ods, role=persona.role
        ).exists()
    admin = User.objects.get(username=ADMIN_USERNAME)
    assert admin.check_password(DEMO_PASSWORD) and admin.is_superuser and admin.is_staff


def test_the_city_has_its_organisations(seeded):
    kinds = dict(Organisation.objects.values_list("ods_code", "kind"))
    assert kinds["RHF"] == kinds["RXX"] == Organisation.Kind.ACUTE_TRUST
    assert kinds["E08000035"] == Organisation.Kind.LOCAL_AUTHORITY
    assert kinds["RY6"] == Organisation.Kind.COMMUNITY_TRUST
    assert kinds["VHF01"] == kinds["VHF02"] == Organisation.Kind.CARE_PROVIDER
    councils = Patient.objects.values("local_authority").distinct().count()
    assert councils == 2, "some patients live in the neighbouring council's area"
    assert Ward.objects.filter(site__organisation__ods_code=TRUST_ODS).count() >= 20


def test_about_nine_in_ten_of_the_trusts_beds_are_occupied_this_morning(seeded):
    trust_wards = Ward.objects.filter(site__organisation__ods_code=TRUST_ODS)
    beds = trust_wards.aggregate(beds=Sum("bed_count"))["beds"]
    inpatients = Admission.objects.filter(status=Status.IN_HOSPITAL, current_ward__in=trust_wards)
    assert beds == SMALL["beds"]
    assert 0.8 <= inpatients.count() / beds <= 0.98


def test_discharges_follow_the_national_pathway_mix(db):
    seed_demo(beds=150, days=40, seed=3)
    pathways = Admission.objects.filter(status=Status.DISCHARGED).values_list(
        "actual_pathway", flat=True
    )
    counts = Counter(pathways)
    total = sum(counts.values())
    share = {code: counts[code] / total for code in "0123"}
    assert total > 400
    assert 0.42 <= share["0"] <= 0.60
    assert 0.36 <= share["1"] <= 0.54
    assert 0.015 <= share["2"] <= 0.08
    assert 0 < share["3"] <= 0.03
    deaths = Admission.objects.filter(status=Status.DIED).count()
    assert 0.005 <= deaths / (deaths + total) <= 0.06, "a few die in hospital"


def test_every_departure_goes_somewhere_its_pathway_allows(seeded):
    left = Admission.objects.exclude(status=Status.IN_HOSPITAL)
    for admission in left:
        if admission.status == Status.DIED:
            assert admission.actual_pathway_id is None
            assert admission.discharge_destination == "died"
        else:
            allowed = rules.DESTINATIONS_BY_PATHWAY[admission.actual_pathway_id]
            assert admission.discharge_destination in allowed
            assert admission.planned_pathway_id == admission.actual_pathway_id
    assert left.exists()


def test_discharges_are_mostly_in_the_afternoon(seeded):
    hours = [
        timezone.localtime(at).hour
        for at in Admission.objects.filter(status=Status.DISCHARGED).values_list(
            "discharged_at", flat=True
        )
    ]
    before_noon = sum(hour < 12 for hour in hours) / len(hours)
    afternoon = sum(12 <= hour < 18 for hour in hours) / len(hours)
    assert 0.03 <= before_noon <= 0.35
    assert afternoon > 0.5


def test_every_inpatient_has_one_open_ward_stay_on_their_current_ward(seeded):
    open_stays = defaultdict(list)
    for stay in WardStay.objects.filter(ended_at__isnull=True):
        open_stays[stay.admission_id].append(stay)
    inpatients = list(Admission.objects.filter(status=Status.IN_HOSPITAL))
    assert inpatients
    for admission in inpatients:
        (stay,) = open_stays.pop(admission.pk)
        assert stay.ward_id == admission.current_ward_id
        assert stay.bed_label == admission.bed_label
    assert not open_stays, "only inpatients have an open ward stay"
    assert WardStay.objects.count() > Admission.objects.count(), "some patients moved ward"


def test_discharge_ready_date_is_what_the_rule_gives_replaying_the_reviews(seeded):
    reviews = defaultdict(list)
    for review in CtrReview.objects.order_by("reviewed_at", "pk"):
        reviews[review.admission_id].append(review)
    inpatients = list(Admission.objects.filter(status=Status.IN_HOSPITAL))
    for admission in inpatients:
        drd = None
        for review in reviews[admission.pk]:
            drd = rules.next_discharge_ready_date(
                current=drd, ready=review.ready_to_leave, review_date=review.review_date
            )
        assert admission.discharge_ready_date == drd, admission.pk
    ready = [a for a in inpatients if a.discharge_ready_date]
    assert 0 < len(ready) < len(inpatients)


def test_latest_review_is_the_newest_review(seeded):
    newest = {}
    for review in CtrReview.objects.order_by("reviewed_at", "pk"):
        newest[review.admission_id] = review.pk
    for admission_id, latest in Admission.objects.values_list("pk", "latest_review"):
        assert latest == newest.get(admission_id)


@pytest.mark.parametrize(
    ("local_time", "day"),
    [
        ("2026-03-29 00:30", "2026-03-28"),  # the night the clocks go forward
        ("2026-11-23 09:29", "2026-11-22"),
        ("2026-11-23 09:30", "2026-11-23"),
        ("2026-11-23 23:59", "2026-11-23"),
        ("2026-10-25 01:30", "2026-10-24"),  # the hour that happens twice
    ],
)
def test_the_demo_now_is_the_latest_morning_round_never_in_the_future(local_time, day):
    local = timezone.make_aware(dt.datetime.fromisoformat(local_time))
    assert demo_today(local) == dt.date.fromisoformat(day)


def test_the_morning_board_round_is_under_way(seeded):
    today = demo_today()
    inpatients = list(
        Admission.objects.filter(status=Status.IN_HOSPITAL).select_related("latest_review")
    )
    reviewed_today = [
        a for a in inpatients if a.latest_review and a.latest_review.review_date == today
    ]
    assert 0.15 <= len(reviewed_today) / len(inpatients) <= 0.6
    for admission in inpatients:
        if timezone.localdate(admission.admitted_at) < today - dt.timedelta(days=1):
            assert admission.latest_review.review_date >= today - dt.timedelta(days=1)


def test_some_inpatients_are_long_stays_and_some_wait_with_a_reason(seeded):
    today = demo_today()
    inpatients = Admission.objects.filter(status=Status.IN_HOSPITAL)
    stays = [a.length_of_stay(today) for a in inpatients]
    assert any(days >= 7 for days in stays)
    assert any(days >= 14 for days in stays)
    waiting = inpatients.filter(discharge_ready_date__lte=today - dt.timedelta(days=2))
    assert waiting.exists()
    for admission in waiting:
        assert admission.delays.filter(ended_at__isnull=True).count() == 1


def test_delay_reasons_suit_the_pathway_and_only_ready_patients_wait(seeded):
    episodes = DelayEpisode.objects.select_related("reason", "admission")
    assert episodes.exists()
    for episode in episodes:
        admission = episode.admission
        pathway = admission.actual_pathway_id or admission.planned_pathway_id
        assert not episode.reason.pathways or pathway in episode.reason.pathways
        if episode.ended_at is None:
            assert admission.status == Status.IN_HOSPITAL
            assert admission.discharge_ready_date is not None


def test_expected_discharge_date_is_the_latest_change_and_never_before_admission(seeded):
    latest = {}
    for change in ExpectedDischargeDateChange.objects.order_by("changed_at", "pk"):
        latest[change.admission_id] = change.expected_discharge_date
        assert change.expected_discharge_date >= timezone.localdate(change.admission.admitted_at)
    for admission in Admission.objects.all():
        assert admission.expected_discharge_date == latest.get(admission.pk)
    assert len(set(latest)) < ExpectedDischargeDateChange.objects.count(), "some were revised"


def test_patients_have_valid_nhs_numbers_and_some_come_back_within_30_days(seeded):
    assert all(nhs_number.is_valid(n) for n in Patient.objects.values_list("nhs_number", flat=True))
    readmitted = 0
    for patient in Patient.objects.prefetch_related("admissions"):
        stays = sorted(patient.admissions.all(), key=lambda a: a.admitted_at)
        readmitted += any(
            earlier.discharged_at and later.admitted_at - earlier.discharged_at < dt.timedelta(30)
            for earlier, later in itertools.pairwise(stays)
        )
    assert readmitted > 0


def test_rows_are_audited_as_the_seed_command(seeded):
    events = apps.get_model("discharge", "AdmissionEvent").objects
    assert events.filter(pgh_context__metadata__command="seed_demo").count() == (
        Admission.objects.count()
    )


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not(db):
    seed_demo(**SMALL)
    first = fingerprint()
    seed_demo(**SMALL, reset=True)
    assert fingerprint() == first
    seed_demo(**{**SMALL, "seed": 4}, reset=True)
    assert fingerprint() != first


def test_if_empty_leaves_a_seeded_database_alone(seeded):
    before = (Patient.objects.count(), Admission.objects.count(), CtrReview.objects.count())
    printed = seed_demo(**{**SMALL, "seed": 9}, if_empty=True)
    assert "nothing to do" in printed
    after = (Patient.objects.count(), Admission.objects.count(), CtrReview.objects.count())
    assert after == before


def test_if_empty_seeds_an_empty_database(db):
    printed = seed_demo(beds=30, days=3, if_empty=True)
    assert "pathway mix" in printed
    assert User.objects.filter(username="nurse").exists()
    assert Admission.objects.exists()


def test_seeding_twice_without_reset_is_refused(seeded):
    with pytest.raises(CommandError, match="--reset"):
        seed_demo(**SMALL)


def test_progress_goes_to_stderr_unless_quiet(db, capsys):
    call_command("seed_demo", beds=25, days=2, stdout=io.StringIO())
    assert "Simulating" in capsys.readouterr().err
    call_command("seed_demo", beds=25, days=2, reset=True, quiet=True, stdout=io.StringIO())
    assert capsys.readouterr().err == ""


def test_too_few_beds_or_days_are_refused_and_leave_nothing_behind(db):
    with pytest.raises(CommandError, match="beds"):
        seed_demo(beds=5, days=3)
    with pytest.raises(CommandError, match="day"):
        seed_demo(beds=60, days=0)
    assert not Organisation.objects.exists()
