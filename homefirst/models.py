"""Organisations, their sites and wards, and the people who work in them."""

from __future__ import annotations

import pghistory
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class OrganisationKind(models.TextChoices):
    """The kind of body an organisation is."""

    ACUTE_TRUST = "acute_trust", "Acute hospital trust"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    COMMUNITY_TRUST = "community_trust", "Community health trust"
    CARE_PROVIDER = "care_provider", "Care provider"
    VOLUNTARY_SECTOR = "voluntary_sector", "Voluntary sector"


class Organisation(models.Model):
    """A body in the local health and care system, identified by its ODS code."""

    Kind = OrganisationKind

    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="organisation_kind_known",
                condition=Q(kind__in=[k.value for k in OrganisationKind]),
            ),
            models.CheckConstraint(
                name="organisation_ods_code_format",
                condition=Q(ods_code__regex=r"^[A-Z0-9]{3,10}$"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A hospital site run by an acute trust."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="sites")
    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ward(models.Model):
    """A ward on a site, with the number of beds it has."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="wards")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    specialty = models.CharField(max_length=100, blank=True)
    bed_count = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="ward_code_unique_per_site"),
            models.CheckConstraint(name="ward_has_beds", condition=Q(bed_count__gt=0)),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), exclude=["last_login", "password"]
)
class User(AbstractUser):
    """A person who signs in. What they may see follows from their memberships."""

    job_title = models.CharField(max_length=100, blank=True)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class Role(models.TextChoices):
    """What a member does in their organisation; access follows from it."""

    WARD_STAFF = "ward_staff", "Ward staff"
    DISCHARGE_COORDINATOR = "discharge_coordinator", "Discharge coordinator"
    SOCIAL_WORKER = "social_worker", "Social worker"
    PROVIDER_STAFF = "provider_staff", "Provider staff"
    SYSTEM_LEADER = "system_leader", "System leader"
    ADMINISTRATOR = "administrator", "Administrator"


@pghistory.track()
class Membership(models.Model):
    """A user's role in one organisation."""

    Role = Role

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=30, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique"
            ),
            models.CheckConstraint(
                name="membership_role_known", condition=Q(role__in=[r.value for r in Role])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.organisation}"
