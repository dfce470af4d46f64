"""Every write to the flow snapshots: recomputes of a scope, and requests for one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dashboards.aggregates import AGGREGATES, Scope
from dashboards.aggregates.discharges import READMISSION_DAYS
from dashboards.models import PendingRecompute, SnapshotDay
from homefirst.models import Site

# Namespace of the Postgres advisory locks that let one recompute of a site run at a time.
LOCK_NAMESPACE = 5_310_001


@dataclass(frozen=True)
class Recomputed:
    """What a recompute covered."""

    site_ids: tuple[int, ...]
    first_day: dt.date
    last_day: dt.date


def snapshots_recompute(
    *, site_ids: Iterable[int], first_day: dt.date, last_day: dt.date | None = None
) -> Recomputed | None:
    """Rebuild every snapshot table for the sites and days, in one transaction; safe to run twice.

    Days after today are never computed. Each site's advisory lock is held to the end, so a
    second recompute of an overlapping scope waits and then finds the rows already right.
    """
    today = timezone.localdate()
    last_day = min(last_day or today, today)
    sites = tuple(sorted(set(site_ids)))
    if not sites or first_day > last_day:
        return None
    scope = Scope(site_ids=sites, first_day=first_day, last_day=last_day)
    with transaction.atomic(), connection.cursor() as cursor:
        # The row estimates of generated days are rough; JIT compiling for them costs more
        # than the statement itself.
        cursor.execute("SET LOCAL jit = off")
        # A year of patient-nights hashes in memory rather than on disk. The planner cannot
        # know how many days each stay spans (it guesses a thousand), so over a long scope
        # it is kept to hash joins and hash aggregates, which suit any count, not sorts.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        if not scope.params()["narrow"]:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
        for site_id in sites:  # ascending, so two recomputes never wait on each other in a cycle
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, site_id])
        for aggregate in AGGREGATES:
            aggregate.run(scope)
        cursor.execute(
            """
            INSERT INTO dashboards_snapshotday (site_id, day, computed_at)
            SELECT site_id, %(d0)s::date + i, now()
            FROM unnest(%(sites)s::bigint[]) AS site_id,
                 generate_series(0, %(d1)s::date - %(d0)s::date) AS i
            ON CONFLICT (site_id, day) DO UPDATE SET computed_at = EXCLUDED.computed_at
            """,
            scope.params(),
        )
    return Recomputed(sites, first_day, last_day)


def recompute_request(*, site_ids: Iterable[int], first_day: dt.date) -> None:
    """Mark the sites' figures from ``first_day`` to today stale, for the next pending recompute.

    One row a site, whatever the number of days: a bulk import of old history costs no more
    per change than today's board round.
    """
    sites = sorted(set(site_ids))
    if not sites or first_day > timezone.localdate():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO dashboards_pendingrecompute (site_id, first_day, version, requested_at)
            SELECT site_id, %s, 1, clock_timestamp() FROM unnest(%s::bigint[]) AS site_id
            ON CONFLICT (site_id) DO UPDATE
            SET first_day = least(dashboards_pendingrecompute.first_day, EXCLUDED.first_day),
                version = dashboards_pendingrecompute.version + 1,
                requested_at = EXCLUDED.requested_at
            """,
            [first_day, sites],
        )


def readmission_recompute_request(*, patient_id: int, admitted_on: dt.date) -> None:
    """A new admission may be a readmission: mark stale the days of the person's recent discharges."""
    since = admitted_on - dt.timedelta(days=READMISSION_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT site_id, min((discharged_at AT TIME ZONE %s)::date) FROM discharge_admission
            WHERE patient_id = %s AND status = 'discharged'
              AND (discharged_at AT TIME ZONE %s)::date BETWEEN %s AND %s
            GROUP BY site_id
            """,
            [settings.TIME_ZONE, patient_id, settings.TIME_ZONE, since, admitted_on],
        )
        discharges = cursor.fetchall()
    for site_id, day in discharges:
        recompute_request(site_ids=[site_id], first_day=day)


def pending_recompute() -> list[Recomputed]:
    """Recompute every stale site from its first stale day, then forget the requests seen.

    A request made while the recompute runs has a new version, so it stays pending for the
    next run rather than being lost.
    """
    claimed = list(PendingRecompute.objects.values_list("site_id", "first_day", "version"))
    done = []
    for site_id, first_day, _version in sorted(claimed):
        if result := snapshots_recompute(site_ids=[site_id], first_day=first_day):
            done.append(result)
    if claimed:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                DELETE FROM dashboards_pendingrecompute p
                USING unnest(%s::bigint[], %s::bigint[]) AS c(site_id, version)
                WHERE p.site_id = c.site_id AND p.version = c.version
                """,
                [[c[0] for c in claimed], [c[2] for c in claimed]],
            )
    return done


def recent_recompute(*, days: int = 2) -> list[Recomputed]:
    """The safety net: stale days first, then the last ``days`` days of every site.

    A site never computed at all (a new site, or a database seeded since) gets its whole
    history instead, so the dashboards are never empty for long.
    """
    done = pending_recompute()
    today = timezone.localdate()
    computed = set(SnapshotDay.objects.values_list("site_id", flat=True).distinct())
    sites = set(Site.objects.values_list("pk", flat=True))
    never = sites - computed
    if never and (result := snapshots_recompute(site_ids=never, first_day=history_start())):
        done.append(result)
    if known := sites & computed:
        first = today - dt.timedelta(days=days - 1)
        if result := snapshots_recompute(site_ids=known, first_day=first):
            done.append(result)
    return done


def history_recompute() -> Recomputed | None:
    """Rebuild the whole history of every site (nightly)."""
    sites = list(Site.objects.values_list("pk", flat=True))
    return snapshots_recompute(site_ids=sites, first_day=history_start())


def history_start() -> dt.date:
    """The first day anyone was in hospital, as a local date (today when there is no one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min((admitted_at AT TIME ZONE %s)::date) FROM discharge_admission",
            [settings.TIME_ZONE],
        )
        (first,) = cursor.fetchone()
    return first or timezone.localdate()
