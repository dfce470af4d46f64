"""``manage.py seed_demo``: the demo city and its recent history, for trying HomeFirst out."""

from __future__ import annotations

import functools
import sys
import time

import pghistory
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from homefirst.demo import history


class Command(BaseCommand):
    help = (
        "Create the demo city (trust, councils, providers, wards, demo logins) and DAYS days "
        "of patient flow up to the latest 09:30. The same --seed gives the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--beds", type=int, default=600, help="Beds at the trust (600).")
        parser.add_argument("--days", type=int, default=90, help="Days of history (90).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (1).")
        parser.add_argument(
            "--reset", action="store_true", help="Delete the existing demo data first."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the demo city already exists (for `make run`).",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress bars.")

    def handle(self, *args, **options) -> None:
        if options["reset"] and options["if_empty"]:
            raise CommandError("Choose --reset or --if-empty, not both.")
        progress = functools.partial(
            tqdm, file=sys.stderr, disable=options["quiet"], leave=False, dynamic_ncols=True
        )
        started = time.monotonic()
        try:
            with pghistory.context(command="seed_demo"):
                result = history.demo_seed(
                    beds=options["beds"],
                    days=options["days"],
                    seed=options["seed"],
                    reset=options["reset"],
                    if_empty=options["if_empty"],
                    progress=progress,
                )
        except (history.DemoDataExists, ValueError) as error:
            raise CommandError(str(error)) from error
        if result is None:
            self.stdout.write("Demo data already present; nothing to do.")
            return
        self._report(result, time.monotonic() - started)

    def _report(self, s: history.Summary, seconds: float) -> None:
        mix = " / ".join(f"P{code} {share:.0%}" for code, share in s.pathway_mix.items())
        lines = [
            f"Seeded the demo city in {seconds:.1f}s:",
            f"  organisations  {s.organisations}",
            f"  wards          {s.wards} ({s.beds} beds, {s.trust_beds} at the demo trust)",
            f"  patients       {s.patients}",
            f"  admissions     {s.admissions}",
            f"  inpatients     {s.inpatients} ({s.occupancy:.0%} of the trust's beds)",
            f"  reviews        {s.reviews}",
            f"  discharges     {s.discharges} (and {s.deaths} deaths)",
            f"  pathway mix    {mix}",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
