"""CSV and Excel exports of a view, NHS England's sitrep long format and the monthly DRD table.

Small numbers: an export leaves the system, so unless the exporting user may already see
the patients behind the figures by name (see ``DashboardAccess.small_numbers``), every cell
that rests on 1 to 4 people is shown as "<5": a count of 1 to 4, and a sum or an average
taken over 1 to 4 people. Zero stays zero.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping

import pandas as pd
from django.utils import timezone

from dashboards import figures, selectors
from dashboards.figures import DAILY_COLUMNS, DRD_BUCKETS, PATHWAYS
from dashboards.metrics import METRICS
from dashboards.selectors import DashboardAccess, Filters

SUPPRESSED = "<5"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SITREP_COLUMNS = ["Period", "Org Code", "Org Name", "Metric", "Metric Group", "Value"]


def suppress(frame: pd.DataFrame, people: Mapping[str, str]) -> pd.DataFrame:
    """Replace each cell whose people column holds 1 to 4 with "<5" (columns named in ``people``)."""
    out = frame.astype(object)
    for column, basis in people.items():
        small = frame[basis].between(1, 4)
        out.loc[small, column] = SUPPRESSED
    return out


def write(sheets: dict[str, pd.DataFrame], fmt: str) -> bytes:
    """The first sheet as CSV, or every sheet in one Excel workbook."""
    if fmt == "csv":
        return next(iter(sheets.values())).to_csv(index=False).encode("utf-8")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


def _about(title: str, filters: Filters, access: DashboardAccess) -> pd.DataFrame:
    note = (
        "All counts shown."
        if access.small_numbers
        else 'Counts of 1 to 4, and sums or averages over 1 to 4 people, are shown as "<5".'
    )
    return pd.DataFrame(
        [
            ("View", title),
            ("From", filters.start.isoformat()),
            ("To", filters.end.isoformat()),
            ("Exported at", timezone.localtime().strftime("%Y-%m-%d %H:%M")),
            ("Small numbers", note),
        ],
        columns=["", "Value"],
    )


def _definitions() -> pd.DataFrame:
    return pd.DataFrame(
        [(m.label, m.group, m.definition) for m in METRICS.values()],
        columns=["Figure", "Group", "Definition"],
    )


def daily_table(frame: pd.DataFrame, *, small_numbers: bool) -> pd.DataFrame:
    """The daily frame with printed headings, small numbers suppressed unless allowed."""
    out = frame[[c for c, _label, _people in DAILY_COLUMNS]]
    if not small_numbers:
        out = suppress(out, {c: people for c, _label, people in DAILY_COLUMNS})
    out = out.rename(columns={c: label for c, label, _people in DAILY_COLUMNS})
    out.insert(0, "Day", [d.isoformat() for d in frame.index])
    return out.reset_index(drop=True)


def view_export(access: DashboardAccess, filters: Filters, *, fmt: str, title: str) -> bytes:
    """The view's daily figures; in Excel also its reasons, timeliness, pathways and definitions."""
    first, last = filters.start, filters.end
    frame = figures.daily_frame(
        first=first,
        last=last,
        census=selectors.census_by_day(access, filters, first, last),
        discharges=selectors.discharges_by_day(access, filters, first, last),
        admissions=selectors.admissions_by_day(access, filters, first, last),
        transfers=selectors.transfers_by_day(access, filters, first, last),
    )
    sheets = {"Daily figures": daily_table(frame, small_numbers=access.small_numbers)}
    if fmt == "xlsx":
        totals = frame.sum()
        sheets["Delay reasons"] = _reasons(access, filters)
        sheets["DRD timeliness"] = _buckets(totals, small_numbers=access.small_numbers)
        sheets["Pathway mix"] = _pathways(totals, small_numbers=access.small_numbers)
        sheets["Definitions"] = _definitions()
        sheets["About"] = _about(title, filters, access)
    return write(sheets, fmt)


def _reasons(access: DashboardAccess, filters: Filters) -> pd.DataFrame:
    names = selectors.delay_reason_names()
    rows = selectors.delays_by_reason(access, filters, filters.end)
    frame = pd.DataFrame(
        [
            (
                r["reason"] or "",
                names[r["reason"]].reason if r["reason"] in names else "Not recorded",
                r["family"] or "Not recorded",
                r["bed_days"],
            )
            for r in rows
        ],
        columns=["Code", "Reason", "Family", "Delayed bed days"],
    )
    if not access.small_numbers:
        frame = suppress(frame, {"Delayed bed days": "Delayed bed days"})
    return frame


def _buckets(totals: pd.Series, *, small_numbers: bool) -> pd.DataFrame:
    frame = pd.DataFrame(
        [(label, int(totals.get(column, 0))) for column, label in DRD_BUCKETS],
        columns=["Days from DRD to discharge", "Discharges"],
    )
    return frame if small_numbers else suppress(frame, {"Discharges": "Discharges"})


def _pathways(totals: pd.Series, *, small_numbers: bool) -> pd.DataFrame:
    expected = selectors.expected_shares()
    frame = pd.DataFrame(
        [(f"Pathway {p}", int(totals.get(f"pathway_{p}", 0)), expected.get(p)) for p in PATHWAYS],
        columns=["Pathway", "Discharges", "Expected share"],
    )
    return frame if small_numbers else suppress(frame, {"Discharges": "Discharges"})


# --- The sitrep return ------------------------------------------------------------------------


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


def sitrep_table(access: DashboardAccess, filters: Filters, day: dt.date) -> pd.DataFrame:
    """The day's figures in long format: one row per trust and metric."""
    rows = selectors.sitrep_rows(access, filters, day)
    org = "site__organisation_id"
    census = {r[org]: r for r in rows["census"]}
    discharges: dict[int, dict] = {}
    by_pathway: dict[int, dict[str, int]] = {}
    for r in rows["discharges"]:
        totals = discharges.setdefault(r[org], dict.fromkeys(selectors.DISCHARGE_SUMS, 0))
        for key in selectors.DISCHARGE_SUMS:
            totals[key] += r[key]
        by_pathway.setdefault(r[org], {})[r["pathway"]] = r["discharges"]
    delays: dict[int, list[dict]] = {}
    for r in rows["delays"]:
        delays.setdefault(r[org], []).append(r)
    names = selectors.delay_reason_names()
    organisations = selectors.trusts(set(census) | set(discharges) | set(delays))

    long: list[tuple] = []  # (org id, metric, group, value, people)
    for org_id in sorted(organisations, key=lambda pk: organisations[pk].ods_code):
        c = census.get(org_id, dict.fromkeys(selectors.CENSUS_SUMS, 0))
        d = discharges.get(org_id, dict.fromkeys(selectors.DISCHARGE_SUMS, 0))
        nctr_total = c["nctr"] + d["nctr"]

        def add(metric: str, group: str, value, people: int, org_id: int = org_id) -> None:
            long.append((org_id, metric, group, value, people))

        add(METRICS["occupied"].label, "Beds", c["occupied"], c["occupied"])
        add(METRICS["nctr"].label, "Criteria to reside", nctr_total, nctr_total)
        add(METRICS["nctr_discharged"].label, "Criteria to reside", d["nctr"], d["nctr"])
        add(METRICS["nctr_remaining"].label, "Criteria to reside", c["nctr"], c["nctr"])
        add(METRICS["delayed_bed_days"].label, "Criteria to reside", c["nctr"], c["nctr"])
        add(METRICS["discharges"].label, "Discharges", d["discharges"], d["discharges"])
        for p in PATHWAYS:
            count = by_pathway.get(org_id, {}).get(p, 0)
            add(f"Pathway {p}", "Discharges by pathway", count, count)
        for threshold in (7, 14, 21):
            count = c[f"los_{threshold}"]
            add(METRICS[f"los_{threshold}"].label, "Length of stay", count, count)
        for r in sorted(delays.get(org_id, []), key=lambda r: r["reason"] or "ZZZ"):
            reason = names.get(r["reason"])
            metric = f"{reason.code} {reason.reason}" if reason else "Not recorded"
            add(
                metric,
                f"Reason for delay: {r['family'] or 'Not recorded'}",
                r["patients"],
                r["patients"],
            )
        for column, label in DRD_BUCKETS:
            add(label, "Days from discharge ready date to discharge", d[column], d[column])
        delayed = d["nctr"] - d["drd_0"]
        add(
            METRICS["mean_delay"].name,
            "Days from discharge ready date to discharge",
            _mean(d["delay_days"], d["nctr"]),
            d["nctr"],
        )
        add(
            METRICS["mean_delay_delayed"].name,
            "Days from discharge ready date to discharge",
            _mean(d["delay_days"], delayed),
            delayed,
        )
    frame = pd.DataFrame(long, columns=["org", "Metric", "Metric Group", "Value", "people"])
    # Counts stay whole numbers beside the averages: no float column turning 12 into 12.0.
    frame["Value"] = pd.Series([v for _o, _m, _g, v, _p in long], dtype=object)
    frame["people"] = frame["people"].astype("int64")
    frame.insert(0, "Period", day.isoformat())
    frame.insert(1, "Org Code", frame["org"].map(lambda pk: organisations[pk].ods_code))
    frame.insert(2, "Org Name", frame["org"].map(lambda pk: organisations[pk].name))
    if not access.small_numbers:
        frame = suppress(frame, {"Value": "people"})
    return frame[SITREP_COLUMNS]


def sitrep_export(access: DashboardAccess, filters: Filters, *, fmt: str) -> bytes:
    """The sitrep for the view's last day."""
    return write({"Sitrep": sitrep_table(access, filters, filters.end)}, fmt)


# --- Monthly DRD timeliness -------------------------------------------------------------------


def drd_monthly_table(access: DashboardAccess, filters: Filters) -> pd.DataFrame:
    """One row per calendar month: the timeliness buckets and the average delays."""
    records = []
    for r in selectors.drd_by_month(access, filters):
        delayed = r["nctr"] - r["drd_0"]
        records.append(
            {
                "Month": r["month"].strftime("%Y-%m"),
                "Discharges": r["discharges"],
                "With a DRD": r["nctr"],
                **{label: r[column] for column, label in DRD_BUCKETS},
                "Days from DRD to discharge": r["delay_days"],
                "Average days, including 0 day delays": _mean(r["delay_days"], r["nctr"]),
                "Average days, excluding 0 day delays": _mean(r["delay_days"], delayed),
                "_delayed": delayed,
            }
        )
    columns = [
        "Month",
        "Discharges",
        "With a DRD",
        *(label for _, label in DRD_BUCKETS),
        "Days from DRD to discharge",
        "Average days, including 0 day delays",
        "Average days, excluding 0 day delays",
        "_delayed",
    ]
    frame = pd.DataFrame(records, columns=columns)
    if not access.small_numbers:
        people = {c: c for c in columns[1:-4]}
        people["Days from DRD to discharge"] = "With a DRD"
        people["Average days, including 0 day delays"] = "With a DRD"
        people["Average days, excluding 0 day delays"] = "_delayed"
        frame = suppress(frame, people)
    return frame.drop(columns="_delayed")


def drd_monthly_export(access: DashboardAccess, filters: Filters, *, fmt: str) -> bytes:
    """The monthly DRD timeliness table."""
    return write({"DRD timeliness by month": drd_monthly_table(access, filters)}, fmt)
