"""Shape the snapshot sums into the figures a page or an export shows (no queries here).

The daily frame is a pandas DataFrame with one row per day of the range and one column per
summed measure; averages and shares are worked out from its sums, never averaged again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from dashboards.metrics import METRICS, Metric
from dashboards.selectors import CENSUS_SUMS, DISCHARGE_SUMS, TRANSFER_SUMS

PATHWAYS = ("0", "1", "2", "3")

# DRD timeliness buckets: (column, label). They sum to the discharges.
DRD_BUCKETS: tuple[tuple[str, str], ...] = (
    ("drd_0", "Discharged on the DRD (0 days)"),
    ("drd_1", "1 day after"),
    ("drd_2_3", "2 to 3 days after"),
    ("drd_4_6", "4 to 6 days after"),
    ("drd_7_13", "7 to 13 days after"),
    ("drd_14_20", "14 to 20 days after"),
    ("drd_21_plus", "21 or more days after"),
    ("drd_none", "No DRD recorded"),
)

# Transfer-of-care outcomes: (column, label). They sum to the ended episodes.
OUTCOMES: tuple[tuple[str, str], ...] = (
    ("independent", "independent"),
    ("reduced_support", "reduced support"),
    ("long_term_care", "long-term care"),
    ("readmitted", "readmitted to hospital"),
    ("died", "died"),
)

# Every column of the daily frame: (column, label, the column counting the people behind it).
# The people column decides suppression of small numbers in exports.
DAILY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("occupied", "Occupied beds at midnight", "occupied"),
    ("admissions", "Admissions", "admissions"),
    ("discharges", "Discharges", "discharges"),
    *((f"pathway_{p}", f"Discharges on pathway {p}", f"pathway_{p}") for p in PATHWAYS),
    ("before_noon", "Discharges before noon", "before_noon"),
    ("nctr", "No longer meeting the criteria to reside", "nctr"),
    ("nctr_discharged", "NCTR, discharged", "nctr_discharged"),
    ("nctr_remaining", "NCTR, remaining in hospital", "nctr_remaining"),
    ("delayed_bed_days", "Delayed bed days", "delayed_bed_days"),
    ("los_7", "Length of stay 7+ days", "los_7"),
    ("los_14", "Length of stay 14+ days", "los_14"),
    ("los_21", "Length of stay 21+ days", "los_21"),
    ("los_7_days", "Bed days so far, 7+ day stays", "los_7"),
    ("los_14_days", "Bed days so far, 14+ day stays", "los_14"),
    ("los_21_days", "Bed days so far, 21+ day stays", "los_21"),
    *((column, f"DRD timeliness: {label}", column) for column, label in DRD_BUCKETS),
    ("delay_days", "Days from DRD to discharge (sum)", "nctr_discharged"),
    ("edd_set", "Discharges with an EDD", "edd_set"),
    ("edd_met", "Discharged on or before the EDD", "edd_met"),
    ("readmitted", "Emergency readmissions within 30 days", "readmitted"),
    ("days_away", "Days away from home (sum)", "discharges"),
    ("toc_transfers", "Transfers of care", "toc_transfers"),
    ("toc_started", "Transfers of care: service started", "toc_started"),
    ("toc_started_next_day", "Service started by the day after discharge", "toc_started_next_day"),
    ("toc_start_delay_days", "Days from discharge to service start (sum)", "toc_started"),
    ("toc_started_with_drd", "Service started, patient had a DRD", "toc_started_with_drd"),
    ("toc_drd_to_start_days", "Days from DRD to service start (sum)", "toc_started_with_drd"),
    ("toc_ended", "Transfers of care: episode ended", "toc_ended"),
    *(
        (f"toc_{outcome}", f"Episode outcome: {label}", f"toc_{outcome}")
        for outcome, label in OUTCOMES
    ),
    ("toc_at_home_91_checked", "91-day check recorded", "toc_at_home_91_checked"),
    ("toc_at_home_91", "Still at home 91 days after discharge", "toc_at_home_91"),
)


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from first to last, inclusive."""
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def daily_frame(
    *,
    first: dt.date,
    last: dt.date,
    census: Sequence[dict],
    discharges: Sequence[dict],
    admissions: Sequence[dict],
    transfers: Sequence[dict] = (),
) -> pd.DataFrame:
    """One row per day (no gaps) with every summed measure; pathway columns pivoted out.

    Transfer-of-care sums are prefixed ``toc_``: some share a name with a discharge sum.
    """
    index = pd.Index(days(first, last), name="day")
    frame = pd.DataFrame(index=index)
    if census:
        c = pd.DataFrame(census).set_index("day")[list(CENSUS_SUMS)]
        frame = frame.join(c.rename(columns={"nctr": "nctr_remaining"}))
    if discharges:
        d = pd.DataFrame(discharges)
        totals = d.groupby("day")[list(DISCHARGE_SUMS)].sum()
        frame = frame.join(totals.rename(columns={"nctr": "nctr_discharged"}))
        by_pathway = d.pivot_table(
            index="day", columns="pathway", values="discharges", aggfunc="sum"
        ).add_prefix("pathway_")
        frame = frame.join(by_pathway)
    if admissions:
        frame = frame.join(pd.DataFrame(admissions).set_index("day")[["admissions"]])
    if transfers:
        t = pd.DataFrame(transfers).set_index("day")[list(TRANSFER_SUMS)]
        frame = frame.join(t.add_prefix("toc_"))
    wanted = [column for column, _label, _people in DAILY_COLUMNS]
    frame = frame.reindex(columns=wanted).fillna(0).astype("int64")
    frame["nctr"] = frame["nctr_remaining"] + frame["nctr_discharged"]
    frame["delayed_bed_days"] = frame["nctr_remaining"]
    return frame


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


# --- The page's figures ----------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """A figure on the glance day against the day before and the same day a week before."""

    metric: Metric
    label: str
    value: int | None
    yesterday: int | None
    last_week: int | None

    @staticmethod
    def _change(now: int | None, then: int | None) -> int | None:
        return None if now is None or then is None else now - then

    @property
    def vs_yesterday(self) -> int | None:
        return self._change(self.value, self.yesterday)

    @property
    def vs_last_week(self) -> int | None:
        return self._change(self.value, self.last_week)


# (column of the daily frame, metric, label on the page)
HEADLINES = (
    ("occupied", "occupied", "occupied beds at midnight"),
    ("admissions", "admissions", "admissions"),
    ("discharges", "discharges", "discharges"),
    ("nctr", "nctr", "no longer met the criteria to reside"),
    ("nctr_discharged", "nctr_discharged", "of them discharged"),
    ("nctr_remaining", "nctr_remaining", "of them remaining in hospital"),
    ("los_21", "los_21", "in hospital 21+ days"),
)


def headlines(frame: pd.DataFrame, day: dt.date, *, admissions_apply: bool) -> list[Headline]:
    """The glance day's headline figures with yesterday and the same day last week."""

    def value(column: str, on: dt.date) -> int | None:
        if column == "admissions" and not admissions_apply:
            return None
        return int(frame.at[on, column]) if on in frame.index else None

    return [
        Headline(
            metric=METRICS[metric],
            label=label,
            value=value(column, day),
            yesterday=value(column, day - dt.timedelta(days=1)),
            last_week=value(column, day - dt.timedelta(days=7)),
        )
        for column, metric, label in HEADLINES
    ]


@dataclass(frozen=True)
class Cell:
    """One table cell: text, an optional link, and whether it is a number."""

    text: str
    url: str = ""
    numeric: bool = False


@dataclass
class Table:
    """A table of numbers, and the chart drawn from the same numbers (if any)."""

    key: str
    caption: str
    columns: list[tuple[str, bool]]  # (heading, numeric)
    rows: list[list[Cell]] = field(default_factory=list)
    chart: dict | None = None

    @property
    def body(self) -> list[tuple[Cell, list[Cell]]]:
        """Each row as its heading cell and the rest, for the template."""
        return [(row[0], row[1:]) for row in self.rows]

    @property
    def chart_id(self) -> str:
        """The id of the element holding the chart's numbers."""
        return f"chart-{self.key}"


NOTHING = "\u2013"  # an en dash: no figure


def number(value: float | int | None, places: int = 0) -> Cell:
    """A right-aligned number cell; an en dash when there is none."""
    if value is None:
        return Cell(NOTHING, numeric=True)
    return Cell(f"{value:,.{places}f}", numeric=True)


def percent(value: float | None) -> Cell:
    """A percentage cell from a fraction."""
    return Cell(NOTHING if value is None else f"{value:.1%}", numeric=True)


def trend_tables(frame: pd.DataFrame, first: dt.date, *, admissions_apply: bool) -> list[Table]:
    """The 90-day (or chosen range's) trend charts, each with its table."""
    shown = frame.loc[frame.index >= first]
    labels = [d.isoformat() for d in shown.index]

    def table(key: str, caption: str, chart_type: str, series: list[tuple[str, str]]) -> Table:
        values = {column: [int(v) for v in shown[column].tolist()] for column, _ in series}
        rows = [
            [Cell(f"{d:%a %d %b %Y}")] + [number(values[c][i]) for c, _ in series]
            for i, d in enumerate(shown.index)
        ]
        chart = {
            "type": chart_type,
            "labels": labels,
            "series": [{"label": label, "data": values[column]} for column, label in series],
        }
        return Table(
            key, caption, [("Day", False)] + [(lbl, True) for _, lbl in series], rows, chart
        )

    flow = [("discharges", "Discharges"), ("nctr_discharged", "NCTR, discharged")]
    if admissions_apply:
        flow.insert(0, ("admissions", "Admissions"))
    return [
        table("trend-flow", "Admissions and discharges per day", "line", flow),
        table(
            "trend-nctr",
            "No longer meeting the criteria to reside and long stays, at midnight",
            "line",
            [
                ("nctr_remaining", "NCTR, remaining in hospital"),
                ("los_7", "7+ days"),
                ("los_14", "14+ days"),
                ("los_21", "21+ days"),
            ],
        ),
        table("trend-beds", "Occupied beds at midnight", "line", [("occupied", "Occupied beds")]),
    ]


def pathway_mix(totals: pd.Series, expected: dict[str, float], link) -> Table:
    """Discharges by actual pathway against the expected shares."""
    total = int(totals.get("discharges", 0))
    rows, actual_shares, expected_shares = [], [], []
    for p in PATHWAYS:
        count = int(totals.get(f"pathway_{p}", 0))
        share = ratio(count, total)
        actual_shares.append(round(100 * share, 1) if share is not None else 0)
        expected_shares.append(round(100 * expected.get(p, 0), 1))
        rows.append(
            [
                Cell(f"Pathway {p}", url=link(pathway=p)),
                number(count),
                percent(share),
                percent(expected.get(p)),
            ]
        )
    rows.append([Cell("All pathways"), number(total), percent(1 if total else None), Cell("")])
    return Table(
        "pathway-mix",
        "Discharges by pathway against the expected shares",
        [("Pathway", False), ("Discharges", True), ("Share", True), ("Expected share", True)],
        rows,
        {
            "type": "bar",
            "labels": [f"Pathway {p}" for p in PATHWAYS],
            "series": [
                {"label": "Share of discharges (%)", "data": actual_shares},
                {"label": "Expected share (%)", "data": expected_shares},
            ],
        },
    )


def timeliness(totals: pd.Series) -> tuple[Table, dict]:
    """DRD timeliness buckets over the range, and the two average delays."""
    total = int(totals.get("discharges", 0))
    rows, data = [], []
    for column, label in DRD_BUCKETS:
        count = int(totals.get(column, 0))
        data.append(count)
        rows.append([Cell(label), number(count), percent(ratio(count, total))])
    rows.append([Cell("All discharges"), number(total), percent(1 if total else None)])
    with_drd = int(totals.get("nctr_discharged", 0))
    delayed = with_drd - int(totals.get("drd_0", 0))
    delay_days = int(totals.get("delay_days", 0))
    averages = {
        "mean_delay": ratio(delay_days, with_drd),
        "mean_delay_delayed": ratio(delay_days, delayed),
        "delay_days": delay_days,
        "with_drd": with_drd,
        "delayed": delayed,
    }
    table = Table(
        "drd-timeliness",
        "Discharges by days from discharge ready date to discharge",
        [("Days from DRD to discharge", False), ("Discharges", True), ("Share", True)],
        rows,
        {
            "type": "bar",
            "labels": [label for _, label in DRD_BUCKETS],
            "series": [{"label": "Discharges", "data": data}],
        },
    )
    return table, averages


def delay_reasons(rows: Iterable[dict], names: dict, day: dt.date, top: int = 10) -> Table:
    """Delay reasons ranked by delayed bed days over the range, with the glance day's patients."""
    table_rows, labels, data = [], [], []
    for row in rows:
        reason = names.get(row["reason"])
        text = reason.reason if reason else "Not recorded"
        family = row["family"] or "Not recorded"
        table_rows.append(
            [
                Cell(f"{row['reason']} {text}" if row["reason"] else text),
                Cell(family),
                number(row["bed_days"]),
                number(row["on_day"] or 0),
            ]
        )
        if len(labels) < top:
            labels.append(row["reason"] or "Not recorded")
            data.append(row["bed_days"])
    return Table(
        "delay-reasons",
        "Delay reasons ranked by delayed bed days",
        [
            ("Reason", False),
            ("Family", False),
            ("Delayed bed days in the range", True),
            (f"Patients delayed at midnight on {day:%d %b}", True),
        ],
        table_rows,
        {"type": "bar", "labels": labels, "series": [{"label": "Delayed bed days", "data": data}]},
    )


def delay_families(rows: Iterable[dict]) -> Table:
    """Delayed bed days by reason family over the range."""
    families: dict[str, int] = {}
    for row in rows:
        family = row["family"] or "Not recorded"
        families[family] = families.get(family, 0) + row["bed_days"]
    ranked = sorted(families.items(), key=lambda item: -item[1])
    return Table(
        "delay-families",
        "Delayed bed days by reason family",
        [("Family", False), ("Delayed bed days", True)],
        [[Cell(family), number(total)] for family, total in ranked],
    )


def long_stays(frame: pd.DataFrame, day: dt.date) -> Table:
    """The glance day's long stays and the bed days they have used so far."""
    rows = []
    for threshold in (7, 14, 21):
        count = int(frame.at[day, f"los_{threshold}"]) if day in frame.index else 0
        bed_days = int(frame.at[day, f"los_{threshold}_days"]) if day in frame.index else 0
        rows.append(
            [
                Cell(f"{threshold}+ days"),
                number(count),
                number(bed_days),
                number(ratio(bed_days, count), 1),
            ]
        )
    return Table(
        "long-stays",
        f"Long stays at midnight on {day:%d %b %Y}",
        [
            ("Length of stay", False),
            ("Patients", True),
            ("Bed days so far", True),
            ("Average length of stay (days)", True),
        ],
        rows,
    )


def discharge_quality(frame: pd.DataFrame, totals: pd.Series) -> Table:
    """Before noon, weekends, EDD, readmissions and days away over the range."""
    total = int(totals.get("discharges", 0))
    weekend = [d.weekday() >= 5 for d in frame.index]
    weekend_days = sum(weekend)
    weekdays = len(weekend) - weekend_days
    weekend_total = int(frame.loc[weekend, "discharges"].sum())
    weekday_total = total - weekend_total
    edd_set = int(totals.get("edd_set", 0))
    rows = [
        ("before_noon", "Discharges before noon", int(totals.get("before_noon", 0)), total),
        ("weekend", "Discharges at weekends", weekend_total, total),
        ("edd_accuracy", "Left on or before the EDD", int(totals.get("edd_met", 0)), edd_set),
        ("readmissions", "Emergency readmissions within 30 days", int(totals.get("readmitted", 0)), total),
    ]  # fmt: skip
    table_rows = [
        [Cell(METRICS[key].label), number(count), number(of), percent(ratio(count, of))]
        for key, _label, count, of in rows
    ]
    table_rows.append(
        [
            Cell("Average discharges per weekend day / per weekday"),
            number(ratio(weekend_total, weekend_days), 1),
            number(ratio(weekday_total, weekdays), 1),
            percent(ratio(ratio(weekend_total, weekend_days) or 0, ratio(weekday_total, weekdays))),
        ]
    )
    return Table(
        "discharge-quality",
        "How and when people left",
        [("Figure", False), ("Count", True), ("Out of", True), ("Share", True)],
        table_rows,
    )


def days_away(by_pathway: dict[str, tuple[int, int]]) -> Table:
    """Average days away from home by pathway: (days, discharges) per pathway."""
    rows = []
    all_days = sum(d for d, _ in by_pathway.values())
    all_count = sum(n for _, n in by_pathway.values())
    for p in PATHWAYS:
        total, count = by_pathway.get(p, (0, 0))
        rows.append([Cell(f"Pathway {p}"), number(count), number(ratio(total, count), 1)])
    rows.append([Cell("All pathways"), number(all_count), number(ratio(all_days, all_count), 1)])
    return Table(
        "days-away",
        "Days away from home",
        [("Pathway", False), ("Discharges", True), ("Average days away", True)],
        rows,
    )


def transfers_of_care(rows: Sequence[dict], kinds: dict[str, str]) -> Table:
    """Transfers by pathway and kind of service: how soon services started, and the 91-day check."""

    def row(label: str, t: dict) -> list[Cell]:
        return [
            Cell(label),
            number(t["transfers"]),
            number(t["started"]),
            percent(ratio(t["started_next_day"], t["transfers"])),
            number(ratio(t["start_delay_days"], t["started"]), 1),
            number(ratio(t["drd_to_start_days"], t["started_with_drd"]), 1),
            number(t["ended"]),
            number(t["at_home_91_checked"]),
            percent(ratio(t["at_home_91"], t["at_home_91_checked"])),
        ]

    labels = [f"Pathway {r['pathway']}: {kinds.get(r['kind'], r['kind'])}" for r in rows]
    total = {key: sum(r[key] for r in rows) for key in TRANSFER_SUMS}
    table_rows = [row(label, r) for label, r in zip(labels, rows, strict=True)]
    if rows:
        table_rows.append(row("All transfers of care", total))
    days = [ratio(r["drd_to_start_days"], r["started_with_drd"]) for r in rows]
    return Table(
        "transfers",
        "Transfers of care of the people discharged in the range",
        [
            ("Pathway and service", False),
            ("Transfers", True),
            ("Service started", True),
            ("Started by the day after discharge", True),
            ("Average days from discharge to start", True),
            ("Average days from DRD to start", True),
            ("Episodes ended", True),
            ("91-day checks recorded", True),
            ("Still at home at 91 days", True),
        ],
        table_rows,
        {
            "type": "bar",
            "labels": labels,
            "series": [
                {
                    "label": "Average days from DRD to service start",
                    "data": [round(d, 1) if d is not None else 0 for d in days],
                }
            ],
        },
    )


def outcomes(rows: Sequence[dict]) -> Table:
    """Ended episodes by outcome over the range."""
    ended = sum(r["ended"] for r in rows)
    counts = [sum(r[column] for r in rows) for column, _label in OUTCOMES]
    table_rows = [
        [Cell(label.capitalize()), number(count), percent(ratio(count, ended))]
        for (_column, label), count in zip(OUTCOMES, counts, strict=True)
    ]
    table_rows.append([Cell("All ended episodes"), number(ended), percent(1 if ended else None)])
    return Table(
        "outcomes",
        "Outcomes of the ended episodes of care after discharge",
        [("Outcome", False), ("Episodes", True), ("Share", True)],
        table_rows,
        {
            "type": "bar",
            "labels": [label.capitalize() for _column, label in OUTCOMES],
            "series": [{"label": "Episodes", "data": counts}],
        },
    )
