"""Seed the criteria to reside and the 37 national delay reasons (stable codes)."""

import csv
from pathlib import Path

from django.db import migrations

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

DELAY_REASONS_CSV = Path(__file__).resolve().parent.parent / "reference" / "delay_reasons.csv"


def load(apps, schema_editor):
    Criterion = apps.get_model("discharge", "Criterion")
    DelayReason = apps.get_model("discharge", "DelayReason")
    for position, (code, label) in enumerate(CRITERIA, start=1):
        Criterion.objects.update_or_create(
            code=code, defaults={"label": label, "position": position}
        )
    with DELAY_REASONS_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            DelayReason.objects.update_or_create(
                code=row["code"],
                defaults={
                    "family": row["family"],
                    "reason": row["reason"],
                    "pathways": row["pathways"].split(),
                },
            )


class Migration(migrations.Migration):
    dependencies = [("discharge", "0002_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
