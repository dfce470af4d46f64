"""Reference data of discharge readiness: the criteria to reside and the 37 delay reasons.

Loaded by a migration, and idempotent so it can be reloaded (tests, a new release of the list).
"""

from __future__ import annotations

import csv
from pathlib import Path

from django.apps import apps as django_apps

# NHS Data Dictionary codes 01-05, then the rest of the national flowchart.
CRITERIA = [
    ("01", "Requires critical or high dependency care"),
    ("02", "Requires oxygen therapy or non-invasive ventilation"),
    ("03", "Requires intravenous fluids"),
    ("04", "National Early Warning Score (NEWS2) greater than 3"),
    ("05", "Diminished level of consciousness where recovery is realistic"),
    ("06", "Acute functional impairment in excess of home or community care provision"),
    ("07", "Last hours of life"),
    ("08", "Intravenous medication more than twice daily (including analgesia)"),
    ("09", "Lower-limb surgery within 48 hours"),
    ("10", "Thorax-abdominal or pelvic surgery within 72 hours"),
    ("11", "Within 24 hours of an invasive procedure with risk of acute deterioration"),
]

DELAY_REASONS_CSV = Path(__file__).resolve().parent / "reference" / "delay_reasons.csv"


def load(apps=django_apps) -> None:
    """Create or update the criteria and delay reasons under their stable codes."""
    criterion = apps.get_model("discharge", "Criterion")
    delay_reason = apps.get_model("discharge", "DelayReason")
    for position, (code, label) in enumerate(CRITERIA, start=1):
        criterion.objects.update_or_create(
            code=code, defaults={"label": label, "position": position}
        )
    with DELAY_REASONS_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            delay_reason.objects.update_or_create(
                code=row["code"],
                defaults={
                    "family": row["family"],
                    "reason": row["reason"],
                    "pathways": row["pathways"].split(),
                },
            )
