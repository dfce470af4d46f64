"""Benchmark of the flow dashboards: recompute, incremental update, page latency, analyst's way.

On a city seeded with ``manage.py seed_demo --beds 2000 --days 365``, in one run:

1. the full recompute of the whole history against the floor: the same daily figures, at the
   snapshot tables' grain, from one hand-written SQL query over the same rows
   (bench/dashboards_floor.sql); and, for comparison, a floor of system totals only
   (bench/dashboards_floor_totals.sql, without the transfer-of-care figures);
2. the incremental recompute after one ward-board edit (the work of the queued task);
3. the dashboard page, p50 and p95 over 50 requests, with 30 and with 365 days of history;
4. the analyst's way: a CSV export of the records and the same figures in pandas;
5. a check that the app, the floor and pandas give identical numbers for every day.

Run (with your own database):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_dash_dev \\
        .venv/bin/python manage.py seed_demo --beds 2000 --days 365 --reset
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_dash_dev .venv/bin/python bench/flow_dashboards.py

It exits non-zero when the three disagree on any day. Nothing it edits is kept: the board
edits run in a transaction that is rolled back.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homefirst.settings.local")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

import pandas as pd  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Q, Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from bench import dashboards_pandas  # noqa: E402
from dashboards import services  # noqa: E402
from dashboards.aggregates import AGGREGATES, Scope  # noqa: E402
from dashboards.models import (  # noqa: E402
    DailyAdmissions,
    DailyCensus,
    DailyDelay,
    DailyDischarges,
    DailyTransfers,
    PendingRecompute,
    SnapshotDay,
)
from dashboards.selectors import TRANSFER_SUMS  # noqa: E402
from dashboards.triggers import flow_changed  # noqa: E402
from discharge import services as board  # noqa: E402
from discharge.models import Admission  # noqa: E402
from homefirst.models import Membership, Site, User  # noqa: E402

FLOOR_SQL = (Path(__file__).parent / "dashboards_floor.sql").read_text()
FLOOR_TOTALS_SQL = (Path(__file__).parent / "dashboards_floor_totals.sql").read_text()
RUNS = 5
PAGE_REQUESTS = 50


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def empty_snapshots() -> None:
    with connection.cursor() as cursor:
        for model in (
            DailyCensus,
            DailyDelay,
            DailyDischarges,
            DailyAdmissions,
            DailyTransfers,
            SnapshotDay,
        ):
            cursor.execute(f"TRUNCATE {model._meta.db_table}")
        cursor.execute("ANALYZE")


def floor(first, last, sql: str = FLOOR_SQL) -> pd.DataFrame:
    """The floor's figures as a frame: day rows, figure columns."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        # The same planner settings as the app's recompute of a long scope.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute(sql, {"d0": first, "d1": last, "tz": settings.TIME_ZONE})
        rows = cursor.fetchall()
    frame = pd.DataFrame(rows, columns=["day", "figure", "value"])
    return frame.pivot_table(index="day", columns="figure", values="value", aggfunc="sum")


def app_compute_only(first, last) -> None:
    """The app's own aggregate SQL, computing every snapshot row but writing none."""
    scope = Scope(tuple(Site.objects.values_list("pk", flat=True)), first, last)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        for aggregate in AGGREGATES:
            counts = ", ".join(f"(SELECT count(*) FROM {t.cte})" for t in aggregate.targets)
            cursor.execute(
                f"WITH {aggregate.sql.strip().rstrip(',')} SELECT {counts}", scope.params()
            )
            cursor.fetchall()


def app_figures() -> pd.DataFrame:
    """The app's snapshot tables summed per day, named as the floor names its figures."""
    census = DailyCensus.objects.values("day").annotate(
        occupied=Sum("occupied"),
        nctr_remaining=Sum("nctr"),
        **{
            f: Sum(f)
            for f in ("los_7", "los_14", "los_21", "los_7_days", "los_14_days", "los_21_days")
        },
    )
    sums = (
        "discharges", "before_noon", "drd_0", "drd_1", "drd_2_3", "drd_4_6", "drd_7_13",
        "drd_14_20", "drd_21_plus", "drd_none", "delay_days", "edd_set", "edd_met",
        "readmitted", "days_away",
    )  # fmt: skip
    discharges = DailyDischarges.objects.values("day").annotate(
        nctr_discharged=Sum("nctr"), **{f: Sum(f) for f in sums}
    )
    pathways = DailyDischarges.objects.values("day").annotate(
        **{f"pathway_{p}": Sum("discharges", filter=Q(pathway=p)) for p in "0123"}
    )
    admissions = DailyAdmissions.objects.values("day").annotate(admissions=Sum("admissions"))
    transfers = DailyTransfers.objects.values("day").annotate(
        **{f"toc_{f}": Sum(f) for f in TRANSFER_SUMS}
    )
    delays = DailyDelay.objects.values("day", "reason").annotate(patients=Sum("patients"))
    frames = [
        pd.DataFrame(list(census)).set_index("day"),
        pd.DataFrame(list(discharges)).set_index("day"),
        pd.DataFrame(list(pathways)).set_index("day"),
        pd.DataFrame(list(admissions)).set_index("day"),
        pd.DataFrame(list(transfers)).set_index("day"),
        pd.DataFrame(list(delays))
        .assign(figure=lambda f: "delay:" + f["reason"])
        .pivot_table(index="day", columns="figure", values="patients", aggfunc="sum"),
    ]
    return pd.concat(frames, axis=1)


def aligned(*frames: pd.DataFrame) -> list[pd.DataFrame]:
    days = sorted(set().union(*(f.index for f in frames)))
    columns = sorted(set().union(*(f.columns for f in frames)))
    return [f.reindex(index=days, columns=columns).fillna(0).astype("int64") for f in frames]


def differences(left: pd.DataFrame, right: pd.DataFrame) -> list[str]:
    unequal = left.ne(right)
    found = []
    for day, figure in zip(*unequal.to_numpy().nonzero(), strict=True):
        found.append(
            f"{left.index[day]} {left.columns[figure]}: "
            f"{left.iat[day, figure]} vs {right.iat[day, figure]}"
        )
    return found


def incremental(edits: int = 5) -> list[float]:
    """One board edit at a time (a review of an inpatient), then the queued task's recompute."""
    leader_site = Site.objects.order_by("pk").first()
    nurse = User.objects.filter(
        memberships__role=Membership.Role.WARD_STAFF,
        memberships__organisation=leader_site.organisation,
    ).first()
    inpatients = list(
        Admission.objects.filter(status="in_hospital", site=leader_site)
        .exclude(discharge_ready_date__isnull=False)
        .order_by("pk")[:edits]
    )
    times = []
    with transaction.atomic():
        for admission in inpatients:
            board.ctr_review_record(admission=admission, by=nurse, expected_version=None)
            # What the board's on-commit hook does once the edit commits ...
            flow_changed_now(admission)
            # ... and what the debounced task then does.
            seconds, done = timed(services.pending_recompute)
            assert done and not PendingRecompute.objects.exists()
            times.append(seconds)
        transaction.set_rollback(True)
    return times


def flow_changed_now(admission: Admission) -> None:
    services.recompute_request(site_ids=[admission.site_id], first_day=timezone.localdate())


def page_latency(client: Client, path: str = "/dashboards/") -> tuple[float, float]:
    for _ in range(5):
        assert client.get(path).status_code == 200
    times = []
    for _ in range(PAGE_REQUESTS):
        seconds, response = timed(client.get, path)
        assert response.status_code == 200
        times.append(seconds)
    times.sort()
    return statistics.median(times), times[int(0.95 * len(times)) - 1]


def leader_client() -> Client:
    """The demo system leader, signed in with both factors."""
    leader = User.objects.get(username="leader")
    device = TOTPDevice.objects.filter(user=leader, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=leader, name="Benchmark", confirmed=True)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(leader)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def main() -> int:
    assert flow_changed is not None  # the hook the board calls; timed here through its parts
    today = timezone.localdate()
    first = services.history_start()
    sites = list(Site.objects.values_list("pk", flat=True))
    admissions = Admission.objects.count()
    print(f"History {first} to {today} ({(today - first).days + 1} days), {admissions} admissions.")

    # 3. The page with 30 days of history first, then with the whole history.
    empty_snapshots()
    services.snapshots_recompute(site_ids=sites, first_day=today - dt.timedelta(days=29))
    client = leader_client()
    month = f"/dashboards/?start={today - dt.timedelta(days=29)}&end={today}"
    pages = {"30 days": {"default": page_latency(client), "month": page_latency(client, month)}}

    # 1. Full recompute vs the floor, alternating so both see the same cache state.
    empty_snapshots()
    cold, _ = timed(services.history_recompute)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # Alternate the two so a busy moment on the machine does not favour either.
    app_times, floor_times, totals_times, compute_times = [], [], [], []
    for _ in range(RUNS):
        app_times.append(timed(services.history_recompute)[0])
        seconds, floor_frame = timed(floor, first, today)
        floor_times.append(seconds)
        totals_times.append(timed(floor, first, today, FLOOR_TOTALS_SQL)[0])
        compute_times.append(timed(app_compute_only, first, today)[0])
    app_s, floor_s, compute_s = min(app_times), min(floor_times), min(compute_times)
    totals_s = min(totals_times)
    full = f"{len(floor_frame)} days"
    pages[full] = {"default": page_latency(client), "month": page_latency(client, month)}

    # 2. Incremental.
    inc = incremental()

    # 4. The analyst's way.
    with tempfile.TemporaryDirectory() as folder:
        export_s, _ = timed(dashboards_pandas.export_csv, connection, Path(folder))
        pandas_s, pandas_frame = timed(
            dashboards_pandas.daily_figures,
            Path(folder),
            first=first,
            last=today,
            tz=settings.TIME_ZONE,
        )

    # 5. Agreement.
    app, floor_f, pandas_f = aligned(app_figures(), floor_frame, pandas_frame)
    mismatches = differences(app, floor_f) + differences(app, pandas_f)

    print()
    print("| measure | result |")
    print("| --- | --- |")
    print(f"| full recompute, {len(app)} days, empty tables | {cold:.2f} s |")
    print(
        f"| full recompute, {len(app)} days, tables up to date (best of {RUNS}) | {app_s:.2f} s |"
    )
    print(
        f"| SQL floor, same days and figures at the snapshots' grain (best of {RUNS}) | "
        f"{floor_s:.2f} s |"
    )
    print(
        f"| SQL floor of system totals only, no transfers of care (best of {RUNS}) | "
        f"{totals_s:.2f} s |"
    )
    print(
        f"| the app's aggregate SQL alone, every snapshot row, nothing written | {compute_s:.2f} s |"
    )
    print(f"| recompute / floor | {app_s / floor_s:.2f}x (target at most 2x) |")
    print(f"| recompute / floor of system totals | {app_s / totals_s:.2f}x |")
    print(
        f"| incremental recompute after one board edit ({len(inc)} edits) | "
        f"median {statistics.median(inc) * 1000:.0f} ms, max {max(inc) * 1000:.0f} ms "
        "(target under 200 ms) |"
    )
    for history, views in pages.items():
        for view, label in (
            ("default", "the default view (last 90 days)"),
            ("month", "a 30-day view"),
        ):
            p50, p95 = views[view]
            print(
                f"| page, {label}, with {history} of history: p50 / p95 | "
                f"{p50 * 1000:.0f} / {p95 * 1000:.0f} ms |"
            )
    print(f"| analyst: CSV export of the records | {export_s:.2f} s |")
    print(f"| analyst: pandas over the CSV files | {pandas_s:.2f} s |")
    print(
        f"| agreement: app, floor and pandas, {len(app)} days x {len(app.columns)} figures | "
        f"{'identical' if not mismatches else f'{len(mismatches)} differences'} |"
    )
    for line in mismatches[:20]:
        print("  ", line)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
