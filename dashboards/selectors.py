"""Every read of the flow snapshots, already scoped to what the user may see.

Who sees which figures:

* system leaders: the whole system, every site and council;
* ward staff and discharge coordinators: the sites of their own trust;
* social workers: the residents of their own council, wherever they are in hospital.

Nobody sees a patient's identity here: the snapshots hold counts only. Anyone else (care
provider staff, family members, people with no organisation) has no dashboards at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from dashboards.models import (
    DailyAdmissions,
    DailyCensus,
    DailyDelay,
    DailyDischarges,
    DailyTransfers,
    PendingRecompute,
    SnapshotDay,
)
from discharge.models import DelayReason
from homefirst.models import Membership, Organisation, Site, User, Ward
from homefirst.selectors import WARD_ROLES, organisation_ids
from pathways.models import Pathway

Role = Membership.Role

CENSUS_SUMS = (
    "occupied",
    "nctr",
    "los_7",
    "los_14",
    "los_21",
    "los_7_days",
    "los_14_days",
    "los_21_days",
)
DISCHARGE_SUMS = (
    "discharges",
    "before_noon",
    "nctr",
    "drd_0",
    "drd_1",
    "drd_2_3",
    "drd_4_6",
    "drd_7_13",
    "drd_14_20",
    "drd_21_plus",
    "drd_none",
    "delay_days",
    "edd_set",
    "edd_met",
    "readmitted",
    "days_away",
)

TRANSFER_SUMS = (
    "transfers",
    "started",
    "started_next_day",
    "start_delay_days",
    "started_with_drd",
    "drd_to_start_days",
    "ended",
    "independent",
    "reduced_support",
    "long_term_care",
    "readmitted",
    "died",
    "at_home_91_checked",
    "at_home_91",
)


@dataclass(frozen=True)
class DashboardAccess:
    """The figures a user may see: everything, or their trust's sites and their council's residents."""

    everything: bool
    site_ids: frozenset[int]
    council_ids: frozenset[int]

    def q(self) -> Q:
        """Snapshot rows within reach."""
        if self.everything:
            return Q()
        parts = []
        if self.site_ids:
            parts.append(Q(site_id__in=self.site_ids))
        if self.council_ids:
            parts.append(Q(council_id__in=self.council_ids))
        # A trust with no sites yet has nothing to show: match no rows rather than fail.
        return reduce(or_, parts) if parts else Q(pk__in=[])

    @property
    def small_numbers(self) -> bool:
        """Whether exports may carry counts of 1 to 4.

        Only when every figure is about patients the user may already see by name: their
        trust's (ward staff) or their council's residents (social workers). Exports by a
        system-wide viewer leave the system with small counts shown as "<5".
        """
        return not self.everything


def dashboard_access(user: User) -> DashboardAccess | None:
    """What the user may see on the dashboards; None when they have no dashboards."""
    if organisation_ids(user, {Role.SYSTEM_LEADER}):
        return DashboardAccess(everything=True, site_ids=frozenset(), council_ids=frozenset())
    trusts = organisation_ids(user, WARD_ROLES)
    councils = frozenset(organisation_ids(user, {Role.SOCIAL_WORKER}))
    if not trusts and not councils:
        return None
    sites = frozenset(Site.objects.filter(organisation_id__in=trusts).values_list("pk", flat=True))
    return DashboardAccess(everything=False, site_ids=sites, council_ids=councils)


def sites_visible_to(access: DashboardAccess) -> QuerySet[Site]:
    """Sites whose figures the user may open: their trust's, or all for a council's residents."""
    if access.everything or access.council_ids:
        return Site.objects.select_related("organisation")
    return Site.objects.filter(pk__in=access.site_ids).select_related("organisation")


def wards_visible_to(access: DashboardAccess) -> QuerySet[Ward]:
    """Wards of the visible sites."""
    return Ward.objects.filter(site__in=sites_visible_to(access)).select_related("site")


def councils_visible_to(access: DashboardAccess) -> QuerySet[Organisation]:
    """Councils of residence the user may drill into: their own, or all for trust staff and leaders."""
    councils = Organisation.objects.filter(kind=Organisation.Kind.LOCAL_AUTHORITY)
    if access.everything or access.site_ids:
        return councils
    return councils.filter(pk__in=access.council_ids)


@dataclass(frozen=True)
class Filters:
    """The view's date range and drill-down, already checked against the user's access."""

    start: dt.date
    end: dt.date
    site: Site | None = None
    ward: Ward | None = None
    council: Organisation | None = None
    pathway: str | None = None

    def q(self, *, pathway: bool = True) -> Q:
        q = Q()
        if self.ward:
            q &= Q(ward_id=self.ward.pk)
        elif self.site:
            q &= Q(site_id=self.site.pk)
        if self.council:
            q &= Q(council_id=self.council.pk)
        if pathway and self.pathway:
            q &= Q(pathway=self.pathway)
        return q


def _rows(model, access: DashboardAccess, filters: Filters, first: dt.date, last: dt.date):
    """Rows of a snapshot table the user may see, within the filters and the days."""
    return (
        model.objects.filter(access.q())
        .filter(filters.q(pathway=model is not DailyAdmissions))
        .filter(day__gte=first, day__lte=last)
        .order_by()
    )


def _sums(fields, prefix: str = "") -> dict:
    return {f"{prefix}{f}": Sum(f) for f in fields}


def census_by_day(
    access: DashboardAccess, filters: Filters, first: dt.date, last: dt.date
) -> list[dict]:
    """Census sums per day."""
    return list(
        _rows(DailyCensus, access, filters, first, last)
        .values("day")
        .annotate(**_sums(CENSUS_SUMS))
        .order_by("day")
    )


def discharges_by_day(
    access: DashboardAccess, filters: Filters, first: dt.date, last: dt.date
) -> list[dict]:
    """Discharge sums per day and actual pathway."""
    return list(
        _rows(DailyDischarges, access, filters, first, last)
        .values("day", "pathway")
        .annotate(**_sums(DISCHARGE_SUMS))
        .order_by("day", "pathway")
    )


def admissions_by_day(
    access: DashboardAccess, filters: Filters, first: dt.date, last: dt.date
) -> list[dict]:
    """Admissions per day; none under a pathway filter (admissions have no pathway)."""
    if filters.pathway:
        return []
    return list(
        _rows(DailyAdmissions, access, filters, first, last)
        .values("day")
        .annotate(admissions=Sum("admissions"))
        .order_by("day")
    )


def transfers_by_day(
    access: DashboardAccess, filters: Filters, first: dt.date, last: dt.date
) -> list[dict]:
    """Transfer-of-care sums per day of discharge."""
    return list(
        _rows(DailyTransfers, access, filters, first, last)
        .values("day")
        .annotate(**_sums(TRANSFER_SUMS))
        .order_by("day")
    )


def transfers_by_pathway(access: DashboardAccess, filters: Filters) -> list[dict]:
    """Transfer-of-care sums over the range per pathway and kind of service."""
    return list(
        _rows(DailyTransfers, access, filters, filters.start, filters.end)
        .values("pathway", "kind")
        .annotate(**_sums(TRANSFER_SUMS))
        .order_by("pathway", "kind")
    )


def destinations(access: DashboardAccess, filters: Filters) -> list[dict]:
    """Discharges by destination over the range."""
    return list(
        _rows(DailyDischarges, access, filters, filters.start, filters.end)
        .values("destination")
        .annotate(discharges=Sum("discharges"))
        .order_by("-discharges", "destination")
    )


def delays_by_reason(access: DashboardAccess, filters: Filters, day: dt.date) -> list[dict]:
    """Delayed bed days by reason over the range, and the patients delayed at ``day``'s midnight."""
    return list(
        _rows(DailyDelay, access, filters, filters.start, filters.end)
        .values("family", "reason")
        .annotate(bed_days=Sum("patients"), on_day=Sum("patients", filter=Q(day=day)))
        .order_by("-bed_days", "reason")
    )


def delays_by_day_and_family(
    access: DashboardAccess, filters: Filters, first: dt.date, last: dt.date
) -> list[dict]:
    """Delayed patients per day and reason family (for the daily export)."""
    return list(
        _rows(DailyDelay, access, filters, first, last)
        .values("day", "family")
        .annotate(patients=Sum("patients"))
        .order_by("day", "family")
    )


def delay_reason_names() -> dict[str, DelayReason]:
    """The delay reasons by code (reference data)."""
    return {r.code: r for r in DelayReason.objects.all()}


def expected_shares() -> dict[str, float]:
    """The guidance's expected share of discharges on each pathway (reference data)."""
    return {p.code: float(p.expected_share) for p in Pathway.objects.all()}


def breakdown(
    access: DashboardAccess, filters: Filters, day: dt.date, by: str
) -> tuple[list[dict], list[dict]]:
    """The day's census and discharges grouped by ``by`` (site_id, ward_id or council_id)."""
    census = list(
        _rows(DailyCensus, access, filters, day, day)
        .values(by)
        .annotate(**_sums(("occupied", "nctr", "los_21")))
    )
    discharges = list(
        _rows(DailyDischarges, access, filters, day, day)
        .values(by)
        .annotate(discharges=Sum("discharges"), nctr_discharged=Sum("nctr"))
    )
    return census, discharges


@dataclass(frozen=True)
class Freshness:
    """When the figures shown were computed, and whether newer changes wait to be counted."""

    computed_at: dt.datetime | None
    pending: int


def freshness(access: DashboardAccess, filters: Filters) -> Freshness:
    """The oldest computation behind the view's last day, and how many of its sites are stale."""
    sites = sites_visible_to(access)
    if filters.ward:
        sites = sites.filter(pk=filters.ward.site_id)
    elif filters.site:
        sites = sites.filter(pk=filters.site.pk)
    site_ids = sites.values("pk")
    computed = SnapshotDay.objects.filter(site_id__in=site_ids, day=filters.end).aggregate(
        oldest=Min("computed_at")
    )
    pending = PendingRecompute.objects.filter(
        site_id__in=site_ids, first_day__lte=filters.end
    ).aggregate(sites=Count("site"))
    return Freshness(computed_at=computed["oldest"], pending=pending["sites"])


# --- Exports ---------------------------------------------------------------------------------


def sitrep_rows(access: DashboardAccess, filters: Filters, day: dt.date) -> dict[str, list[dict]]:
    """The day's figures per trust (the organisation a sitrep is returned by)."""
    org = "site__organisation_id"
    return {
        "census": list(
            _rows(DailyCensus, access, filters, day, day).values(org).annotate(**_sums(CENSUS_SUMS))
        ),
        "discharges": list(
            _rows(DailyDischarges, access, filters, day, day)
            .values(org, "pathway")
            .annotate(**_sums(DISCHARGE_SUMS))
        ),
        "delays": list(
            _rows(DailyDelay, access, filters, day, day)
            .values(org, "family", "reason")
            .annotate(patients=Sum("patients"))
        ),
    }


def trusts(ids) -> dict[int, Organisation]:
    """Organisations by id."""
    return {o.pk: o for o in Organisation.objects.filter(pk__in=ids)}


def drd_by_month(access: DashboardAccess, filters: Filters) -> list[dict]:
    """Discharge ready date timeliness per calendar month over the range."""
    first = filters.start.replace(day=1)
    return list(
        _rows(DailyDischarges, access, filters, first, filters.end)
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(**_sums(DISCHARGE_SUMS), last_day=Max("day"))
        .order_by("month")
    )
