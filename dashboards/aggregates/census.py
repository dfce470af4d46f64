"""The midnight census: who was in a bed, for how long, and who no longer met the criteria.

A patient counts on day D when a ward stay of theirs covers the midnight that ends D (for
today: they are in hospital now). The discharge ready date history gives runs of days a
patient no longer met the criteria to reside: from the DRD up to the day before a review
found them meeting a criterion again (or held them as a clinical exception), which clears it.
"""

from __future__ import annotations

from dashboards.aggregates.base import Aggregate, Target
from dashboards.models import DailyCensus, DailyDelay

# The local midnight that ends day D, as a timestamp: (D + 1) at 00:00 in Europe/London.
_MIDNIGHT = "((n.day + 1)::timestamp AT TIME ZONE %(tz)s)"

SQL = f"""
stays AS MATERIALIZED (
    -- Ward stays covering at least one midnight in scope, and the days whose midnight they cover.
    SELECT ws.admission_id, ws.ward_id, w.site_id,
           greatest(((ws.started_at - interval '1 microsecond') AT TIME ZONE %(tz)s)::date,
                    %(d0)s::date) AS first_day,
           least(((ws.ended_at - interval '1 microsecond') AT TIME ZONE %(tz)s)::date - 1,
                 %(d1)s::date) AS last_day
    FROM discharge_wardstay ws
    JOIN homefirst_ward w ON w.id = ws.ward_id
    WHERE w.site_id = ANY(%(sites)s)
      AND ws.started_at <= ((%(d1)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
      AND (ws.ended_at IS NULL OR ws.ended_at > ((%(d0)s::date + 1)::timestamp AT TIME ZONE %(tz)s))
),
drd_runs AS (
    SELECT admission_id, drd, cleared FROM (
        SELECT admission_id, discharge_ready_date AS drd,
               (lead(changed_at) OVER (PARTITION BY admission_id ORDER BY changed_at, id)
                    AT TIME ZONE %(tz)s)::date AS cleared
        FROM discharge_dischargereadydatechange
        WHERE admission_id IN (SELECT admission_id FROM stays)
    ) changes
    WHERE drd IS NOT NULL
),
pathway_runs AS (
    SELECT admission_id, pathway_id, changed_at AS since,
           lead(changed_at) OVER (PARTITION BY admission_id ORDER BY changed_at, id) AS until
    FROM discharge_plannedpathwaychange
    WHERE admission_id IN (SELECT admission_id FROM stays)
),
nights AS MATERIALIZED (
    SELECT n.admission_id, n.day, n.site_id, n.ward_id, p.local_authority_id AS council_id,
           n.day - (a.admitted_at AT TIME ZONE %(tz)s)::date AS los,
           coalesce(pw.pathway_id, '') AS pathway,
           dr.admission_id IS NOT NULL AS nctr
    FROM (
        SELECT s.admission_id, s.site_id, s.ward_id, s.first_day + i AS day
        FROM stays s CROSS JOIN LATERAL generate_series(0, s.last_day - s.first_day) AS i
        WHERE s.last_day >= s.first_day
    ) n
    JOIN discharge_admission a ON a.id = n.admission_id AND a.status <> 'cancelled'
    JOIN discharge_patient p ON p.id = a.patient_id
    LEFT JOIN pathway_runs pw ON pw.admission_id = n.admission_id
        AND pw.since < {_MIDNIGHT} AND (pw.until IS NULL OR pw.until >= {_MIDNIGHT})
    LEFT JOIN drd_runs dr ON dr.admission_id = n.admission_id
        AND dr.drd <= n.day AND (dr.cleared IS NULL OR dr.cleared > n.day)
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
delays AS (
    SELECT n.day, n.site_id, n.ward_id, n.council_id, n.pathway,
           coalesce(r.code, '') AS reason, coalesce(r.family, '') AS family,
           count(*) AS patients
    FROM nights n
    LEFT JOIN LATERAL (
        SELECT e.reason_id FROM discharge_delayepisode e
        WHERE e.admission_id = n.admission_id
          AND e.started_at <= {_MIDNIGHT} AND (e.ended_at IS NULL OR e.ended_at > {_MIDNIGHT})
        ORDER BY e.started_at DESC LIMIT 1
    ) open_delay ON true
    LEFT JOIN discharge_delayreason r ON r.code = open_delay.reason_id
    WHERE n.nctr
    GROUP BY n.day, n.site_id, n.ward_id, n.council_id, n.pathway, r.code, r.family
)
"""

CENSUS = Aggregate(
    name="census",
    sql=SQL,
    targets=(Target(DailyCensus, "census"), Target(DailyDelay, "delays")),
)
