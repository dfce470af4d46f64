"""Transfers of care, counted against the day the person left hospital.

A transfer is a referral that left hospital with the person (discharged, started or ended;
never a withdrawn one). Its service starts at the first visit (care starting records one
too). Days are local days; a start before the discharge day counts as no days.
"""

from __future__ import annotations

from dashboards.aggregates.base import Aggregate, Target
from dashboards.models import DailyTransfers

SQL = """
transferred AS MATERIALIZED (
    SELECT a.site_id, a.current_ward_id AS ward_id, p.local_authority_id AS council_id,
           r.pathway_id AS pathway, s.kind, r.outcome, r.at_home_91_days,
           (a.discharged_at AT TIME ZONE %(tz)s)::date AS day,
           a.discharge_ready_date AS drd,
           (r.first_visit_at AT TIME ZONE %(tz)s)::date AS start_day
    FROM discharge_admission a
    JOIN discharge_patient p ON p.id = a.patient_id
    JOIN pathways_referral r ON r.admission_id = a.id
        AND r.state IN ('discharged', 'started', 'ended')
    JOIN pathways_service s ON s.id = r.service_id
    WHERE a.status = 'discharged' AND a.site_id = ANY(%(sites)s)
      AND a.discharged_at >= (%(d0)s::date::timestamp AT TIME ZONE %(tz)s)
      AND a.discharged_at < ((%(d1)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
),
transfers AS (
    SELECT day, site_id, ward_id, council_id, pathway, kind,
           count(*) AS transfers,
           count(start_day) AS started,
           count(*) FILTER (WHERE start_day - day <= 1) AS started_next_day,
           coalesce(sum(greatest(start_day - day, 0)), 0) AS start_delay_days,
           count(*) FILTER (WHERE start_day IS NOT NULL AND drd IS NOT NULL) AS started_with_drd,
           coalesce(sum(greatest(start_day - drd, 0)), 0) AS drd_to_start_days,
           count(*) FILTER (WHERE outcome <> '') AS ended,
           count(*) FILTER (WHERE outcome = 'independent') AS independent,
           count(*) FILTER (WHERE outcome = 'reduced_support') AS reduced_support,
           count(*) FILTER (WHERE outcome = 'long_term_care') AS long_term_care,
           count(*) FILTER (WHERE outcome = 'readmitted') AS readmitted,
           count(*) FILTER (WHERE outcome = 'died') AS died,
           count(at_home_91_days) AS at_home_91_checked,
           count(*) FILTER (WHERE at_home_91_days) AS at_home_91
    FROM transferred
    GROUP BY day, site_id, ward_id, council_id, pathway, kind
)
"""

TRANSFERS = Aggregate(name="transfers", sql=SQL, targets=(Target(DailyTransfers, "transfers"),))
