"""Daily flow snapshots: one row per day and dimension values, rebuilt from the ward's records.

Every snapshot table is derived data. Its primary key is the day and the dimensions, so a
recompute writes each row by an upsert and running it twice leaves identical rows. Counts are
additive across the dimensions (a page sums them over the rows it shows); averages are kept
as a sum and a count so they add up too.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from homefirst.models import Organisation, Site, Ward

PATHWAY_CODES = ["0", "1", "2", "3"]


def _count(help_text: str = "") -> models.PositiveIntegerField:
    return models.PositiveIntegerField(default=0, help_text=help_text)


class DailyCensus(models.Model):
    """Patients in a bed at the midnight that ends the day (for today: in hospital now).

    One row per day, site, ward, council of residence and planned pathway as at that midnight.
    """

    pk = models.CompositePrimaryKey("day", "site", "ward", "council", "pathway")
    day = models.DateField()
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_index=False)
    ward = models.ForeignKey(Ward, on_delete=models.CASCADE, related_name="+", db_index=False)
    council = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    pathway = models.CharField(max_length=1, blank=True, help_text="Planned pathway; '' none.")
    occupied = _count("Occupied beds at midnight.")
    nctr = _count("No longer meeting the criteria to reside, remaining in hospital at midnight.")
    los_7 = _count("In hospital 7 or more days.")
    los_14 = _count("In hospital 14 or more days.")
    los_21 = _count("In hospital 21 or more days.")
    los_7_days = _count("Bed days used so far by those in hospital 7 or more days.")
    los_14_days = _count("Bed days used so far by those in hospital 14 or more days.")
    los_21_days = _count("Bed days used so far by those in hospital 21 or more days.")

    class Meta:
        verbose_name = "daily census"
        verbose_name_plural = "daily census"
        constraints = [
            models.CheckConstraint(
                name="daily_census_pathway_known", condition=Q(pathway__in=["", *PATHWAY_CODES])
            ),
        ]

    def __str__(self) -> str:
        return f"Census {self.day} ward {self.ward_id} council {self.council_id} pathway {self.pathway or '-'}"


class DailyDelay(models.Model):
    """Patients no longer meeting the criteria to reside at midnight, by the delay reason open then.

    Summed over reasons it equals :class:`DailyCensus` ``nctr``; reason '' is "not recorded".
    """

    pk = models.CompositePrimaryKey("day", "site", "ward", "council", "pathway", "reason")
    day = models.DateField()
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_index=False)
    ward = models.ForeignKey(Ward, on_delete=models.CASCADE, related_name="+", db_index=False)
    council = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    pathway = models.CharField(max_length=1, blank=True)
    reason = models.CharField(max_length=5, blank=True, help_text="Delay reason code; '' none.")
    family = models.CharField(max_length=40, blank=True, help_text="The reason's family.")
    patients = _count("Delayed patients at midnight, which is also their delayed bed days.")

    class Meta:
        verbose_name = "daily delay"
        constraints = [
            models.CheckConstraint(
                name="daily_delay_pathway_known", condition=Q(pathway__in=["", *PATHWAY_CODES])
            ),
        ]

    def __str__(self) -> str:
        return f"Delays {self.day} ward {self.ward_id} reason {self.reason or '-'}"


class DailyDischarges(models.Model):
    """Discharges (deaths excluded) on the day, by where from, whose resident, pathway and destination."""

    pk = models.CompositePrimaryKey("day", "site", "ward", "council", "pathway", "destination")
    day = models.DateField()
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_index=False)
    ward = models.ForeignKey(Ward, on_delete=models.CASCADE, related_name="+", db_index=False)
    council = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    pathway = models.CharField(max_length=1, help_text="Actual pathway on discharge.")
    destination = models.CharField(max_length=30)
    discharges = _count()
    before_noon = _count("Left before 12:00.")
    nctr = _count("Had a discharge ready date: no longer met the criteria to reside.")
    drd_0 = _count("Left on the discharge ready date.")
    drd_1 = _count("Left 1 day after it.")
    drd_2_3 = _count("Left 2 to 3 days after it.")
    drd_4_6 = _count("Left 4 to 6 days after it.")
    drd_7_13 = _count("Left 7 to 13 days after it.")
    drd_14_20 = _count("Left 14 to 20 days after it.")
    drd_21_plus = _count("Left 21 or more days after it.")
    drd_none = _count("Left with no discharge ready date recorded.")
    delay_days = _count("Sum of days from the discharge ready date to discharge.")
    edd_set = _count("Had an expected date of discharge.")
    edd_met = _count("Left on or before the expected date of discharge.")
    readmitted = _count("Admitted again as an emergency within 30 days.")
    days_away = _count("Sum of days away from home.")

    class Meta:
        verbose_name = "daily discharges"
        verbose_name_plural = "daily discharges"
        constraints = [
            models.CheckConstraint(
                name="daily_discharges_pathway_known", condition=Q(pathway__in=PATHWAY_CODES)
            ),
            models.CheckConstraint(
                name="daily_discharges_buckets_sum",
                condition=Q(
                    discharges=models.F("drd_0")
                    + models.F("drd_1")
                    + models.F("drd_2_3")
                    + models.F("drd_4_6")
                    + models.F("drd_7_13")
                    + models.F("drd_14_20")
                    + models.F("drd_21_plus")
                    + models.F("drd_none")
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Discharges {self.day} ward {self.ward_id} pathway {self.pathway} to {self.destination}"


class DailyAdmissions(models.Model):
    """Admissions on the day, by the site and ward they were admitted to and how."""

    pk = models.CompositePrimaryKey("day", "site", "ward", "council", "method")
    day = models.DateField()
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_index=False)
    ward = models.ForeignKey(Ward, on_delete=models.CASCADE, related_name="+", db_index=False)
    council = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    method = models.CharField(max_length=10, help_text="Emergency or elective.")
    admissions = _count()

    class Meta:
        verbose_name = "daily admissions"
        verbose_name_plural = "daily admissions"

    def __str__(self) -> str:
        return f"Admissions {self.day} ward {self.ward_id} ({self.method})"


class DailyTransfers(models.Model):
    """Transfers of care of the people discharged on the day, and how each went afterwards.

    A row per day of discharge, site and ward left from, council of residence, pathway and
    kind of service. A transfer's later events (first visit, outcome, the 91-day check) are
    counted against the day the person left hospital, so a day's figures fill in over the
    following weeks, as readmissions do.
    """

    pk = models.CompositePrimaryKey("day", "site", "ward", "council", "pathway", "kind")
    day = models.DateField()
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_index=False)
    ward = models.ForeignKey(Ward, on_delete=models.CASCADE, related_name="+", db_index=False)
    council = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    pathway = models.CharField(max_length=1, help_text="The referral's pathway.")
    kind = models.CharField(max_length=30, help_text="The kind of service (ServiceKind).")
    transfers = _count("People discharged to a service on the day.")
    started = _count("Of them, the service has started (first visit or care started).")
    started_next_day = _count("Started on the day of discharge or the day after.")
    start_delay_days = _count("Sum of days from discharge to the service starting.")
    started_with_drd = _count("Started, and had a discharge ready date.")
    drd_to_start_days = _count("Sum of days from the discharge ready date to the service start.")
    ended = _count("Episodes ended with an outcome.")
    independent = _count("Ended: independent, no ongoing support.")
    reduced_support = _count("Ended: with reduced support.")
    long_term_care = _count("Ended: moved on to long-term care.")
    readmitted = _count("Ended: readmitted to hospital.")
    died = _count("Ended: died.")
    at_home_91_checked = _count("The 91-day check has been recorded.")
    at_home_91 = _count("Recorded as still at home 91 days after discharge.")

    class Meta:
        verbose_name = "daily transfers of care"
        verbose_name_plural = "daily transfers of care"
        constraints = [
            models.CheckConstraint(
                name="daily_transfers_pathway_known", condition=Q(pathway__in=["1", "2", "3"])
            ),
            models.CheckConstraint(
                name="daily_transfers_outcomes_sum",
                condition=Q(
                    ended=models.F("independent")
                    + models.F("reduced_support")
                    + models.F("long_term_care")
                    + models.F("readmitted")
                    + models.F("died")
                ),
            ),
            models.CheckConstraint(
                name="daily_transfers_parts_within_whole",
                condition=Q(started__lte=models.F("transfers"))
                & Q(ended__lte=models.F("transfers"))
                & Q(at_home_91__lte=models.F("at_home_91_checked"))
                & Q(at_home_91_checked__lte=models.F("transfers")),
            ),
        ]

    def __str__(self) -> str:
        return f"Transfers {self.day} ward {self.ward_id} pathway {self.pathway} ({self.kind})"


class SnapshotDay(models.Model):
    """When a site's figures for a day were last computed."""

    pk = models.CompositePrimaryKey("site", "day")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="snapshot_day_day_idx")]

    def __str__(self) -> str:
        return f"Site {self.site_id} {self.day} computed {self.computed_at:%Y-%m-%d %H:%M}"


class PendingRecompute(models.Model):
    """A site whose figures are stale from a day to today: a change was recorded, the recompute queued.

    One row a site, however many changes: a request only moves ``first_day`` back. ``version``
    goes up with every request, so a recompute removes only the request it has seen and one
    arriving while it runs stays pending.
    """

    site = models.OneToOneField(Site, on_delete=models.CASCADE, primary_key=True, related_name="+")
    first_day = models.DateField()
    version = models.PositiveBigIntegerField(default=1)
    requested_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Site {self.site_id} stale from {self.first_day} (v{self.version})"
