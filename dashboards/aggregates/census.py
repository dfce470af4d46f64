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

SQL = f"""
days AS MATERIALIZED (
    -- Each day in scope and the local midnight that ends it, converted once per day.
    SELECT %(d0)s::date + i AS day,
           (%(d0)s::date + i + 1)::timestamp AT TIME ZONE %(tz)s AS midnight
    FROM generate_series(0, %(d1)s::date - %(d0)s::date) AS i
),
stays AS MATERIALIZED (
    -- Per ward stay, once: the days whose midnight it covers, and who the patient is.
    SELECT ws.admission_id, ws.ward_id, w.site_id, p.local_authority_id AS council_id,
           (a.admitted_at AT TIME ZONE %(tz)s)::date AS admit_day,
           greatest(((ws.started_at - interval '1 microsecond') AT TIME ZONE %(tz)s)::date,
                    %(d0)s::date) AS first_day,
           least(((ws.ended_at - interval '1 microsecond') AT TIME ZONE %(tz)s)::date - 1,
                 %(d1)s::date) AS last_day
    FROM discharge_wardstay ws
    JOIN homefirst_ward w ON w.id = ws.ward_id
    JOIN discharge_admission a ON a.id = ws.admission_id AND a.status <> 'cancelled'
    JOIN discharge_patient p ON p.id = a.patient_id
    WHERE {_IN_SCOPE}
),
in_scope AS NOT MATERIALIZED (
    -- The same stays straight from the table, so the planner knows how many there are.
    SELECT ws.admission_id FROM discharge_wardstay ws JOIN homefirst_ward w ON w.id = ws.ward_id
    WHERE {_IN_SCOPE}
),
drd_runs AS (
    SELECT admission_id, drd, cleared FROM (
        SELECT admission_id, discharge_ready_date AS drd,
               (lead(changed_at) OVER (PARTITION BY admission_id ORDER BY changed_at, id)
                    AT TIME ZONE %(tz)s)::date AS cleared
        FROM discharge_dischargereadydatechange
        WHERE admission_id IN (SELECT admission_id FROM in_scope)
    ) changes
    WHERE drd IS NOT NULL
),
pathway_runs AS (
    SELECT admission_id, pathway_id, changed_at AS since,
           lead(changed_at) OVER (PARTITION BY admission_id ORDER BY changed_at, id) AS until
    FROM discharge_plannedpathwaychange
    WHERE admission_id IN (SELECT admission_id FROM in_scope)
),
nights AS MATERIALIZED (
    SELECT n.admission_id, d.day, d.midnight, n.site_id, n.ward_id, n.council_id,
           d.day - n.admit_day AS los,
           coalesce(pw.pathway_id, '') AS pathway,
           dr.admission_id IS NOT NULL AS nctr
    FROM (
        SELECT s.*, s.first_day + i AS day
        FROM stays s CROSS JOIN LATERAL generate_series(0, s.last_day - s.first_day) AS i
        WHERE s.last_day >= s.first_day
    ) n
    JOIN days d ON d.day = n.day
    LEFT JOIN pathway_runs pw ON pw.admission_id = n.admission_id
        AND pw.since < d.midnight AND (pw.until IS NULL OR pw.until >= d.midnight)
    LEFT JOIN drd_runs dr ON dr.admission_id = n.admission_id
        AND dr.drd <= d.day AND (dr.cleared IS NULL OR dr.cleared > d.day)
),
census AS (
    SELECT day, site_id, ward_id, council_id, pathway,
           count(*) AS occupied,
           count(*) FILTER (WHERE nctr) AS nctr,
           count(*) FILTER (WHERE los >= 7) AS los_7,
           count(*) FILTER (WHERE los >= 14) AS los_14,
           count(*) FILTER (WHERE los >= 21) AS los_21,
           coalesce(sum(los) FILTER (WHERE los >= 7), 0) AS los_7_days,
           coalesce(sum(los) FILTER (WHERE los >= 14), 0) AS los_14_days,
           coalesce(sum(los) FILTER (WHERE los >= 21), 0) AS los_21_days
    FROM nights
    GROUP BY day, site_id, ward_id, council_id, pathway
),
open_delays AS (
    -- The delay episode open at midnight; episodes of one stay do not overlap, and should
    -- two ever do, the later one counts.
    SELECT DISTINCT ON (n.admission_id, n.day) n.admission_id, n.day, e.reason_id
    FROM nights n
    JOIN discharge_delayepisode e ON e.admission_id = n.admission_id
        AND e.started_at <= n.midnight AND (e.ended_at IS NULL OR e.ended_at > n.midnight)
    WHERE n.nctr
    ORDER BY n.admission_id, n.day, e.started_at DESC
),
delays AS (
    SELECT n.day, n.site_id, n.ward_id, n.council_id, n.pathway,
           coalesce(r.code, '') AS reason, coalesce(r.family, '') AS family,
           count(*) AS patients
    FROM nights n
    LEFT JOIN open_delays o ON o.admission_id = n.admission_id AND o.day = n.day
    LEFT JOIN discharge_delayreason r ON r.code = o.reason_id
    WHERE n.nctr
    GROUP BY n.day, n.site_id, n.ward_id, n.council_id, n.pathway, r.code, r.family
)
"""

CENSUS = Aggregate(
    name="census",
    sql=SQL,
    targets=(Target(DailyCensus, "census"), Target(DailyDelay, "delays")),
)
