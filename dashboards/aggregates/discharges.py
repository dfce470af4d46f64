"""Discharges on each day: pathway, destination, time of day, DRD timeliness, EDD, readmission.

Deaths in hospital are not discharges. A discharge is counted at the site and ward the
patient left from, on the local day they left. Days away from home run to the day the
person left hospital, or, after a pathway 2 stay in an intermediate care bed, to the day
that stay ended.
"""

from __future__ import annotations

from dashboards.aggregates.base import Aggregate, Target
from dashboards.models import DailyDischarges

# Readmission: an emergency admission within this many days of the discharge.
READMISSION_DAYS = 30

SQL = f"""
left_hospital AS MATERIALIZED (
    SELECT a.id, a.patient_id, a.site_id, a.current_ward_id AS ward_id,
           p.local_authority_id AS council_id, a.actual_pathway_id AS pathway,
           a.discharge_destination AS destination, a.discharged_at,
           (a.discharged_at AT TIME ZONE %(tz)s)::date AS day,
           (a.discharged_at AT TIME ZONE %(tz)s)::time < time '12:00' AS before_noon,
           (a.admitted_at AT TIME ZONE %(tz)s)::date AS admitted_day,
           a.discharge_ready_date AS drd, a.expected_discharge_date AS edd
    FROM discharge_admission a
    JOIN discharge_patient p ON p.id = a.patient_id
    WHERE a.status = 'discharged' AND a.site_id = ANY(%(sites)s)
      AND a.discharged_at >= (%(d0)s::date::timestamp AT TIME ZONE %(tz)s)
      AND a.discharged_at < ((%(d1)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
),
bed_stays AS (
    -- The day a pathway 2 bed-based stay after hospital ended (its episode's outcome).
    SELECT r.admission_id, max((r.outcome_recorded_at AT TIME ZONE %(tz)s)::date) AS ended
    FROM pathways_referral r
    JOIN pathways_service s ON s.id = r.service_id AND s.kind = 'intermediate_care_bed'
    WHERE r.state = 'ended' AND r.pathway_id = '2'
      AND r.admission_id IN (SELECT id FROM left_hospital)
    GROUP BY r.admission_id
),
timed AS (
    -- GREATEST ignores NULLs: no DRD must stay no delay, not a zero-day one.
    SELECT l.*, CASE WHEN l.drd IS NOT NULL THEN greatest(l.day - l.drd, 0) END AS delay,
           greatest(b.ended, l.day) - l.admitted_day AS away,
           EXISTS (
               SELECT 1 FROM discharge_admission r
               WHERE r.patient_id = l.patient_id AND r.id <> l.id
                 AND r.status <> 'cancelled' AND r.method = 'emergency'
                 AND r.admitted_at >= l.discharged_at
                 AND (r.admitted_at AT TIME ZONE %(tz)s)::date <= l.day + {READMISSION_DAYS}
           ) AS readmitted
    FROM left_hospital l
    LEFT JOIN bed_stays b ON b.admission_id = l.id
),
discharges AS (
    SELECT day, site_id, ward_id, council_id, pathway, destination,
           count(*) AS discharges,
           count(*) FILTER (WHERE before_noon) AS before_noon,
           count(drd) AS nctr,
           count(*) FILTER (WHERE delay = 0) AS drd_0,
           count(*) FILTER (WHERE delay = 1) AS drd_1,
           count(*) FILTER (WHERE delay BETWEEN 2 AND 3) AS drd_2_3,
           count(*) FILTER (WHERE delay BETWEEN 4 AND 6) AS drd_4_6,
           count(*) FILTER (WHERE delay BETWEEN 7 AND 13) AS drd_7_13,
           count(*) FILTER (WHERE delay BETWEEN 14 AND 20) AS drd_14_20,
           count(*) FILTER (WHERE delay >= 21) AS drd_21_plus,
           count(*) FILTER (WHERE drd IS NULL) AS drd_none,
           coalesce(sum(delay), 0) AS delay_days,
           count(edd) AS edd_set,
           count(*) FILTER (WHERE day <= edd) AS edd_met,
           count(*) FILTER (WHERE readmitted) AS readmitted,
           coalesce(sum(away), 0) AS days_away
    FROM timed
    GROUP BY day, site_id, ward_id, council_id, pathway, destination
)
"""

DISCHARGES = Aggregate(name="discharges", sql=SQL, targets=(Target(DailyDischarges, "discharges"),))
