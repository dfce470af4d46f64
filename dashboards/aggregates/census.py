"""The midnight census: who was in a bed, for how long, and who no longer met the criteria.

A patient counts on day D when a ward stay of theirs covers the midnight that ends D (for
today: they are in hospital now). The discharge ready date history gives runs of days a
patient no longer met the criteria to reside: from the DRD up to the day before a review
found them meeting a criterion again (or held them as a clinical exception), which clears it.
"""

from __future__ import annotations

from dashboards.aggregates.base import Aggregate, Target
from dashboards.models import DailyCensus, DailyDelay

# Ward stays that cover at least one midnight in scope (a midnight ends each day).
_IN_SCOPE = """
    w.site_id = ANY(%(sites)s)
    AND ws.started_at <= ((%(d1)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
    AND (ws.ended_at IS NULL OR ws.ended_at > ((%(d0)s::date + 1)::timestamp AT TIME ZONE %(tz)s))
"""
# Records of those stays only, for a narrow scope; over a long one the filter saves nothing.
_OF_STAYS_IN_SCOPE = "(NOT %(narrow)s OR admission_id IN (SELECT admission_id FROM stays))"


def _midnights(start: str, end: str) -> str:
    """The first and last day whose ending midnight falls in [start, end), within the scope.

    A midnight ends each day (00:00 of the next); an open end runs to the scope's last day.
    Worked out once per record, so no night needs a time-zone conversion of its own.
    """
    return f"""
           greatest((({start} - interval '1 microsecond') AT TIME ZONE %(tz)s)::date,
                    %(d0)s::date) AS first_day,
           least(coalesce((({end} - interval '1 microsecond') AT TIME ZONE %(tz)s)::date - 1,
                          %(d1)s::date), %(d1)s::date) AS last_day"""


SQL = f"""
stays AS MATERIALIZED (
    -- Per ward stay, once: the days whose midnight it covers, and who the patient is.
    SELECT ws.admission_id, ws.ward_id, w.site_id, p.local_authority_id AS council_id,
           (a.admitted_at AT TIME ZONE %(tz)s)::date AS admit_day,
           {_midnights("ws.started_at", "ws.ended_at")}
    FROM discharge_wardstay ws
    JOIN homefirst_ward w ON w.id = ws.ward_id
    JOIN discharge_admission a ON a.id = ws.admission_id AND a.status <> 'cancelled'
    JOIN discharge_patient p ON p.id = a.patient_id
    WHERE {_IN_SCOPE}
),
drd_runs AS (
    -- Days no longer meeting the criteria: from a DRD to the day before the next change
    -- (which clears it).
    SELECT admission_id, drd, cleared FROM (
        SELECT admission_id, discharge_ready_date AS drd,
               (lead(changed_at) OVER (PARTITION BY admission_id ORDER BY changed_at, id)
                    AT TIME ZONE %(tz)s)::date AS cleared
        FROM discharge_dischargereadydatechange
        WHERE {_OF_STAYS_IN_SCOPE}
    ) changes
    WHERE drd IS NOT NULL
),
delay_runs AS (
    -- A delay reason holds from its start until its episode ends or the next one starts,
    -- so at most one holds at any midnight.
    SELECT admission_id, reason_id, {_midnights("started_at", "until")}
    FROM (
        SELECT admission_id, reason_id, started_at,
               least(ended_at, lead(started_at) OVER (
                   PARTITION BY admission_id ORDER BY started_at, id)) AS until
        FROM discharge_delayepisode
        WHERE {_OF_STAYS_IN_SCOPE}
    ) episodes
),
pathway_runs AS (
    -- The planned pathway holds from one change until the next.
    SELECT admission_id, pathway_id, {_midnights("changed_at", "until")}
    FROM (
        SELECT admission_id, pathway_id, changed_at,
               lead(changed_at) OVER (PARTITION BY admission_id ORDER BY changed_at, id) AS until
        FROM discharge_plannedpathwaychange
        WHERE {_OF_STAYS_IN_SCOPE}
    ) changes
),
nights AS (
    -- One row per patient in a bed at a midnight; reason is NULL unless they were NCTR.
    SELECT n.day, n.site_id, n.ward_id, n.council_id, n.day - n.admit_day AS los,
           coalesce(pw.pathway_id, '') AS pathway,
           CASE WHEN dr.admission_id IS NOT NULL THEN coalesce(dl.reason_id, '') END AS reason
    FROM (
        SELECT s.*, s.first_day + i AS day
        FROM stays s CROSS JOIN LATERAL generate_series(0, s.last_day - s.first_day) AS i
        -- Always true; it tells the planner a stay spans a few days, not the thousand it
        -- assumes of any series, so it sizes hash tables for the real number of nights.
        WHERE i BETWEEN 0 AND 100000
    ) n
    LEFT JOIN pathway_runs pw ON pw.admission_id = n.admission_id
        AND n.day BETWEEN pw.first_day AND pw.last_day
    LEFT JOIN drd_runs dr ON dr.admission_id = n.admission_id
        AND dr.drd <= n.day AND (dr.cleared IS NULL OR dr.cleared > n.day)
    LEFT JOIN delay_runs dl ON dl.admission_id = n.admission_id
        AND n.day BETWEEN dl.first_day AND dl.last_day
),
grouped AS MATERIALIZED (
    -- Integers, so the second grouping adds them as integers rather than as numerics.
    SELECT day, site_id, ward_id, council_id, pathway, reason,
           count(*)::int AS occupied,
           count(*) FILTER (WHERE los >= 7)::int AS los_7,
           count(*) FILTER (WHERE los >= 14)::int AS los_14,
           count(*) FILTER (WHERE los >= 21)::int AS los_21,
           coalesce(sum(los) FILTER (WHERE los >= 7), 0)::int AS los_7_days,
           coalesce(sum(los) FILTER (WHERE los >= 14), 0)::int AS los_14_days,
           coalesce(sum(los) FILTER (WHERE los >= 21), 0)::int AS los_21_days
    FROM nights
    GROUP BY day, site_id, ward_id, council_id, pathway, reason
),
census AS (
    SELECT day, site_id, ward_id, council_id, pathway,
           sum(occupied)::int AS occupied,
           coalesce(sum(occupied) FILTER (WHERE reason IS NOT NULL), 0)::int AS nctr,
           sum(los_7)::int AS los_7, sum(los_14)::int AS los_14, sum(los_21)::int AS los_21,
           sum(los_7_days)::int AS los_7_days, sum(los_14_days)::int AS los_14_days,
           sum(los_21_days)::int AS los_21_days
    FROM grouped
    GROUP BY day, site_id, ward_id, council_id, pathway
),
delays AS (
    SELECT g.day, g.site_id, g.ward_id, g.council_id, g.pathway, g.reason,
           coalesce(r.family, '') AS family, g.occupied::int AS patients
    FROM grouped g LEFT JOIN discharge_delayreason r ON r.code = g.reason
    WHERE g.reason IS NOT NULL
)
"""

CENSUS = Aggregate(
    name="census",
    sql=SQL,
    targets=(Target(DailyCensus, "census"), Target(DailyDelay, "delays")),
)
