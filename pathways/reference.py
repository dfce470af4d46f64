"""The national discharge pathways (Discharge to Assess) as reference data; idempotent."""

from decimal import Decimal

from django.apps import apps as django_apps

PATHWAYS = [
    (
        "0",
        "Home, no new support",
        "Home (or usual residence) with no new or additional health or social care; "
        "co-ordinated by the ward. Returning care home residents with no change in need count here.",
        Decimal("0.50"),
    ),
    (
        "1",
        "Home with support",
        "Home with new, additional or restarted support (reablement, rehabilitation, home care), "
        "co-ordinated by the care transfer hub.",
        Decimal("0.45"),
    ),
    (
        "2",
        "Bed-based recovery",
        "Short-term rehabilitation, reablement or recovery in a 24-hour bed-based setting, then home.",
        Decimal("0.04"),
    ),
    (
        "3",
        "Care home placement",
        "A first-time care home placement for those with the highest needs.",
        Decimal("0.01"),
    ),
]


def load(apps=django_apps) -> None:
    """Create or update the four pathways under their codes."""
    pathway = apps.get_model("pathways", "Pathway")
    for code, name, description, share in PATHWAYS:
        pathway.objects.update_or_create(
            code=code, defaults={"name": name, "description": description, "expected_share": share}
        )
