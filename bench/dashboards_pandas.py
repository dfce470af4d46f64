"""The analyst's way today: export the ward's records to CSV, then compute the daily figures in pandas.

Used by bench/flow_dashboards.py; the same definitions as docs/metrics.md, written for pandas.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd

TABLES = {
    "admissions": (
        "SELECT id, patient_id, status, method, admitted_at, discharged_at, actual_pathway_id,"
        " discharge_ready_date, expected_discharge_date FROM discharge_admission"
    ),
    "ward_stays": "SELECT admission_id, started_at, ended_at FROM discharge_wardstay",
    "drd_changes": (
        "SELECT id, admission_id, discharge_ready_date, changed_at"
        " FROM discharge_dischargereadydatechange"
    ),
    "delays": "SELECT id, admission_id, reason_id, started_at, ended_at FROM discharge_delayepisode",
    "referrals": (
        "SELECT r.admission_id, r.pathway_id, r.state, r.first_visit_at, r.outcome,"
        " r.outcome_recorded_at, r.at_home_91_days, s.kind"
        " FROM pathways_referral r LEFT JOIN pathways_service s ON s.id = r.service_id"
    ),
}


def export_csv(connection, folder: Path) -> None:
    """What an analyst is sent: one CSV file per table (COPY ... TO STDOUT WITH CSV HEADER)."""
    raw = connection.connection  # psycopg 3
    for name, sql in TABLES.items():
        buffer = io.BytesIO()
        with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH CSV HEADER") as copy:
            for block in copy:
                buffer.write(block)
        (folder / f"{name}.csv").write_bytes(buffer.getvalue())


def _local(series: pd.Series, tz: str) -> pd.Series:
    return pd.to_datetime(series, utc=True, format="ISO8601").dt.tz_convert(tz)


def _date(series: pd.Series) -> pd.Series:
    """Local timestamps to dates as numpy datetime64[D] (NaT kept)."""
    return series.dt.tz_localize(None).dt.floor("D")


def daily_figures(folder: Path, *, first: dt.date, last: dt.date, tz: str) -> pd.DataFrame:
    """The figures per day (rows) and name (columns), from the CSV files alone."""
    one_us = pd.Timedelta(microseconds=1)
    d0, d1 = pd.Timestamp(first), pd.Timestamp(last)
    adm = pd.read_csv(folder / "admissions.csv", dtype={"actual_pathway_id": "string"})
    adm["admitted"] = _local(adm["admitted_at"], tz)
    adm["discharged"] = _local(adm["discharged_at"], tz)
    adm["admit_day"] = _date(adm["admitted"])
    live = adm[adm["status"] != "cancelled"]

    # Nights: each ward stay covers the days whose ending midnight falls inside it.
    stays = pd.read_csv(folder / "ward_stays.csv")
    stays = stays[stays["admission_id"].isin(live["id"])]
    lo = _date(_local(stays["started_at"], tz) - one_us).clip(lower=d0)
    hi = (
        (_date(_local(stays["ended_at"], tz) - one_us) - pd.Timedelta(days=1))
        .fillna(d1)
        .clip(upper=d1)
    )
    length = ((hi - lo).dt.days + 1).clip(lower=0).to_numpy()
    starts = np.repeat(lo.to_numpy(), length)
    offsets = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    nights = pd.DataFrame(
        {
            "admission_id": np.repeat(stays["admission_id"].to_numpy(), length),
            "day": starts + offsets.astype("timedelta64[D]"),
        }
    )
    nights = nights.merge(live[["id", "admit_day"]], left_on="admission_id", right_on="id")
    nights["los"] = (nights["day"] - nights["admit_day"]).dt.days

    # NCTR: the DRD runs, each up to the day before the change that clears it.
    drd = pd.read_csv(folder / "drd_changes.csv").sort_values(["admission_id", "changed_at", "id"])
    drd["cleared"] = _date(_local(drd.groupby("admission_id")["changed_at"].shift(-1), tz))
    drd["drd"] = pd.to_datetime(drd["discharge_ready_date"])
    runs = drd.dropna(subset=["drd"])[["admission_id", "drd", "cleared"]]
    matched = nights[["admission_id", "day"]].merge(runs, on="admission_id")
    covered = (matched["drd"] <= matched["day"]) & (
        matched["cleared"].isna() | (matched["cleared"] > matched["day"])
    )
    nctr = matched.loc[covered, ["admission_id", "day"]].drop_duplicates().assign(nctr=True)
    nights = nights.merge(nctr, on=["admission_id", "day"], how="left")
    nights["nctr"] = nights["nctr"].fillna(False).astype(bool)

    figures: dict[str, pd.Series] = {}
    by_day = nights.groupby("day")
    figures["occupied"] = by_day.size()
    figures["nctr_remaining"] = by_day["nctr"].sum()
    for threshold in (7, 14, 21):
        long = nights["los"] >= threshold
        figures[f"los_{threshold}"] = long.groupby(nights["day"]).sum()
        figures[f"los_{threshold}_days"] = nights["los"].where(long, 0).groupby(nights["day"]).sum()

    # Delay reason open at the midnight ending the day.
    waiting = nights.loc[nights["nctr"], ["admission_id", "day"]].reset_index(drop=True)
    waiting["midnight"] = (waiting["day"] + pd.Timedelta(days=1)).dt.tz_localize(
        tz, ambiguous=False, nonexistent="shift_forward"
    )
    episodes = pd.read_csv(folder / "delays.csv")
    episodes["started"] = _local(episodes["started_at"], tz)
    episodes["ended"] = _local(episodes["ended_at"], tz)
    # A reason holds until its episode ends or the next episode of the stay starts.
    episodes = episodes.sort_values(["admission_id", "started", "id"])
    following = episodes.groupby("admission_id")["started"].shift(-1)
    episodes["until"] = episodes["ended"].where(
        following.isna() | (episodes["ended"].notna() & (episodes["ended"] <= following)),
        following,
    )
    open_at = waiting.reset_index().merge(episodes, on="admission_id")
    open_at = open_at[
        (open_at["started"] <= open_at["midnight"])
        & (open_at["until"].isna() | (open_at["until"] > open_at["midnight"]))
    ]
    reason = open_at.groupby("index")["reason_id"].last()
    waiting["reason"] = reason.reindex(waiting.index).fillna("")
    for code, series in waiting.groupby("reason")["day"]:
        figures[f"delay:{code}"] = series.value_counts()

    # Discharges.
    gone = adm[(adm["status"] == "discharged")].copy()
    gone["day"] = _date(gone["discharged"])
    gone = gone[(gone["day"] >= d0) & (gone["day"] <= d1)]
    gone["drd"] = pd.to_datetime(gone["discharge_ready_date"])
    gone["edd"] = pd.to_datetime(gone["expected_discharge_date"])
    gone["delay"] = (gone["day"] - gone["drd"]).dt.days.clip(lower=0)
    emergencies = live[live["method"] == "emergency"][["id", "patient_id", "admitted", "admit_day"]]
    pairs = gone[["id", "patient_id", "discharged", "day"]].merge(
        emergencies, on="patient_id", suffixes=("", "_next")
    )
    back = pairs[
        (pairs["id_next"] != pairs["id"])
        & (pairs["admitted"] >= pairs["discharged"])
        & (pairs["admit_day"] <= pairs["day"] + pd.Timedelta(days=30))
    ]
    gone["readmitted"] = gone["id"].isin(back["id"])
    gone["before_noon"] = gone["discharged"].dt.hour < 12
    day = gone["day"]
    figures["discharges"] = day.value_counts()
    figures["before_noon"] = gone["before_noon"].groupby(day).sum()
    figures["nctr_discharged"] = gone["drd"].notna().groupby(day).sum()
    for p in "0123":
        figures[f"pathway_{p}"] = (gone["actual_pathway_id"] == p).fillna(False).groupby(day).sum()
    buckets = {
        "drd_0": (0, 0), "drd_1": (1, 1), "drd_2_3": (2, 3), "drd_4_6": (4, 6),
        "drd_7_13": (7, 13), "drd_14_20": (14, 20), "drd_21_plus": (21, 10**6),
    }  # fmt: skip
    for name, (low, high) in buckets.items():
        figures[name] = gone["delay"].between(low, high).groupby(day).sum()
    figures["drd_none"] = gone["drd"].isna().groupby(day).sum()
    figures["delay_days"] = gone["delay"].fillna(0).groupby(day).sum()
    figures["edd_set"] = gone["edd"].notna().groupby(day).sum()
    figures["edd_met"] = (gone["day"] <= gone["edd"]).groupby(day).sum()
    figures["readmitted"] = gone["readmitted"].groupby(day).sum()
    # Days away run to the end of a pathway 2 bed stay after hospital, if later.
    referrals = pd.read_csv(folder / "referrals.csv", dtype={"pathway_id": "string"})
    beds = referrals[
        (referrals["state"] == "ended")
        & (referrals["pathway_id"] == "2")
        & (referrals["kind"] == "intermediate_care_bed")
    ]
    bed_end = _date(_local(beds["outcome_recorded_at"], tz)).groupby(beds["admission_id"]).max()
    home = gone["id"].map(bed_end).where(lambda d: d > gone["day"], gone["day"])
    figures["days_away"] = (home - gone["admit_day"]).dt.days.groupby(day).sum()

    # Transfers of care, counted on the day the person left hospital.
    toc = referrals[referrals["state"].isin(["discharged", "started", "ended"])].merge(
        gone[["id", "day", "drd"]], left_on="admission_id", right_on="id"
    )
    start = _date(_local(toc["first_visit_at"], tz))
    after = (start - toc["day"]).dt.days
    from_drd = (start - toc["drd"]).dt.days
    at_home = toc["at_home_91_days"].map({True: True, False: False, "t": True, "f": False})
    toc_day = toc["day"]
    figures["toc_transfers"] = toc_day.value_counts()
    figures["toc_started"] = start.notna().groupby(toc_day).sum()
    figures["toc_started_next_day"] = (after <= 1).groupby(toc_day).sum()
    figures["toc_start_delay_days"] = after.clip(lower=0).fillna(0).groupby(toc_day).sum()
    figures["toc_started_with_drd"] = (start.notna() & toc["drd"].notna()).groupby(toc_day).sum()
    figures["toc_drd_to_start_days"] = from_drd.clip(lower=0).fillna(0).groupby(toc_day).sum()
    figures["toc_ended"] = (toc["state"] == "ended").groupby(toc_day).sum()
    for outcome in ("independent", "reduced_support", "long_term_care", "readmitted", "died"):
        figures[f"toc_{outcome}"] = (toc["outcome"] == outcome).groupby(toc_day).sum()
    figures["toc_at_home_91_checked"] = at_home.notna().groupby(toc_day).sum()
    figures["toc_at_home_91"] = (at_home == True).groupby(toc_day).sum()  # noqa: E712

    arrived = live[(live["admit_day"] >= d0) & (live["admit_day"] <= d1)]
    figures["admissions"] = arrived["admit_day"].value_counts()

    frame = pd.DataFrame(figures).fillna(0).astype("int64")
    frame.index = pd.to_datetime(frame.index).date
    return frame
