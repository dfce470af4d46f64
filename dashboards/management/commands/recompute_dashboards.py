"""``manage.py recompute_dashboards``: rebuild the flow snapshots now (after loading data, say)."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from dashboards import services
from homefirst.models import Site


class Command(BaseCommand):
    help = (
        "Recompute the flow dashboards' daily snapshots: the whole history, or the last DAYS "
        "days. Safe to run at any time; beat does the same each night."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="Only the last DAYS days (default: all).")

    def handle(self, *args, **options) -> None:
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be 1 or more.")
        first = (
            services.history_start()
            if days is None
            else timezone.localdate() - dt.timedelta(days=days - 1)
        )
        started = time.monotonic()
        result = services.snapshots_recompute(
            site_ids=Site.objects.values_list("pk", flat=True), first_day=first
        )
        if result is None:
            self.stdout.write("Nothing to recompute.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed {len(result.site_ids)} sites from {result.first_day} to "
                f"{result.last_day} in {time.monotonic() - started:.1f}s."
            )
        )
