"""Admissions on each day, at the site and ward of the first ward stay."""

from __future__ import annotations

from dashboards.aggregates.base import Aggregate, Target
from dashboards.models import DailyAdmissions

SQL = """
arrivals AS (
    -- Each admission of the days, at the ward of its first stay.
    SELECT DISTINCT ON (a.id) (a.admitted_at AT TIME ZONE %(tz)s)::date AS day, w.site_id,
           ws.ward_id, p.local_authority_id AS council_id, a.method
    FROM discharge_admission a
    JOIN discharge_patient p ON p.id = a.patient_id
    JOIN discharge_wardstay ws ON ws.admission_id = a.id
    JOIN homefirst_ward w ON w.id = ws.ward_id
    WHERE a.status <> 'cancelled'
      AND a.admitted_at >= (%(d0)s::date::timestamp AT TIME ZONE %(tz)s)
      AND a.admitted_at < ((%(d1)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
    ORDER BY a.id, ws.started_at, ws.id
),
admissions AS (
    SELECT day, site_id, ward_id, council_id, method, count(*) AS admissions
    FROM arrivals
    WHERE site_id = ANY(%(sites)s)
    GROUP BY day, site_id, ward_id, council_id, method
)
"""

ADMISSIONS = Aggregate(name="admissions", sql=SQL, targets=(Target(DailyAdmissions, "admissions"),))
