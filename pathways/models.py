"""The pathway catalogue, providers' services and their capacity, and transfer-of-care referrals."""

from __future__ import annotations

from decimal import Decimal

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from pathways.transitions import Action, State


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


# Pathways that need the care transfer hub (pathway 0 is co-ordinated by the ward).
REFERRAL_PATHWAYS = ("1", "2", "3")


class ServiceKind(models.TextChoices):
    """What a service does (stable codes)."""

    HOME_REABLEMENT = "home_reablement", "Home-based reablement"
    HOME_CARE = "home_care", "Home care"
    COMMUNITY_HEALTH = "community_health", "Community health at home"
    INTERMEDIATE_CARE_BED = "intermediate_care_bed", "Intermediate care bed"
    CARE_HOME_BED = "care_home_bed", "Care home bed"
    EQUIPMENT = "equipment", "Equipment"
    HOUSING_SUPPORT = "housing_support", "Housing support"


K = ServiceKind
# The pathways each kind of service takes people on, and what its daily capacity counts.
KIND_PATHWAYS: dict[str, frozenset[str]] = {
    K.HOME_REABLEMENT: frozenset({"1"}),
    K.HOME_CARE: frozenset({"1"}),
    K.COMMUNITY_HEALTH: frozenset({"1"}),
    K.INTERMEDIATE_CARE_BED: frozenset({"2"}),
    K.CARE_HOME_BED: frozenset({"3"}),
    K.EQUIPMENT: frozenset({"1", "2", "3"}),
    K.HOUSING_SUPPORT: frozenset({"1"}),
}
CAPACITY_UNITS: dict[str, str] = {
    K.HOME_REABLEMENT: "new starts",
    K.HOME_CARE: "new starts",
    K.COMMUNITY_HEALTH: "new starts",
    K.INTERMEDIATE_CARE_BED: "beds free",
    K.CARE_HOME_BED: "beds free",
    K.EQUIPMENT: "deliveries",
    K.HOUSING_SUPPORT: "new starts",
}


@pghistory.track()
class Service(models.Model):
    """A service a provider runs to take people home (or to a bed), in the council areas it covers."""

    Kind = ServiceKind

    provider = models.ForeignKey(
        "homefirst.Organisation", on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=ServiceKind.choices)
    areas = models.ManyToManyField(
        "homefirst.Organisation",
        through="ServiceArea",
        related_name="services_in_area",
        help_text="The councils whose residents the service takes.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "name"], name="service_name_per_provider"),
            models.CheckConstraint(
                name="service_kind_known", condition=Q(kind__in=ServiceKind.values)
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def pathways(self) -> frozenset[str]:
        return KIND_PATHWAYS[self.kind]

    @property
    def capacity_unit(self) -> str:
        return CAPACITY_UNITS[self.kind]


@pghistory.track()
class ServiceArea(models.Model):
    """A council area a service covers."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_areas")
    council = models.ForeignKey(
        "homefirst.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "local_authority"},
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "council"], name="service_area_once"),
        ]

    def __str__(self) -> str:
        return f"{self.service} in {self.council}"


@pghistory.track()
class ServiceCapacity(models.Model):
    """What a service can take on one day (new starts, beds free ...), as its staff declared it."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="capacity")
    day = models.DateField()
    available = models.PositiveIntegerField()
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "day"]
        verbose_name_plural = "service capacity"
        constraints = [
            models.UniqueConstraint(fields=["service", "day"], name="capacity_one_row_per_day"),
            models.CheckConstraint(name="capacity_not_negative", condition=Q(available__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.available} on {self.day}"


class Consent(models.TextChoices):
    """On what basis the person's information is shared with the hub and services."""

    GIVEN = "given", "The person agrees to the referral and to sharing their information"
    BEST_INTERESTS = (
        "best_interests",
        "The person lacks capacity to decide: a best-interests decision is recorded",
    )


class Outcome(models.TextChoices):
    """How an episode of support at home (or in a bed) ended (stable codes)."""

    INDEPENDENT = "independent", "Independent: no ongoing support"
    REDUCED_SUPPORT = "reduced_support", "Reduced support"
    LONG_TERM_CARE = "long_term_care", "Long-term care"
    READMITTED = "readmitted", "Readmitted to hospital"
    DIED = "died", "Died"


S = State
_HAS_SERVICE = [S.OFFERED, S.ACCEPTED, S.DISCHARGED, S.STARTED, S.ENDED]
_HAS_START_DATE = [S.ACCEPTED, S.DISCHARGED, S.STARTED, S.ENDED]
_AFTER_DISCHARGE = [S.DISCHARGED, S.STARTED, S.ENDED]


@pghistory.track()
class Referral(models.Model):
    """A transfer of care from the ward to the hub and a service, for a pathway 1-3 patient.

    The row holds where the referral stands now; every step is a :class:`ReferralTransition`.
    """

    State = State
    Consent = Consent
    Outcome = Outcome

    admission = models.ForeignKey(
        "discharge.Admission", on_delete=models.PROTECT, related_name="transfer_referrals"
    )
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="referrals")
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.REFERRED)
    # What the ward sends: one form.
    needs = models.TextField(help_text="The person's care and health needs on leaving hospital.")
    home_situation = models.TextField(help_text="Home, access, who lives there.")
    carers = models.TextField(blank=True, help_text="Unpaid carers and what they can do.")
    consent = models.CharField(max_length=20, choices=Consent.choices)
    preferred_outcome = models.TextField(help_text="What the person wants, in their words.")
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When the referral entered its current state: the hub queue's waiting time starts here.
    state_changed_at = models.DateTimeField(default=timezone.now)
    start_date = models.DateField(
        null=True, blank=True, help_text="The service's start date: the confirmed discharge date."
    )
    first_visit_at = models.DateTimeField(null=True, blank=True)
    care_started_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_recorded_at = models.DateTimeField(null=True, blank=True)
    at_home_91_days = models.BooleanField(
        null=True,
        blank=True,
        help_text="Still at home 91 days after discharge (empty: not yet known).",
    )
    at_home_91_days_recorded_at = models.DateTimeField(null=True, blank=True)
    at_home_91_days_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Denormalised by the services from the stage, so boards and the queue read it in their joins.
    proposed_delay_reason = models.ForeignKey(
        "discharge.DelayReason", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["admission"],
                condition=~Q(state__in=[S.ENDED, S.WITHDRAWN]),
                name="referral_one_open_per_admission",
            ),
            models.CheckConstraint(
                name="referral_state_known", condition=Q(state__in=State.values)
            ),
            models.CheckConstraint(
                name="referral_pathway_needs_hub", condition=Q(pathway__in=REFERRAL_PATHWAYS)
            ),
            models.CheckConstraint(
                name="referral_consent_known", condition=Q(consent__in=Consent.values)
            ),
            models.CheckConstraint(
                name="referral_outcome_known", condition=Q(outcome__in=["", *Outcome.values])
            ),
            models.CheckConstraint(
                name="referral_offered_has_service",
                condition=~Q(state__in=_HAS_SERVICE) | Q(service__isnull=False),
            ),
            models.CheckConstraint(
                name="referral_accepted_has_start_date",
                condition=~Q(state__in=_HAS_START_DATE) | Q(start_date__isnull=False),
            ),
            models.CheckConstraint(
                name="referral_outcome_iff_ended",
                condition=(Q(state=S.ENDED) & ~Q(outcome="") & Q(outcome_recorded_at__isnull=False))
                | (~Q(state=S.ENDED) & Q(outcome="") & Q(outcome_recorded_at__isnull=True)),
            ),
            models.CheckConstraint(
                name="referral_visits_after_discharge",
                condition=Q(state__in=_AFTER_DISCHARGE)
                | (Q(first_visit_at__isnull=True) & Q(care_started_at__isnull=True)),
            ),
            models.CheckConstraint(
                name="referral_91_days_after_discharge",
                condition=Q(state__in=_AFTER_DISCHARGE)
                | (Q(at_home_91_days__isnull=True) & Q(at_home_91_days_recorded_at__isnull=True)),
            ),
            models.CheckConstraint(
                name="referral_state_not_before_creation",
                condition=Q(state_changed_at__gte=F("created_at")),
            ),
        ]
        indexes = [
            models.Index(fields=["state", "state_changed_at"], name="referral_queue_idx"),
            models.Index(fields=["service", "state"], name="referral_service_idx"),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} (pathway {self.pathway_id}, {self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state not in (S.ENDED, S.WITHDRAWN)


class ReferralTransition(models.Model):
    """One step of a referral: who did what, when, from which state to which. Never overwritten."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=20, choices=Action.choices)
    from_state = models.CharField(max_length=12, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=State.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    # What the step set, when it set something: for the history and the dashboards.
    pathway = models.ForeignKey(
        Pathway, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    start_date = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                name="transition_action_known",
                condition=Q(action__in=Action.values),
            ),
            models.CheckConstraint(
                name="transition_states_known",
                condition=Q(from_state__in=["", *State.values]) & Q(to_state__in=State.values),
            ),
        ]
        indexes = [models.Index(fields=["referral", "at"], name="transition_referral_idx")]
        triggers = [
            pgtrigger.Protect(
                name="referral_transition_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.from_state or 'new'} → {self.to_state} ({self.action})"
