"""Prepare the load test's database: the demo city, its dashboards, and the load test's users.

Run against the load database (never a database anyone works in: the run adds its users and
fills the audit history):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helper_load \\
    REDIS_URL=redis://127.0.0.1:6379/13 \\
    .venv/bin/python bench/load/prepare.py --out /tmp/load/users.json

Seeds the demo city (``seed_demo`` at its default size) when the database holds none, fills
the dashboards' snapshots, then creates, the same every time:

- 200 ward staff (``load.ward.000`` ...), ten on each of 20 of the trust's wards;
- 20 social workers (``load.sw.00`` ...) at the council, each added to two of ten active
  recovery plans, so four of them share each plan;
- 10 system leaders (``load.leader.0`` ...) with a confirmed authenticator (TOTP) device each.

It writes what the load clients need to sign in (usernames, the password, each leader's TOTP
key, as their authenticator app would hold it) and where each works, to ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homefirst.settings.local")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from discharge.models import Admission  # noqa: E402
from homefirst.demo.personas import COUNCIL_ODS, TRUST_ODS  # noqa: E402
from homefirst.models import Membership, Organisation, User, Ward  # noqa: E402
from recovery_plans import services as plan_services  # noqa: E402
from recovery_plans.models import Participant, RecoveryPlan  # noqa: E402

PASSWORD = "homefirst-load-test"  # public, like the demo password: a load database only
WARDS = 20
STAFF_PER_WARD = 10
SOCIAL_WORKERS = 20
PLANS = 10
PLANS_PER_SOCIAL_WORKER = 2
LEADERS = 10


def ward_username(n: int) -> str:
    return f"load.ward.{n:03d}"


def social_worker_username(n: int) -> str:
    return f"load.sw.{n:02d}"


def leader_username(n: int) -> str:
    return f"load.leader.{n}"


def totp_key(username: str) -> str:
    """A leader's TOTP key (20 bytes, hex), derived from the username so reruns agree."""
    return hashlib.sha1(f"homefirst-load:{username}".encode()).hexdigest()


def _user(username: str, first: str, last: str, title: str, password: str) -> User:
    user, _ = User.objects.update_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "job_title": title,
            "email": f"{username}@load.homefirst.example",
            "is_active": True,
            "password": password,
        },
    )
    return user


def _member(user: User, organisation: Organisation, role: str) -> None:
    Membership.objects.get_or_create(user=user, organisation=organisation, role=role)


def wards_for_load() -> list[Ward]:
    """The trust's wards with the most inpatients, 20 of them, in a fixed order."""
    counts = {
        ward_id: n
        for ward_id, n in Admission.objects.filter(status=Admission.Status.IN_HOSPITAL)
        .values_list("current_ward")
        .annotate(n=Count("pk"))
        .order_by()
    }
    wards = list(Ward.objects.filter(site__organisation__ods_code=TRUST_ODS).order_by("pk"))
    busiest = sorted(wards, key=lambda w: (-counts.get(w.pk, 0), w.pk))[:WARDS]
    if len(busiest) < WARDS:
        raise SystemExit(f"The trust has {len(busiest)} wards; the load test needs {WARDS}.")
    return sorted(busiest, key=lambda w: w.pk)


def plans_for_load() -> list[RecoveryPlan]:
    plans = list(
        RecoveryPlan.objects.filter(status=RecoveryPlan.Status.ACTIVE)
        .select_related("started_by")
        .order_by("pk")[:PLANS]
    )
    if len(plans) < PLANS:
        raise SystemExit(f"The city has {len(plans)} active plans; the load test needs {PLANS}.")
    return plans


def users_prepare() -> dict:
    """Create (or refresh) every load user; returns what the load clients need."""
    trust = Organisation.objects.get(ods_code=TRUST_ODS)
    council = Organisation.objects.get(ods_code=COUNCIL_ODS)
    password = make_password(PASSWORD)  # one hash for all: hashing 230 times takes minutes
    wards = wards_for_load()
    plans = plans_for_load()
    out: dict = {"password": PASSWORD, "ward_staff": [], "social_workers": [], "leaders": []}
    with transaction.atomic():
        for n in range(WARDS * STAFF_PER_WARD):
            username = ward_username(n)
            user = _user(username, "Load", f"Nurse {n:03d}", "Staff nurse", password)
            _member(user, trust, Membership.Role.WARD_STAFF)
            out["ward_staff"].append({"username": username, "ward": wards[n % WARDS].pk})
        for n in range(SOCIAL_WORKERS):
            username = social_worker_username(n)
            user = _user(username, "Load", f"Social worker {n:02d}", "Social worker", password)
            _member(user, council, Membership.Role.SOCIAL_WORKER)
            mine = [plans[(n + k) % PLANS] for k in range(PLANS_PER_SOCIAL_WORKER)]
            for plan in mine:
                if not Participant.objects.filter(plan=plan, user=user).exists():
                    plan_services.participant_add(plan=plan, by=plan.started_by, user=user)
            out["social_workers"].append({"username": username, "plans": [p.pk for p in mine]})
        for n in range(LEADERS):
            username = leader_username(n)
            user = _user(username, "Load", f"Leader {n}", "Director of urgent care", password)
            _member(user, council, Membership.Role.SYSTEM_LEADER)
            key = totp_key(username)
            TOTPDevice.objects.update_or_create(
                user=user,
                name="Load test authenticator",
                # last_t back to the start: a rerun within one time step signs in again.
                defaults={"key": key, "confirmed": True, "last_t": -1},
            )
            out["leaders"].append({"username": username, "totp_key": key})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="Where to write the users file.")
    parser.add_argument(
        "--skip-dashboards", action="store_true", help="Do not recompute the dashboards."
    )
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--if-empty", "--quiet")
    if not args.skip_dashboards:
        call_command("recompute_dashboards")
    users = users_prepare()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(users, indent=1))
    print(
        f"{len(users['ward_staff'])} ward staff on {WARDS} wards, "
        f"{len(users['social_workers'])} social workers on {PLANS} plans, "
        f"{len(users['leaders'])} leaders: {args.out}"
    )


if __name__ == "__main__":
    main()
