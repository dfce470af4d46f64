import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """One pending request a site, stale from a day to today (it held one row a site and day)."""

    dependencies = [
        ("dashboards", "0001_initial"),
        ("homefirst", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="PendingRecompute"),
        migrations.CreateModel(
            name="PendingRecompute",
            fields=[
                (
                    "site",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="homefirst.site",
                    ),
                ),
                ("first_day", models.DateField()),
                ("version", models.PositiveBigIntegerField(default=1)),
                ("requested_at", models.DateTimeField()),
            ],
        ),
    ]
