"""Every figure the dashboards show: its name, NHS England's sitrep name where one exists, its definition.

The pages show each definition beside its figure, the exports carry them, and
``docs/metrics.md`` is checked against them by a test.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """A figure and what it means."""

    key: str
    name: str
    definition: str
    group: str
    sitrep: str = ""  # NHS England's sitrep wording, where the figure follows a sitrep metric

    @property
    def label(self) -> str:
        """The name to print: the sitrep's wording where there is one."""
        return self.sitrep or self.name


_MIDNIGHT = (
    "Counted at the midnight that ends the day (00:00 the next morning, UK time); for today, "
    "the patients in hospital now. A patient counts on the ward and site they were on at "
    "that moment."
)
_DRD_RUN = (
    "A patient no longer meets the criteria to reside (NCTR) on a day when their discharge "
    "ready date (DRD) is on or before that day and no later review on or before it found them "
    "meeting a criterion again. A clinical exception (meets no criterion but is kept for a "
    "recorded reason) is not NCTR: it clears the DRD, and the next ready review sets a new one."
)

METRICS: dict[str, Metric] = {
    m.key: m
    for m in [
        Metric(
            "occupied",
            "Occupied beds at midnight",
            f"Patients in a bed at midnight. {_MIDNIGHT} Cancelled (entered in error) stays are "
            "never counted.",
            "Beds",
        ),
        Metric(
            "admissions",
            "Admissions",
            "Hospital stays that began on the day, at the ward of their first stay, emergency "
            "and elective together. Admissions have no pathway, so a pathway filter leaves them "
            "out.",
            "Flow",
        ),
        Metric(
            "discharges",
            "Discharges",
            "Patients who left hospital alive on the day, counted at the ward they left from, "
            "by the pathway and destination recorded at discharge. Deaths in hospital are not "
            "discharges.",
            "Flow",
            sitrep="Number of patients discharged",
        ),
        Metric(
            "nctr",
            "No longer meeting the criteria to reside",
            f"{_DRD_RUN} The day's count is those discharged that day while NCTR plus those "
            "remaining in hospital at midnight while NCTR. A patient with a DRD who died in "
            "hospital that day is in neither part.",
            "Criteria to reside",
            sitrep="Number of patients who no longer meet the criteria to reside",
        ),
        Metric(
            "nctr_discharged",
            "NCTR, discharged",
            "Discharges on the day of patients who had a discharge ready date when they left.",
            "Criteria to reside",
            sitrep="Number of patients who no longer meet the criteria to reside who were discharged",
        ),
        Metric(
            "nctr_remaining",
            "NCTR, remaining in hospital",
            f"Patients in a bed at midnight who were NCTR on the day. {_MIDNIGHT} {_DRD_RUN}",
            "Criteria to reside",
            sitrep="Number of patients remaining in hospital who no longer meet the criteria to reside",
        ),
        Metric(
            "delayed_bed_days",
            "Delayed bed days",
            "One bed day for each patient in a bed at midnight while NCTR: each night the "
            "NCTR patients remaining in hospital spend there. Over a period, the sum of the "
            "days. A patient who leaves N days after a DRD that was never cleared adds N "
            "delayed bed days.",
            "Criteria to reside",
        ),
        Metric(
            "delay_reasons",
            "Delayed bed days by delay reason",
            "NCTR patients remaining in hospital at midnight, by the delay reason recorded for "
            "them at that moment (NHS England's 37 reasons in five families): a reason holds "
            "from its start until its episode ends or the next reason is recorded. 'Not "
            "recorded' when none held. Summed over reasons it is the delayed bed days.",
            "Criteria to reside",
            sitrep="Number of patients remaining in hospital who no longer meet the criteria to reside, by reason for delay",
        ),
        Metric(
            "los_7",
            "Length of stay 7+ days",
            "Patients in a bed at midnight admitted 7 or more days before the day (the day of "
            "admission is day 0, as on the ward board): 'stranded' patients. "
            f"{_MIDNIGHT}",
            "Long stays",
            sitrep="Number of patients with a length of stay of 7 days or more",
        ),
        Metric(
            "los_14",
            "Length of stay 14+ days",
            "As 7+, for 14 or more days.",
            "Long stays",
            sitrep="Number of patients with a length of stay of 14 days or more",
        ),
        Metric(
            "los_21",
            "Length of stay 21+ days",
            "As 7+, for 21 or more days: 'super-stranded' patients.",
            "Long stays",
            sitrep="Number of patients with a length of stay of 21 days or more",
        ),
        Metric(
            "los_bed_days",
            "Bed days of long stays",
            "For the patients in each long-stay group at midnight, the days they have spent in "
            "hospital so far (their lengths of stay added up).",
            "Long stays",
        ),
        Metric(
            "drd_timeliness",
            "Discharges by days from discharge ready date",
            "Each discharge by the days from the DRD in force when the patient left to the day "
            "they left: discharged on the DRD (0 days), 1, 2-3, 4-6, 7-13, 14-20, 21 or more "
            "days after it. A DRD cleared and set again counts from the new date. Discharges "
            "with no DRD recorded are a bucket of their own, so the buckets sum to the "
            "discharges.",
            "Discharge ready date",
        ),
        Metric(
            "mean_delay",
            "Average days from DRD to discharge, including 0 day delays",
            "Days from DRD to discharge, added up over the discharges with a DRD, divided by "
            "the number of those discharges.",
            "Discharge ready date",
        ),
        Metric(
            "mean_delay_delayed",
            "Average days from DRD to discharge, excluding 0 day delays",
            "The same days divided by the number of discharges that left 1 or more days after "
            "their DRD.",
            "Discharge ready date",
        ),
        Metric(
            "pathway_mix",
            "Pathway mix",
            "Discharges by the actual pathway recorded at discharge, as shares of all "
            "discharges, against the Discharge to Assess guidance's expected shares of about "
            "50% (pathway 0), 45% (1), 4% (2) and 1% (3).",
            "Pathways",
            sitrep="Number of patients discharged, by discharge pathway",
        ),
        Metric(
            "destinations",
            "Discharges by destination",
            "Discharges by the destination recorded at discharge.",
            "Pathways",
        ),
        Metric(
            "before_noon",
            "Discharges before noon",
            "Share of discharges recorded before 12:00 UK time on the day.",
            "Flow",
        ),
        Metric(
            "weekend",
            "Weekend discharges",
            "Share of discharges on Saturdays and Sundays; and the average discharges on a "
            "weekend day against the average on a weekday.",
            "Flow",
        ),
        Metric(
            "edd_accuracy",
            "Discharged on or before the expected date",
            "Of discharges with an expected date of discharge (EDD) in force when they left, "
            "the share who left on or before it.",
            "Planning",
        ),
        Metric(
            "readmissions",
            "Emergency readmissions within 30 days",
            "Of the day's discharges, those followed by an emergency admission of the same "
            "person (at any site) within 30 days of the day of discharge. Discharges in the "
            "last 30 days can still gain readmissions.",
            "Outcomes",
        ),
        Metric(
            "days_away",
            "Days away from home",
            "For each discharge, the days from the day of admission until the person was back "
            "at their usual place of residence; the average over discharges. Most people are "
            "home the day they leave hospital. After a pathway 2 stay in an intermediate care "
            "bed, the days run to the day that stay ended (the transfer of care's outcome); "
            "while the stay goes on, to the day they left hospital, so the figure grows as "
            "stays end.",
            "Outcomes",
        ),
        Metric(
            "toc_transfers",
            "Transfers of care",
            "People who left hospital on the day with a transfer of care to a service "
            "(pathways 1 to 3), by the referral's pathway and the kind of service; a withdrawn "
            "referral is not a transfer. Everything that happens to a transfer later is "
            "counted against the day the person left hospital, so a day's figures fill in "
            "over the following weeks.",
            "Transfers of care",
        ),
        Metric(
            "toc_drd_to_start",
            "Time from discharge ready date to service start",
            "For transfers whose service has started and whose patient had a discharge ready "
            "date when they left, the days from that DRD to the service's first visit (for a "
            "bed, the day care started), added up and divided by the number of those "
            "transfers.",
            "Transfers of care",
        ),
        Metric(
            "toc_start_next_day",
            "Service started by the day after discharge",
            "Of the transfers, the share whose service had its first visit on the day of "
            "discharge or the day after. Also shown: the average days from discharge to the "
            "first visit over the transfers that have started.",
            "Transfers of care",
        ),
        Metric(
            "toc_outcomes",
            "Reablement outcomes",
            "Transfers whose episode has ended, by the outcome the provider recorded: "
            "independent (no ongoing support), reduced support, long-term care, readmitted to "
            "hospital, or died; as shares of the ended episodes.",
            "Transfers of care",
        ),
        Metric(
            "toc_at_home_91",
            "Still at home 91 days after discharge",
            "Of the transfers whose 91-day check has been recorded by the hub or the provider, "
            "the share recorded as still at home 91 days after leaving hospital. The check "
            "falls due 91 days after discharge, so only discharges at least 91 days ago can "
            "have one. The Adult Social Care Outcomes Framework measures the same for people "
            "aged 65 and over (measure 2B); this figure counts everyone.",
            "Transfers of care",
        ),
    ]
}
