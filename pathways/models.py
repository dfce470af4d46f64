"""The national discharge pathways (Discharge to Assess), as reference data."""

from decimal import Decimal

from django.db import models
from django.db.models import Q


class Pathway(models.Model):
    """One of the four discharge pathways, 0 to 3, with the guidance's expected share."""

    code = models.CharField(max_length=1, primary_key=True)
    name = models.CharField(max_length=100)
    description = models.TextField()
    expected_share = models.DecimalField(
        max_digits=4, decimal_places=3, help_text="Expected share of discharges, 0 to 1."
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="pathway_code_0_to_3", condition=Q(code__in=["0", "1", "2", "3"])
            ),
            models.CheckConstraint(
                name="pathway_share_is_fraction",
                condition=Q(expected_share__gte=Decimal(0), expected_share__lte=Decimal(1)),
            ),
        ]

    def __str__(self) -> str:
        return f"Pathway {self.code}"
