"""Who used the machine's CPU during a load run, from ``ps`` samples taken every few seconds.

    python bench/load/cpu.py OUT_DIR/ps_samples.txt --database helper_load [--log edits.jsonl]

Each sample lists every process with its CPU time so far, and ends with a ``--- <epoch>``
line; a process's use is its last CPU time seen minus its first (a process that began between
samples counts from zero). Processes are grouped: the app under test (gunicorn, the Celery
worker), its database backends (Postgres connections to ``--database``), the load generator
(locust), and everything else on the machine. With ``--log`` (the run's edit log) it also
reports the measured period alone, from its marker to the last sample.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from collections import defaultdict
from pathlib import Path

Sample = tuple[float, dict[int, tuple[int, str]]]  # when, pid -> (CPU seconds, group)


def _seconds(cputime: str) -> int:
    """``[DD-]HH:MM:SS`` as seconds."""
    days, _, clock = cputime.rpartition("-")
    h, m, s = (int(x) for x in clock.split(":"))
    return int(days or 0) * 86400 + h * 3600 + m * 60 + s


def group(args: str, database: str) -> str:
    if "gunicorn" in args and "homefirst.wsgi" in args:
        return "app: gunicorn workers"
    if "celery" in args and "-n load@" in args:
        return "app: Celery worker"
    if args.startswith("postgres:") and f" {database} " in args:
        return f"database: Postgres connections to {database}"
    if "locust" in args:
        return "load generator: locust"
    return "everything else on the machine"


def samples(path: Path, database: str) -> list[Sample]:
    out: list[Sample] = []
    current: dict[int, tuple[int, str]] = {}
    for line in path.read_text().splitlines():
        if line.startswith("---"):
            out.append((float(line[3:].strip() or 0), current))
            current = {}
            continue
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].isdigit():
            current[int(parts[0])] = (_seconds(parts[1]), group(parts[2], database))
    return out


def usage(taken: list[Sample], start: float = 0.0) -> tuple[dict[str, int], float]:
    """CPU seconds each group used from the first sample at or after ``start`` to the last."""
    taken = [s for s in taken if s[0] >= start]
    if not taken:
        return {}, 0.0
    first: dict[int, int] = {}
    last: dict[int, tuple[int, str]] = {}
    for index, (_when, processes) in enumerate(taken):
        for pid, (cpu, kind) in processes.items():
            first.setdefault(pid, cpu if index == 0 else 0)
            last[pid] = (cpu, kind)
    totals: dict[str, int] = defaultdict(int)
    for pid, (cpu, kind) in last.items():
        totals[kind] += max(0, cpu - first[pid])
    return dict(totals), taken[-1][0] - taken[0][0]


def _report(title: str, totals: dict[str, int], seconds: float) -> None:
    print(
        f"{title}: {seconds:.0f} s of wall time, {seconds * os.cpu_count():.0f} s of CPU on {os.cpu_count()} cores"
    )
    for name, used in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {name:55} {used:6d} s CPU  {used / max(seconds, 1):4.2f} cores")


def measured_start(log: Path) -> float | None:
    for line in log.read_text().splitlines():
        record = json.loads(line)
        if record.get("event") == "measured period starts":
            return dt.datetime.fromisoformat(record["at"]).timestamp()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("samples", type=Path)
    parser.add_argument("--database", required=True)
    parser.add_argument("--log", type=Path, help="The run's edit log, for the measured period.")
    args = parser.parse_args()
    taken = samples(args.samples, args.database)
    _report("Whole run (sign-in included)", *usage(taken))
    start = measured_start(args.log) if args.log else None
    if start is not None:
        _report("Measured period", *usage(taken, start))


if __name__ == "__main__":
    main()
