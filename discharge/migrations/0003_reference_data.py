"""Seed the criteria to reside and the 37 national delay reasons (stable codes)."""

from django.db import migrations

from discharge import reference


def load(apps, schema_editor):
    reference.load(apps)


class Migration(migrations.Migration):
    dependencies = [("discharge", "0002_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
