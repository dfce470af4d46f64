-- The floor: the dashboards' daily figures for the whole system, by one hand-written SQL
-- query straight from the ward's records, with no dimensions and nothing written.
-- Parameters: %(d0)s, %(d1)s (first and last day), %(tz)s (the local time zone).
-- One row per day and figure: (day, figure, value); delays by reason as 'delay:<code>'.
WITH days AS MATERIALIZED (
    SELECT %(d0)s::date + i AS day, (%(d0)s::date + i + 1)::timestamp AT TIME ZONE %(tz)s AS midnight
    FROM generate_series(0, %(d1)s::date - %(d0)s::date) AS i
),
stays AS MATERIALIZED (
    -- A ward stay covers day D when it covers the midnight that ends D.
    SELECT ws.admission_id, (a.admitted_at AT TIME ZONE %(tz)s)::date AS admit_day,
           greatest(((ws.started_at - interval '1 microsecond') AT TIME ZONE %(tz)s)::date,
                    %(d0)s::date) AS lo,
           least(coalesce(((ws.ended_at - interval '1 microsecond') AT TIME ZONE %(tz)s)::date - 1,
                          %(d1)s::date), %(d1)s::date) AS hi
    FROM discharge_wardstay ws
    JOIN discharge_admission a ON a.id = ws.admission_id AND a.status <> 'cancelled'
),
runs AS (
    SELECT * FROM (
        SELECT admission_id, discharge_ready_date AS drd,
               (lead(changed_at) OVER (PARTITION BY admission_id ORDER BY changed_at, id)
                    AT TIME ZONE %(tz)s)::date AS cleared
        FROM discharge_dischargereadydatechange
    ) r WHERE drd IS NOT NULL
),
census AS MATERIALIZED (
    SELECT s.admission_id, d.day, d.midnight, d.day - s.admit_day AS los,
           r.admission_id IS NOT NULL AS nctr
    FROM stays s
    CROSS JOIN LATERAL generate_series(0, s.hi - s.lo) AS i
    JOIN days d ON d.day = s.lo + i
    LEFT JOIN runs r ON r.admission_id = s.admission_id
        AND r.drd <= d.day AND (r.cleared IS NULL OR r.cleared > d.day)
),
census_days AS (
    SELECT day, count(*) AS occupied, count(*) FILTER (WHERE nctr) AS nctr_remaining,
           count(*) FILTER (WHERE los >= 7) AS los_7, count(*) FILTER (WHERE los >= 14) AS los_14,
           count(*) FILTER (WHERE los >= 21) AS los_21,
           coalesce(sum(los) FILTER (WHERE los >= 7), 0) AS los_7_days,
           coalesce(sum(los) FILTER (WHERE los >= 14), 0) AS los_14_days,
           coalesce(sum(los) FILTER (WHERE los >= 21), 0) AS los_21_days
    FROM census GROUP BY day
),
delay_runs AS (
    SELECT admission_id, reason_id, started_at,
           least(coalesce(ended_at, 'infinity'), coalesce(lead(started_at) OVER (
               PARTITION BY admission_id ORDER BY started_at, id), 'infinity')) AS until
    FROM discharge_delayepisode
),
delay_days AS (
    SELECT c.day, coalesce(e.reason_id, '') AS reason, count(*) AS patients
    FROM census c
    LEFT JOIN delay_runs e ON e.admission_id = c.admission_id
        AND e.started_at <= c.midnight AND e.until > c.midnight
    WHERE c.nctr
    GROUP BY c.day, e.reason_id
),
left_hospital AS (
    SELECT a.*, (a.discharged_at AT TIME ZONE %(tz)s)::date AS day,
           CASE WHEN a.discharge_ready_date IS NOT NULL
                THEN greatest((a.discharged_at AT TIME ZONE %(tz)s)::date - a.discharge_ready_date, 0)
           END AS delay
    FROM discharge_admission a
    WHERE a.status = 'discharged'
      AND (a.discharged_at AT TIME ZONE %(tz)s)::date BETWEEN %(d0)s AND %(d1)s
),
discharge_days AS (
    SELECT l.day, count(*) AS discharges,
           count(*) FILTER (WHERE (l.discharged_at AT TIME ZONE %(tz)s)::time < '12:00') AS before_noon,
           count(l.discharge_ready_date) AS nctr_discharged,
           count(*) FILTER (WHERE l.actual_pathway_id = '0') AS pathway_0,
           count(*) FILTER (WHERE l.actual_pathway_id = '1') AS pathway_1,
           count(*) FILTER (WHERE l.actual_pathway_id = '2') AS pathway_2,
           count(*) FILTER (WHERE l.actual_pathway_id = '3') AS pathway_3,
           count(*) FILTER (WHERE delay = 0) AS drd_0, count(*) FILTER (WHERE delay = 1) AS drd_1,
           count(*) FILTER (WHERE delay BETWEEN 2 AND 3) AS drd_2_3,
           count(*) FILTER (WHERE delay BETWEEN 4 AND 6) AS drd_4_6,
           count(*) FILTER (WHERE delay BETWEEN 7 AND 13) AS drd_7_13,
           count(*) FILTER (WHERE delay BETWEEN 14 AND 20) AS drd_14_20,
           count(*) FILTER (WHERE delay >= 21) AS drd_21_plus,
           count(*) FILTER (WHERE delay IS NULL) AS drd_none,
           coalesce(sum(delay), 0) AS delay_days,
           count(l.expected_discharge_date) AS edd_set,
           count(*) FILTER (WHERE l.day <= l.expected_discharge_date) AS edd_met,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM discharge_admission r
               WHERE r.patient_id = l.patient_id AND r.id <> l.id AND r.status <> 'cancelled'
                 AND r.method = 'emergency' AND r.admitted_at >= l.discharged_at
                 AND (r.admitted_at AT TIME ZONE %(tz)s)::date <= l.day + 30)) AS readmitted,
           coalesce(sum(l.day - (l.admitted_at AT TIME ZONE %(tz)s)::date), 0) AS days_away
    FROM left_hospital l GROUP BY l.day
),
admission_days AS (
    SELECT (admitted_at AT TIME ZONE %(tz)s)::date AS day, count(*) AS admissions
    FROM discharge_admission
    WHERE status <> 'cancelled'
      AND (admitted_at AT TIME ZONE %(tz)s)::date BETWEEN %(d0)s AND %(d1)s
    GROUP BY 1
)
SELECT day, figure, value FROM census_days
    CROSS JOIN LATERAL (VALUES ('occupied', occupied), ('nctr_remaining', nctr_remaining),
        ('los_7', los_7), ('los_14', los_14), ('los_21', los_21), ('los_7_days', los_7_days),
        ('los_14_days', los_14_days), ('los_21_days', los_21_days)) v(figure, value)
UNION ALL
SELECT day, figure, value FROM discharge_days
    CROSS JOIN LATERAL (VALUES ('discharges', discharges), ('before_noon', before_noon),
        ('nctr_discharged', nctr_discharged), ('pathway_0', pathway_0), ('pathway_1', pathway_1),
        ('pathway_2', pathway_2), ('pathway_3', pathway_3), ('drd_0', drd_0), ('drd_1', drd_1),
        ('drd_2_3', drd_2_3), ('drd_4_6', drd_4_6), ('drd_7_13', drd_7_13),
        ('drd_14_20', drd_14_20), ('drd_21_plus', drd_21_plus), ('drd_none', drd_none),
        ('delay_days', delay_days), ('edd_set', edd_set), ('edd_met', edd_met),
        ('readmitted', readmitted), ('days_away', days_away)) v(figure, value)
UNION ALL
SELECT day, 'admissions', admissions FROM admission_days
UNION ALL
SELECT day, 'delay:' || reason, patients FROM delay_days
