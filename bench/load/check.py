"""After a load run: did the database keep every save the clients were told was saved?

Reads the edit log the load clients wrote (one JSON line per save: what, the version it
started from, the HTTP status) and checks, against the rows and the audit history
(django-pghistory's event tables):

- every answer to a save was 2xx or 409 (no 5xx, no other error);
- board edits (criteria-to-reside review, expected date of discharge), which carry the
  admission's version: each accepted save is the audit event that moved the admission from
  the version it sent to the next, by its sender, with its value (and its review row, or its
  EDD change row); no two accepted saves started from the same version (no lost update); the
  row holds the last accepted value of each field; every audited change by a load user in the
  run is an accepted save; each 409 started from a version someone else's accepted save had
  already moved on, and saved nothing;
- plan edits (section text, goals), which merge with others' edits to other fields: each
  accepted value is in the audit history, by its sender; per field, the history since the run
  began holds only accepted values, each once and in a sequence (a value never comes back
  after a later one: nothing was overwritten unseen, including fields the save did not
  change), and the row holds the last; a rejected value is nowhere in the history.

    DATABASE_URL=... .venv/bin/python bench/load/check.py --log /tmp/load/edits.jsonl \\
        [--locust-csv /tmp/load/locust]

Exit status 0 when everything holds. ``--locust-csv`` also reports the failures locust saw
across every request (page loads and polls as well as saves).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homefirst.settings.local")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402

from discharge.models import Admission, CtrReview, ExpectedDischargeDateChange  # noqa: E402
from homefirst.models import User  # noqa: E402
from recovery_plans.models import Goal, PlanSection  # noqa: E402

GOAL_FIELDS = ("description", "measure", "target_date", "status")


@dataclass
class Report:
    """What was checked and every problem found."""

    counts: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        self.problems.append(text)

    @property
    def ok(self) -> bool:
        return not self.problems


def _load(path: Path) -> tuple[list[dict], dt.datetime]:
    """The saves, and when the run began (its marker, or a minute before the first save)."""
    with path.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    edits = [r for r in records if "kind" in r]
    starts = [r["at"] for r in records if r.get("event") == "run starts"]
    if starts:
        since = dt.datetime.fromisoformat(starts[-1])
    elif edits:
        since = min(dt.datetime.fromisoformat(e["at"]) for e in edits) - dt.timedelta(minutes=1)
    else:
        since = dt.datetime.now(dt.UTC)
    return edits, since


def _accepted(edit: dict) -> bool:
    return 200 <= edit["status"] < 300


def _user_of(event: dict) -> int | None:
    metadata = event.get("pgh_context__metadata") or {}
    return metadata.get("user")


# --- Board edits ------------------------------------------------------------------------------


def check_board(edits: list[dict], users: dict[str, int], since: dt.datetime, report: Report):
    """Versioned edits of admissions: one accepted save per version, each audited and kept."""
    AdmissionEvent = apps.get_model("discharge", "AdmissionEvent")
    by_admission: dict[int, list[dict]] = defaultdict(list)
    for edit in edits:
        by_admission[edit["entity"]["id"]].append(edit)
    events: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for event in AdmissionEvent.objects.filter(pgh_obj_id__in=by_admission).values(
        "pgh_id",
        "pgh_obj_id",
        "pgh_created_at",
        "version",
        "expected_discharge_date",
        "latest_review_id",
        "pgh_context__metadata",
    ):
        events[(event["pgh_obj_id"], event["version"])].append(event)
    rows = Admission.objects.in_bulk(list(by_admission))
    reviews = {
        r.pk: r
        for r in CtrReview.objects.filter(
            admission_id__in=by_admission, reviewed_at__gte=since
        ).prefetch_related("criteria")
    }
    notes = Counter(r.note for r in reviews.values())
    load_user_ids = set(users.values())

    for admission_id, mine in by_admission.items():
        accepted = []
        for edit in (e for e in mine if _accepted(e)):
            # An EDD saved as the date it already was changes nothing (edd_set returns early):
            # no new version and no audit event. It happens when a colleague picked the same
            # date first and the save was resent after the 409.
            at_version = events.get((admission_id, edit["version"]), [])
            if (
                edit["kind"] == "edd"
                and len(at_version) == 1
                and str(at_version[0]["expected_discharge_date"]) == edit["value"]
            ):
                report.counts["edd accepted, already that date (no change)"] += 1
            else:
                accepted.append(edit)
        versions = Counter(e["version"] for e in accepted)
        for version, n in versions.items():
            if n > 1:
                report.problem(
                    f"admission {admission_id}: {n} saves accepted from version {version} (lost update)"
                )
        last: dict[str, dict] = {}
        for edit in sorted(accepted, key=lambda e: e["version"]):
            report.counts[f"{edit['kind']} accepted (changed the row)"] += 1
            after = events.get((admission_id, edit["version"] + 1), [])
            if len(after) != 1:
                report.problem(
                    f"admission {admission_id}: {len(after)} audit events at version "
                    f"{edit['version'] + 1} for {edit['user']}'s accepted {edit['kind']}"
                )
                continue
            event = after[0]
            if _user_of(event) != users[edit["user"]]:
                report.problem(
                    f"admission {admission_id} v{event['version']}: audited as user "
                    f"{_user_of(event)}, saved by {edit['user']}"
                )
            if edit["kind"] == "edd":
                if str(event["expected_discharge_date"]) != edit["value"]:
                    report.problem(
                        f"admission {admission_id} v{event['version']}: EDD "
                        f"{event['expected_discharge_date']} in the history, {edit['value']} sent"
                    )
                elif not ExpectedDischargeDateChange.objects.filter(
                    admission_id=admission_id,
                    expected_discharge_date=edit["value"],
                    changed_by_id=users[edit["user"]],
                    changed_at__gte=since,
                ).exists():
                    report.problem(f"admission {admission_id}: no EDD change row for {edit}")
                else:
                    report.counts["edd audited"] += 1
            else:
                review = reviews.get(event["latest_review_id"])
                value = edit["value"]
                if review is None or review.note != value["note"]:
                    report.problem(
                        f"admission {admission_id} v{event['version']}: latest review is not "
                        f"the one {edit['user']} sent ({value['note']!r})"
                    )
                elif (
                    sorted(c.code for c in review.criteria.all()) != value["criteria"]
                    or review.exception_reason != value["exception_reason"]
                    or review.reviewed_by_id != users[edit["user"]]
                ):
                    report.problem(
                        f"admission {admission_id}: review {review.pk} differs from {edit}"
                    )
                else:
                    report.counts["ctr audited"] += 1
            last[edit["kind"]] = {**edit, "event": event}

        row = rows[admission_id]
        for kind, edit in last.items():
            if kind == "edd":
                kept = str(row.expected_discharge_date) == edit["value"]
            else:
                kept = row.latest_review_id == edit["event"]["latest_review_id"]
            if kept:
                report.counts[f"{kind} fields holding the last accepted value"] += 1
            else:
                report.problem(
                    f"admission {admission_id}: row does not hold the last {kind} {edit}"
                )

        for edit in mine:
            if edit["status"] != 409:
                continue
            report.counts[f"{edit['kind']} rejected (409)"] += 1
            if versions.get(edit["version"], 0) != 1:
                report.problem(
                    f"admission {admission_id}: 409 for {edit['user']} from version "
                    f"{edit['version']}, but no accepted save moved that version on"
                )
            if edit["kind"] == "ctr":
                note = edit["value"]["note"]
                accepted_with_note = sum(
                    1 for e in accepted if e["kind"] == "ctr" and e["value"]["note"] == note
                )
                if notes[note] != accepted_with_note:
                    report.problem(
                        f"admission {admission_id}: rejected review saved anyway: {note!r}"
                    )

        audited = sum(
            1
            for (obj, _version), found in events.items()
            if obj == admission_id
            for e in found
            if e["pgh_created_at"] >= since and _user_of(e) in load_user_ids
        )
        if audited != len(accepted):
            report.problem(
                f"admission {admission_id}: {audited} audited changes by load users in the run, "
                f"{len(accepted)} accepted saves"
            )


# --- Plan edits -------------------------------------------------------------------------------


def _sequence(values: list[object]) -> list[object]:
    """The values a field took, one entry per change."""
    out: list[object] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out


def _check_field(
    name: str,
    history: list[tuple[object, int | None]],
    baseline: object,
    final: object,
    mine: list[dict],
    users: dict[str, int],
    report: Report,
) -> None:
    """One field of one plan record: the run's history is the accepted values, once each."""
    accepted = [e for e in mine if _accepted(e)]
    accepted_values = {e["value"] for e in accepted}
    changes = _sequence([baseline, *[value for value, _user in history]])[1:]
    seen = Counter(changes)
    for value, n in seen.items():
        if value not in accepted_values:
            report.problem(f"{name}: took a value no accepted save sent: {value!r}")
        elif n > 1:
            report.problem(f"{name}: {value!r} came back after a later change (lost update)")
    for edit in accepted:
        authors = {user for value, user in history if value == edit["value"]}
        if edit["value"] not in seen:
            report.problem(f"{name}: accepted {edit['value']!r} is not in the audit history")
        elif users[edit["user"]] not in authors:
            report.problem(f"{name}: {edit['value']!r} audited as someone else's change")
        else:
            report.counts[f"{edit['kind']} audited"] += 1
    for edit in mine:
        if edit["status"] == 409 and edit["value"] not in accepted_values and edit["value"] in seen:
            report.problem(f"{name}: rejected {edit['value']!r} was saved")
    if accepted:
        if changes and final == changes[-1] and final in accepted_values:
            report.counts["plan fields holding the last accepted value"] += 1
        else:
            report.problem(f"{name}: row holds {final!r}, not the last accepted value")


def check_plans(edits: list[dict], users: dict[str, int], since: dt.datetime, report: Report):
    """Merged edits of plan sections and goals: every accepted value kept or superseded."""
    for edit in edits:
        if _accepted(edit):
            report.counts[f"{edit['kind']} accepted"] += 1
        elif edit["status"] == 409:
            report.counts[f"{edit['kind']} rejected (409)"] += 1

    sections: dict[tuple[int, str], list[dict]] = defaultdict(list)
    goals: dict[int, list[dict]] = defaultdict(list)
    for edit in edits:
        entity = edit["entity"]
        if edit["kind"] == "section":
            sections[(entity["plan"], entity["key"])].append(edit)
        else:
            goals[entity["id"]].append(edit)

    SectionEvent = apps.get_model("recovery_plans", "PlanSectionEvent")
    for (plan_id, key), mine in sections.items():
        row = PlanSection.objects.get(plan_id=plan_id, key=key)
        events = list(
            SectionEvent.objects.filter(pgh_obj_id=row.pk)
            .order_by("pgh_id")
            .values("pgh_created_at", "content", "pgh_context__metadata")
        )
        before = [e for e in events if e["pgh_created_at"] < since]
        during = [e for e in events if e["pgh_created_at"] >= since]
        base = (before[-1]["content"] if before else {}) or {}
        names = set(base) | set(row.content or {}) | {e["field"] for e in mine}
        for e in during:
            names |= set(e["content"] or {})
        for name in sorted(names):
            _check_field(
                f"plan {plan_id} section {key} field {name}",
                [((e["content"] or {}).get(name), _user_of(e)) for e in during],
                base.get(name),
                (row.content or {}).get(name),
                [e for e in mine if e["field"] == name],
                users,
                report,
            )

    GoalEvent = apps.get_model("recovery_plans", "GoalEvent")
    rows = Goal.objects.in_bulk(list(goals))
    for goal_id, mine in goals.items():
        events = list(
            GoalEvent.objects.filter(pgh_obj_id=goal_id)
            .order_by("pgh_id")
            .values("pgh_created_at", "pgh_context__metadata", *GOAL_FIELDS)
        )
        before = [e for e in events if e["pgh_created_at"] < since]
        during = [e for e in events if e["pgh_created_at"] >= since]
        for name in GOAL_FIELDS:
            _check_field(
                f"goal {goal_id} field {name}",
                [(e[name], _user_of(e)) for e in during],
                before[-1][name] if before else None,
                getattr(rows[goal_id], name),
                [e for e in mine if e["field"] == name],
                users,
                report,
            )


# --- All of it --------------------------------------------------------------------------------


def check_statuses(edits: list[dict], report: Report) -> None:
    for edit in edits:
        report.counts[f"HTTP {edit['status']}"] += 1
        if not (_accepted(edit) or edit["status"] == 409):
            report.problem(
                f"{edit['user']}'s {edit['kind']} save answered {edit['status']}: {edit}"
            )


def check_locust(prefix: str, report: Report) -> None:
    """Failures locust counted over every request, saves or not."""
    stats = Path(f"{prefix}_stats.csv")
    if stats.exists():
        with stats.open() as f:
            for row in csv.DictReader(f):
                if row["Name"] == "Aggregated":
                    report.counts["requests (all kinds)"] = int(row["Request Count"])
                    report.counts["request failures (all kinds)"] = int(row["Failure Count"])
                    if int(row["Failure Count"]):
                        report.problem(f"locust counted {row['Failure Count']} failed requests")
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open() as f:
            for row in csv.DictReader(f):
                report.problem(
                    f"locust: {row['Occurrences']} x {row['Method']} {row['Name']}: {row['Error']}"
                )


def check(edits: list[dict], since: dt.datetime) -> Report:
    report = Report()
    names = {e["user"] for e in edits}
    users = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    users.update(User.objects.filter(username__startswith="load.").values_list("username", "pk"))
    check_statuses(edits, report)
    board = [e for e in edits if e["kind"] in {"ctr", "edd"}]
    plans = [e for e in edits if e["kind"] in {"section", "goal"}]
    check_board(board, users, since, report)
    check_plans(plans, users, since, report)
    report.counts["saves logged"] = len(edits)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log", type=Path, required=True, help="The clients' edit log (JSONL).")
    parser.add_argument("--locust-csv", help="Locust's --csv prefix, to report its failures.")
    parser.add_argument("--json", type=Path, help="Also write the counts and problems here.")
    args = parser.parse_args()
    edits, since = _load(args.log)
    if not edits:
        raise SystemExit("The edit log is empty: nothing was saved.")
    report = check(edits, since)
    if args.locust_csv:
        check_locust(args.locust_csv, report)
    for name, n in sorted(report.counts.items()):
        print(f"  {name:50} {n}")
    if args.json:
        args.json.write_text(
            json.dumps({"counts": report.counts, "problems": report.problems}, indent=1)
        )
    if report.ok:
        print(
            "All saves accounted for: accepted ones kept or superseded and audited, rejections 409."
        )
        return
    print(f"{len(report.problems)} problem(s):")
    for text in report.problems[:200]:
        print(f"  - {text}")
    raise SystemExit(1)


if __name__ == "__main__":
    main()
