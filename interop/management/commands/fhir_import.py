"""Import FHIR R4 Patients and Encounters (a Bundle or NDJSON) into patients and admissions."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from homefirst.models import Organisation, Site
from interop import services


class Command(BaseCommand):
    help = "Import each FILE (Bundle JSON or NDJSON) for one site; idempotent, with progress."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "--site", required=True, help="HomeFirst site code the stays belong to."
        )
        parser.add_argument(
            "--council", required=True, help="ODS code of the council for new patients."
        )
        parser.add_argument("--source", default="", help="A name for the sending system.")
        parser.add_argument("--quiet-progress", action="store_true")

    def handle(self, *args, files, site, council, source, quiet_progress=False, **options):
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            raise CommandError(f"No such file: {', '.join(missing)}")
        site_row = Site.objects.filter(code=site).first()
        if site_row is None:
            raise CommandError(f"--site: no site with code {site}.")
        council_row = Organisation.objects.filter(
            ods_code=council, kind=Organisation.Kind.LOCAL_AUTHORITY
        ).first()
        if council_row is None:
            raise CommandError(f"--council: no local authority with ODS code {council}.")

        def progress(items):
            return tqdm(items, unit="res", disable=quiet_progress, file=self.stderr._out)

        report = services.fhir_import(
            texts=[f.read_text() for f in files],
            site=site_row,
            council=council_row,
            source=source,
            progress=progress,
        )
        for problem in report.problems:
            self.stderr.write(problem)
        summary = ", ".join(f"{n} {k}" for k, n in sorted(report.counts.items())) or "nothing"
        self.stdout.write(f"{sum(report.counts.values())} resource(s): {summary}.")
