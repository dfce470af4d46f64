"""Seed the four national discharge pathways (Discharge to Assess)."""

from django.db import migrations

from pathways import reference


def load(apps, schema_editor):
    reference.load(apps)


class Migration(migrations.Migration):
    dependencies = [("pathways", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
