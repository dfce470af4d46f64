"""What one request of each kind in the load test costs the app: CPU, wall time and queries.

Run against the load database after ``prepare.py`` (it saves reviews and EDDs there):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helper_load \\
    REDIS_URL=redis://127.0.0.1:6379/13 \\
    .venv/bin/python bench/load/cost.py --users /tmp/load/users.json [--profile "board: ctr save"]

Each request is made in process with Django's test client, as a signed-in load user's browser
makes it (htmx headers, the form as the page gives it), ``--repeat`` times; the table gives the
median CPU time of this process (the app's share: Postgres runs elsewhere), the median wall
time and the queries it ran. ``--profile KIND`` prints where that kind's CPU goes (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homefirst.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import page  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from discharge.models import Admission  # noqa: E402
from homefirst.models import User  # noqa: E402

Request = Callable[[], object]
FORM_ENCODED = "application/x-www-form-urlencoded"


def signed_in(username: str) -> Client:
    """A client with a real session, as after the sign-in form (the load users need no TOTP)."""
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=username))
    return client


def htmx(target: str = "") -> dict[str, str]:
    headers = {"HX-Request": "true"}
    if target:
        headers["HX-Target"] = target
    return headers


def form_of(client: Client, path: str, target: str) -> page.Form:
    html = client.get(path, headers=htmx(target)).content.decode()
    form = page.form_posting_to(html, path)
    assert form is not None, f"no form posting to {path}"
    return form


class WardRequests:
    """The board requests a ward nurse's tablet makes."""

    def __init__(self, client: Client, ward: int) -> None:
        self.client = client
        self.ward = ward
        self.admissions = list(
            Admission.objects.filter(current_ward_id=ward, status=Admission.Status.IN_HOSPITAL)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        self.turn = 0
        self.etag = ""

    def admission(self) -> int:
        self.turn += 1
        return self.admissions[self.turn % len(self.admissions)]

    def kinds(self) -> dict[str, tuple[Callable[[], object] | None, Request]]:
        """Each kind: an untimed step that sets it up (or None), then the timed request."""
        return {
            "board: page": (None, lambda: self.client.get(f"/wards/{self.ward}/")),
            "board: ctr form": (None, lambda: self.get_form("ctr")),
            "board: ctr save": (lambda: self.prepare_save("ctr"), self.save),
            "board: edd form": (None, lambda: self.get_form("edd")),
            "board: edd save": (lambda: self.prepare_save("edd"), self.save),
            "board: summary": (
                None,
                lambda: self.client.get(
                    f"/wards/{self.ward}/summary/", headers=htmx("board-summary")
                ),
            ),
            "board: transfer statuses, 200": (None, lambda: self.statuses(etag="")),
            "board: transfer statuses, 304": (
                self.latest_etag,
                lambda: self.statuses(etag=self.etag),
            ),
        }

    def get_form(self, kind: str) -> object:
        a = self.admission()
        return self.client.get(f"/admissions/{a}/{kind}/", headers=htmx(f"admission-{a}"))

    def prepare_save(self, kind: str) -> None:
        a = self.admission()
        path = f"/admissions/{a}/{kind}/"
        form = form_of(self.client, path, f"admission-{a}")
        if kind == "ctr":
            form.values["criteria"] = [] if self.turn % 2 else form.choices["criteria"][:1]
            form.values["note"] = f"cost.py review {self.turn}"
        else:
            day = dt.date.today() + dt.timedelta(days=1 + self.turn % 14)
            form.values["expected_discharge_date"] = day.isoformat()
        self.pending = (path, form, f"admission-{a}")

    def save(self) -> object:
        path, form, target = self.pending
        response = self.client.post(
            path, urlencode(form.pairs()), content_type=FORM_ENCODED, headers=htmx(target)
        )
        assert response.status_code == 200, (path, response.status_code)
        return response

    def statuses(self, *, etag: str) -> object:
        headers = {**htmx(), "X-HomeFirst-Background": "1"}
        if etag:
            headers["If-None-Match"] = etag
        return self.client.get(f"/pathways/wards/{self.ward}/referrals/", headers=headers)

    def latest_etag(self) -> None:
        self.etag = self.statuses(etag="").headers.get("ETag", "")


def measure(setup: Callable[[], object] | None, request: Request, repeat: int) -> dict:
    cpu, wall = [], []
    for _ in range(repeat):
        if setup:
            setup()
        c0, w0 = time.process_time(), time.perf_counter()
        request()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    if setup:
        setup()
    with CaptureQueriesContext(connection) as queries:
        response = request()
    return {
        "cpu_ms": round(statistics.median(cpu) * 1000, 1),
        "wall_ms": round(statistics.median(wall) * 1000, 1),
        "queries": len(queries),
        "status": getattr(response, "status_code", None),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=Path, required=True, help="prepare.py's users.json")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--profile", help="a kind to profile, e.g. 'board: ctr save'")
    args = parser.parse_args()

    nurse = json.loads(args.users.read_text())["ward_staff"][0]
    ward = WardRequests(signed_in(nurse["username"]), nurse["ward"])
    kinds = ward.kinds()
    # Warm up: the first request of each kind loads templates and URL patterns.
    for setup, request in kinds.values():
        if setup:
            setup()
        request()

    if args.profile:
        setup, request = kinds[args.profile]
        profiler = cProfile.Profile()
        for _ in range(args.repeat):
            if setup:
                setup()
            profiler.runcall(request)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        return 0

    print(f"{'request':<30} {'cpu ms':>7} {'wall ms':>8} {'queries':>8} {'status':>7}")
    for name, (setup, request) in kinds.items():
        row = measure(setup, request, args.repeat)
        print(
            f"{name:<30} {row['cpu_ms']:>7} {row['wall_ms']:>8} {row['queries']:>8} "
            f"{row['status']:>7}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
