"""Who used the machine's CPU during a load run, from ``ps`` samples taken every few seconds.

    python bench/load/cpu.py OUT_DIR/ps_samples.txt --database helper_load

Each sample lists every process with its CPU time so far; a process's use in the run is its
last CPU time seen minus its first (processes that began during the run count from zero).
Processes are grouped: the app under test (gunicorn, the Celery worker), its database
backends (Postgres connections to ``--database``), the load generator (locust), and
everything else on the machine.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path


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


def usage(path: Path, database: str) -> dict[str, int]:
    """CPU seconds each group used between the first sample and the last."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    kind: dict[int, str] = {}
    sample = 0
    for line in path.read_text().splitlines():
        if line.startswith("---"):
            sample += 1
            continue
        parts = line.split(None, 2)
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        pid, cpu = int(parts[0]), _seconds(parts[1])
        if pid not in first:
            # Seen first in a later sample: it started during the run, from zero.
            first[pid] = cpu if sample == 0 else 0
        last[pid] = cpu
        kind[pid] = group(parts[2], database)
    totals: dict[str, int] = defaultdict(int)
    for pid, cpu in last.items():
        totals[kind[pid]] += max(0, cpu - first[pid])
    return dict(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("samples", type=Path)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    lines = args.samples.read_text().count("---")
    totals = usage(args.samples, args.database)
    everything = sum(totals.values()) or 1
    print(f"CPU seconds used over {lines} samples:")
    for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {name:55} {seconds:6d} s  {seconds / everything:5.0%}")


if __name__ == "__main__":
    main()
