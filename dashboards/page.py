"""The dashboard view's content: the selectors' sums for the user, shaped into figures.

A constant number of queries whatever the range or the number of wards: each selector is
one aggregate query over the snapshot tables, bounded by the days shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from dashboards import figures, selectors
from dashboards.figures import Cell, Headline, Table, number
from dashboards.metrics import METRICS, Metric
from dashboards.selectors import DashboardAccess, Filters, Freshness
from homefirst.models import Organisation, Site, Ward
from pathways.models import ServiceKind

Link = Callable[..., str]


@dataclass(frozen=True)
class Choices:
    """What the user may drill into, for the filter form and the breakdown tables."""

    sites: list[Site]
    wards: list[Ward]
    councils: list[Organisation]


@dataclass
class Dashboard:
    """Everything the dashboard page shows."""

    filters: Filters
    day: dt.date
    headlines: list[Headline]
    trends: list[Table]
    pathway_mix: Table
    destinations: Table
    delay_reasons: Table
    delay_families: Table
    delayed_bed_days: int
    timeliness: Table
    averages: dict
    long_stays: Table
    quality: Table
    days_away: Table
    transfers: Table
    outcomes: Table
    places: Table | None
    councils: Table | None
    freshness: Freshness

    @property
    def metrics(self) -> dict[str, Metric]:
        return METRICS


def choices(access: DashboardAccess) -> Choices:
    """The sites, wards and councils the user may open."""
    return Choices(
        sites=list(selectors.sites_visible_to(access)),
        wards=list(selectors.wards_visible_to(access)),
        councils=list(selectors.councils_visible_to(access)),
    )


def frame_for(
    access: DashboardAccess, filters: Filters, first: dt.date
) -> tuple[pd.DataFrame, list[dict]]:
    """The daily frame from ``first`` to the end of the range, and the discharge rows behind it."""
    last = filters.end
    discharges = selectors.discharges_by_day(access, filters, first, last)
    frame = figures.daily_frame(
        first=first,
        last=last,
        census=selectors.census_by_day(access, filters, first, last),
        discharges=discharges,
        admissions=selectors.admissions_by_day(access, filters, first, last),
    )
    return frame, discharges


def dashboard(access: DashboardAccess, filters: Filters, options: Choices, link: Link) -> Dashboard:
    """The figures for the user's view: the range's trends and the last day at a glance."""
    day = filters.end
    # A week before the range too, for the glance day's comparisons.
    frame, discharges = frame_for(access, filters, min(filters.start, day - dt.timedelta(days=7)))
    in_range = frame.loc[frame.index >= filters.start]
    totals = in_range.sum()
    admissions_apply = not filters.pathway
    reasons = selectors.delays_by_reason(access, filters, day)
    averages = figures.timeliness(totals)
    transfers = selectors.transfers_by_pathway(access, filters)
    return Dashboard(
        filters=filters,
        day=day,
        headlines=figures.headlines(frame, day, admissions_apply=admissions_apply),
        trends=figures.trend_tables(frame, filters.start, admissions_apply=admissions_apply),
        pathway_mix=figures.pathway_mix(totals, selectors.expected_shares(), link),
        destinations=_destinations(selectors.destinations(access, filters)),
        delay_reasons=figures.delay_reasons(reasons, selectors.delay_reason_names(), day),
        delay_families=figures.delay_families(reasons),
        delayed_bed_days=int(totals.get("delayed_bed_days", 0)),
        timeliness=averages[0],
        averages=averages[1],
        long_stays=figures.long_stays(frame, day),
        quality=figures.discharge_quality(in_range, totals),
        days_away=figures.days_away(
            _days_away([r for r in discharges if r["day"] >= filters.start])
        ),
        transfers=figures.transfers_of_care(transfers, dict(ServiceKind.choices)),
        outcomes=figures.outcomes(transfers),
        places=_places(access, filters, options, day, link),
        councils=_councils(access, filters, options, day, link),
        freshness=selectors.freshness(access, filters),
    )


def _days_away(rows: list[dict]) -> dict[str, tuple[int, int]]:
    by_pathway: dict[str, tuple[int, int]] = {}
    for row in rows:
        days, count = by_pathway.get(row["pathway"], (0, 0))
        by_pathway[row["pathway"]] = (days + row["days_away"], count + row["discharges"])
    return by_pathway


def _destinations(rows: list[dict]) -> Table:
    from discharge.models import DischargeDestination

    names = dict(DischargeDestination.choices)
    total = sum(r["discharges"] for r in rows)
    return Table(
        "destinations",
        "Discharges by destination",
        [("Destination", False), ("Discharges", True), ("Share", True)],
        [
            [
                Cell(names.get(r["destination"], r["destination"])),
                number(r["discharges"]),
                figures.percent(figures.ratio(r["discharges"], total)),
            ]
            for r in rows
        ],
    )


_BREAKDOWN_COLUMNS = [
    ("Occupied beds at midnight", True),
    ("NCTR, remaining", True),
    ("21+ days", True),
    ("Discharges", True),
    ("NCTR, discharged", True),
]


def _breakdown_rows(census: list[dict], discharges: list[dict], by: str, names, link_for):
    counts: dict[int, dict] = {}
    for row in census:
        counts.setdefault(row[by], {}).update(row)
    for row in discharges:
        counts.setdefault(row[by], {}).update(row)
    rows = []
    for key, name in names:
        if key not in counts:
            continue
        c = counts[key]
        rows.append(
            [
                Cell(name, url=link_for(key)),
                number(c.get("occupied", 0)),
                number(c.get("nctr", 0)),
                number(c.get("los_21", 0)),
                number(c.get("discharges", 0)),
                number(c.get("nctr_discharged", 0)),
            ]
        )
    return rows


def _places(
    access: DashboardAccess, filters: Filters, options: Choices, day: dt.date, link: Link
) -> Table | None:
    """The day by site (system view) or by ward (a site's view); none for a ward."""
    if filters.ward:
        return None
    if filters.site:
        by, heading = "ward_id", "Ward"
        names = [(w.pk, w.name) for w in options.wards if w.site_id == filters.site.pk]
        link_for = lambda pk: link(place=f"ward-{pk}")  # noqa: E731
    else:
        by, heading = "site_id", "Site"
        names = [(s.pk, s.name) for s in options.sites]
        link_for = lambda pk: link(place=f"site-{pk}")  # noqa: E731
    census, discharges = selectors.breakdown(access, filters, day, by)
    return Table(
        f"by-{heading.lower()}",
        f"By {heading.lower()} on {day:%d %b %Y}",
        [(heading, False), *_BREAKDOWN_COLUMNS],
        _breakdown_rows(census, discharges, by, names, link_for),
    )


def _councils(
    access: DashboardAccess, filters: Filters, options: Choices, day: dt.date, link: Link
) -> Table | None:
    """The day by council of residence; none once a council is chosen."""
    if filters.council:
        return None
    census, discharges = selectors.breakdown(access, filters, day, "council_id")
    return Table(
        "by-council",
        f"By council of residence on {day:%d %b %Y}",
        [("Council", False), *_BREAKDOWN_COLUMNS],
        _breakdown_rows(
            census,
            discharges,
            "council_id",
            [(c.pk, c.name) for c in options.councils],
            lambda pk: link(council=pk),
        ),
    )
