-- The floor: the dashboards' daily figures at the snapshot tables' grain (day x site x ward x
-- council x pathway, and delay reason, destination, admission method or kind of service),
-- by one hand-written SQL query straight from the records, with nothing written. Each
-- grouping is materialised, so all of it is computed; the result is then rolled up to
-- system totals per day, to be checked against the app and pandas.
-- Parameters: %(d0)s, %(d1)s (first and last day), %(tz)s (the local time zone).
-- One row per day and figure: (day, figure, value); delays by reason as 'delay:<code>'.
WITH days AS MATERIALIZED (
    SELECT %(d0)s::date + i AS day, (%(d0)s::date + i + 1)::timestamp AT TIME ZONE %(tz)s AS midnight
    FROM generate_series(0, %(d1)s::date - %(d0)s::date) AS i
),
stays AS MATERIALIZED (
    -- A ward stay covers day D when it covers the midnight that ends D.
    SELECT ws.admission_id, ws.ward_id, w.site_id, p.local_authority_id AS council_id,
           (a.admitted_at AT TIME ZONE %(tz)s)::date AS admit_day,
           greatest(((ws.started_at - interval '1 microsecond') AT TIME ZONE %(tz)s)::date,
                    %(d0)s::date) AS lo,
           least(coalesce(((ws.ended_at - interval '1 microsecond') AT TIME ZONE %(tz)s)::date - 1,
                          %(d1)s::date), %(d1)s::date) AS hi
    FROM discharge_wardstay ws
    JOIN homefirst_ward w ON w.id = ws.ward_id
    JOIN discharge_admission a ON a.id = ws.admission_id AND a.status <> 'cancelled'
    JOIN discharge_patient p ON p.id = a.patient_id
),
runs AS (
    SELECT * FROM (
        SELECT admission_id, discharge_ready_date AS drd,
               (lead(changed_at) OVER (PARTITION BY admission_id ORDER BY changed_at, id)
                    AT TIME ZONE %(tz)s)::date AS cleared
        FROM discharge_dischargereadydatechange
    ) r WHERE drd IS NOT NULL
),
plans AS (
    SELECT admission_id, pathway_id, changed_at AS since,
           coalesce(lead(changed_at) OVER (PARTITION BY admission_id ORDER BY changed_at, id),
                    'infinity') AS until
    FROM discharge_plannedpathwaychange
),
delay_runs AS (
    SELECT admission_id, reason_id, started_at,
           least(coalesce(ended_at, 'infinity'), coalesce(lead(started_at) OVER (
               PARTITION BY admission_id ORDER BY started_at, id), 'infinity')) AS until
    FROM discharge_delayepisode
),
census AS (
    SELECT s.site_id, s.ward_id, s.council_id, d.day, d.day - s.admit_day AS los,
           coalesce(pl.pathway_id, '') AS pathway,
           CASE WHEN r.admission_id IS NOT NULL THEN coalesce(e.reason_id, '') END AS reason
    FROM stays s
    -- A planner hint (always true): a stay spans a few days, not the thousand rows the
    -- planner assumes of any series.
    CROSS JOIN LATERAL generate_series(0, s.hi - s.lo) AS i
    JOIN days d ON d.day = s.lo + i AND i BETWEEN 0 AND 100000
    LEFT JOIN runs r ON r.admission_id = s.admission_id
        AND r.drd <= d.day AND (r.cleared IS NULL OR r.cleared > d.day)
    LEFT JOIN plans pl ON pl.admission_id = s.admission_id
        AND pl.since <= d.midnight AND pl.until > d.midnight
    LEFT JOIN delay_runs e ON e.admission_id = s.admission_id
        AND e.started_at <= d.midnight AND e.until > d.midnight
),
census_groups AS MATERIALIZED (
    SELECT day, site_id, ward_id, council_id, pathway, reason,
           count(*) AS occupied,
           count(*) FILTER (WHERE los >= 7) AS los_7, count(*) FILTER (WHERE los >= 14) AS los_14,
           count(*) FILTER (WHERE los >= 21) AS los_21,
           coalesce(sum(los) FILTER (WHERE los >= 7), 0) AS los_7_days,
           coalesce(sum(los) FILTER (WHERE los >= 14), 0) AS los_14_days,
           coalesce(sum(los) FILTER (WHERE los >= 21), 0) AS los_21_days
    FROM census GROUP BY day, site_id, ward_id, council_id, pathway, reason
),
census_days AS (
    SELECT day, sum(occupied) AS occupied,
           coalesce(sum(occupied) FILTER (WHERE reason IS NOT NULL), 0) AS nctr_remaining,
           sum(los_7) AS los_7, sum(los_14) AS los_14, sum(los_21) AS los_21,
           sum(los_7_days) AS los_7_days, sum(los_14_days) AS los_14_days,
           sum(los_21_days) AS los_21_days
    FROM census_groups GROUP BY day
),
delay_days AS (
    SELECT day, reason, sum(occupied) AS patients
    FROM census_groups WHERE reason IS NOT NULL GROUP BY day, reason
),
left_hospital AS MATERIALIZED (
    SELECT a.id, a.patient_id, a.site_id, a.current_ward_id AS ward_id,
           p.local_authority_id AS council_id, a.actual_pathway_id AS pathway,
           a.discharge_destination AS destination, a.discharged_at,
           a.discharge_ready_date AS drd, a.expected_discharge_date AS edd,
           (a.admitted_at AT TIME ZONE %(tz)s)::date AS admit_day,
           (a.discharged_at AT TIME ZONE %(tz)s)::date AS day
    FROM discharge_admission a JOIN discharge_patient p ON p.id = a.patient_id
    WHERE a.status = 'discharged'
      AND (a.discharged_at AT TIME ZONE %(tz)s)::date BETWEEN %(d0)s AND %(d1)s
),
home_after_bed AS (
    SELECT r.admission_id, max((r.outcome_recorded_at AT TIME ZONE %(tz)s)::date) AS day
    FROM pathways_referral r JOIN pathways_service s ON s.id = r.service_id
    WHERE r.state = 'ended' AND r.pathway_id = '2' AND s.kind = 'intermediate_care_bed'
    GROUP BY r.admission_id
),
discharge_groups AS MATERIALIZED (
    SELECT l.day, l.site_id, l.ward_id, l.council_id, l.pathway, l.destination,
           count(*) AS discharges,
           count(*) FILTER (WHERE (l.discharged_at AT TIME ZONE %(tz)s)::time < '12:00') AS before_noon,
           count(l.drd) AS nctr_discharged,
           count(*) FILTER (WHERE l.day - l.drd <= 0) AS drd_0,
           count(*) FILTER (WHERE l.day - l.drd = 1) AS drd_1,
           count(*) FILTER (WHERE l.day - l.drd BETWEEN 2 AND 3) AS drd_2_3,
           count(*) FILTER (WHERE l.day - l.drd BETWEEN 4 AND 6) AS drd_4_6,
           count(*) FILTER (WHERE l.day - l.drd BETWEEN 7 AND 13) AS drd_7_13,
           count(*) FILTER (WHERE l.day - l.drd BETWEEN 14 AND 20) AS drd_14_20,
           count(*) FILTER (WHERE l.day - l.drd >= 21) AS drd_21_plus,
           count(*) FILTER (WHERE l.drd IS NULL) AS drd_none,
           coalesce(sum(greatest(l.day - l.drd, 0)), 0) AS delay_days,
           count(l.edd) AS edd_set,
           count(*) FILTER (WHERE l.day <= l.edd) AS edd_met,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM discharge_admission r
               WHERE r.patient_id = l.patient_id AND r.id <> l.id AND r.status <> 'cancelled'
                 AND r.method = 'emergency' AND r.admitted_at >= l.discharged_at
                 AND (r.admitted_at AT TIME ZONE %(tz)s)::date <= l.day + 30)) AS readmitted,
           coalesce(sum(greatest(h.day, l.day) - l.admit_day), 0) AS days_away
    FROM left_hospital l LEFT JOIN home_after_bed h ON h.admission_id = l.id
    GROUP BY l.day, l.site_id, l.ward_id, l.council_id, l.pathway, l.destination
),
discharge_days AS (
    SELECT day, sum(discharges) AS discharges, sum(before_noon) AS before_noon,
           sum(nctr_discharged) AS nctr_discharged,
           coalesce(sum(discharges) FILTER (WHERE pathway = '0'), 0) AS pathway_0,
           coalesce(sum(discharges) FILTER (WHERE pathway = '1'), 0) AS pathway_1,
           coalesce(sum(discharges) FILTER (WHERE pathway = '2'), 0) AS pathway_2,
           coalesce(sum(discharges) FILTER (WHERE pathway = '3'), 0) AS pathway_3,
           sum(drd_0) AS drd_0, sum(drd_1) AS drd_1, sum(drd_2_3) AS drd_2_3,
           sum(drd_4_6) AS drd_4_6, sum(drd_7_13) AS drd_7_13, sum(drd_14_20) AS drd_14_20,
           sum(drd_21_plus) AS drd_21_plus, sum(drd_none) AS drd_none,
           sum(delay_days) AS delay_days, sum(edd_set) AS edd_set, sum(edd_met) AS edd_met,
           sum(readmitted) AS readmitted, sum(days_away) AS days_away
    FROM discharge_groups GROUP BY day
),
first_stays AS (
    SELECT DISTINCT ON (ws.admission_id) ws.admission_id, ws.ward_id
    FROM discharge_wardstay ws ORDER BY ws.admission_id, ws.started_at, ws.id
),
admission_groups AS MATERIALIZED (
    SELECT (a.admitted_at AT TIME ZONE %(tz)s)::date AS day, w.site_id, f.ward_id,
           p.local_authority_id AS council_id, a.method, count(*) AS admissions
    FROM discharge_admission a
    JOIN first_stays f ON f.admission_id = a.id
    JOIN homefirst_ward w ON w.id = f.ward_id
    JOIN discharge_patient p ON p.id = a.patient_id
    WHERE a.status <> 'cancelled'
      AND (a.admitted_at AT TIME ZONE %(tz)s)::date BETWEEN %(d0)s AND %(d1)s
    GROUP BY 1, 2, 3, 4, 5
),
transfer_groups AS MATERIALIZED (
    SELECT l.day, l.site_id, l.ward_id, l.council_id, r.pathway_id AS pathway, s.kind,
           count(*) AS transfers,
           count(r.first_visit_at) AS started,
           count(*) FILTER (WHERE (r.first_visit_at AT TIME ZONE %(tz)s)::date - l.day <= 1)
               AS started_next_day,
           coalesce(sum(greatest((r.first_visit_at AT TIME ZONE %(tz)s)::date - l.day, 0)), 0)
               AS start_delay_days,
           count(*) FILTER (WHERE r.first_visit_at IS NOT NULL AND l.drd IS NOT NULL)
               AS started_with_drd,
           coalesce(sum(greatest((r.first_visit_at AT TIME ZONE %(tz)s)::date - l.drd, 0)), 0)
               AS drd_to_start_days,
           count(*) FILTER (WHERE r.state = 'ended') AS ended,
           count(*) FILTER (WHERE r.outcome = 'independent') AS independent,
           count(*) FILTER (WHERE r.outcome = 'reduced_support') AS reduced_support,
           count(*) FILTER (WHERE r.outcome = 'long_term_care') AS long_term_care,
           count(*) FILTER (WHERE r.outcome = 'readmitted') AS readmitted,
           count(*) FILTER (WHERE r.outcome = 'died') AS died,
           count(r.at_home_91_days) AS at_home_91_checked,
           count(*) FILTER (WHERE r.at_home_91_days) AS at_home_91
    FROM left_hospital l
    JOIN pathways_referral r ON r.admission_id = l.id
        AND r.state IN ('discharged', 'started', 'ended')
    JOIN pathways_service s ON s.id = r.service_id
    GROUP BY 1, 2, 3, 4, 5, 6
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
SELECT day, 'admissions', sum(admissions) FROM admission_groups GROUP BY day
UNION ALL
SELECT day, 'delay:' || reason, patients FROM delay_days
UNION ALL
SELECT day, 'toc_' || figure, sum(value) FROM transfer_groups
    CROSS JOIN LATERAL (VALUES ('transfers', transfers), ('started', started),
        ('started_next_day', started_next_day), ('start_delay_days', start_delay_days),
        ('started_with_drd', started_with_drd), ('drd_to_start_days', drd_to_start_days),
        ('ended', ended), ('independent', independent), ('reduced_support', reduced_support),
        ('long_term_care', long_term_care), ('readmitted', readmitted), ('died', died),
        ('at_home_91_checked', at_home_91_checked), ('at_home_91', at_home_91)) v(figure, value)
    GROUP BY day, figure
