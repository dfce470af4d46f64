"""Admissions on each day, at the site and ward of the first ward stay."""

from __future__ import annotations

from dashboards.aggregates.base import Aggregate, Target
from dashboards.models import DailyAdmissions

SQL = """
arrivals AS (
    SELECT (a.admitted_at AT TIME ZONE %(tz)s)::date AS day, w.site_id, first_stay.ward_id,
           p.local_authority_id AS council_id, a.method
    FROM discharge_admission a
    JOIN discharge_patient p ON p.id = a.patient_id
    CROSS JOIN LATERAL (
        SELECT ws.ward_id FROM discharge_wardstay ws
        WHERE ws.admission_id = a.id ORDER BY ws.started_at, ws.id LIMIT 1
    ) first_stay
    JOIN homefirst_ward w ON w.id = first_stay.ward_id
    WHERE a.status <> 'cancelled'
      AND a.admitted_at >= (%(d0)s::date::timestamp AT TIME ZONE %(tz)s)
      AND a.admitted_at < ((%(d1)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
      AND w.site_id = ANY(%(sites)s)
),
admissions AS (
    SELECT day, site_id, ward_id, council_id, method, count(*) AS admissions
    FROM arrivals
    GROUP BY day, site_id, ward_id, council_id, method
)
"""

ADMISSIONS = Aggregate(name="admissions", sql=SQL, targets=(Target(DailyAdmissions, "admissions"),))
