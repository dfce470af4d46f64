"""Integration clients, HL7 v2 messages received, and the code tables that map a PAS onto HomeFirst."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from discharge.models import Admission, Patient
from homefirst.models import Organisation, Role, Site, Ward


class Scope(models.TextChoices):
    """What an integration client may do, on top of what its role lets it see."""

    READ = "read", "Read records its organisation may see"
    WRITE = "write", "Change records through the services"
    HL7 = "hl7", "Send HL7 v2 ADT messages"
    FHIR_IMPORT = "fhir_import", "Import FHIR patients and encounters"


class ApiClient(models.Model):
    """A system that calls the API with a token, as a service user of one organisation."""

    Scope = Scope

    name = models.CharField(max_length=100)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="api_clients"
    )
    role = models.CharField(max_length=30, choices=Role.choices, default=Role.WARD_STAFF)
    scopes = ArrayField(models.CharField(max_length=20, choices=Scope.choices), default=list)
    # The token is shown once; only its SHA-256 is kept, and its first characters to recognise it.
    token_prefix = models.CharField(max_length=8)
    token_hash = models.CharField(max_length=64, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="api_client_role_known", condition=Q(role__in=[r.value for r in Role])
            ),
            models.CheckConstraint(
                name="api_client_scopes_known",
                condition=Q(scopes__contained_by=[s.value for s in Scope]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})"

    def allows(self, scope: str) -> bool:
        return self.active and scope in self.scopes


class SiteCode(models.Model):
    """A site code as the PAS sends it (PV1-3.4), mapped by an administrator to a HomeFirst site."""

    code = models.CharField(max_length=100, unique=True)
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, null=True, blank=True, related_name="hl7_codes"
    )
    default_local_authority = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": Organisation.Kind.LOCAL_AUTHORITY},
        help_text="The council for a new patient whose address names none (PID-11.9).",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = "HL7 site code"

    def __str__(self) -> str:
        return f"{self.code} → {self.site or 'unmapped'}"


class WardCode(models.Model):
    """A ward code as the PAS sends it (PV1-3.1) at a site, mapped to a HomeFirst ward."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="hl7_ward_codes")
    code = models.CharField(max_length=100)
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="hl7_codes")
    # False when the feed met the code first and made a placeholder ward for it.
    mapped = models.BooleanField(
        default=True, help_text="Untick while the ward still needs checking by an administrator."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["site", "code"]
        verbose_name = "HL7 ward code"
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="ward_code_once_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.code} → {self.ward}"


class PatientIdentifier(models.Model):
    """A patient's identifier in another system (a hospital number); unlinked until matched."""

    system = models.CharField(max_length=200, help_text="Assigning authority and type.")
    value = models.CharField(max_length=100)
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, null=True, blank=True, related_name="identifiers"
    )
    flag = models.CharField(
        max_length=200, blank=True, help_text="Why the feed could not match it to a patient."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["system", "value"]
        constraints = [
            models.UniqueConstraint(fields=["system", "value"], name="patient_identifier_once")
        ]

    def __str__(self) -> str:
        return f"{self.system}: {self.value}"


class AdmissionIdentifier(models.Model):
    """An admission's identifier in another system: the PAS visit number, a FHIR Encounter id."""

    system = models.CharField(max_length=200)
    value = models.CharField(max_length=100)
    admission = models.ForeignKey(
        Admission, on_delete=models.CASCADE, related_name="external_identifiers"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "value"], name="admission_identifier_once")
        ]

    def __str__(self) -> str:
        return f"{self.system}: {self.value}"


class Hl7Message(models.Model):
    """One HL7 v2 message received, what became of it, and why."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        HELD = "held", "Held (waiting)"
        FAILED = "failed", "Failed (dead letter)"
        IGNORED = "ignored", "Ignored (nothing to apply)"

    class Via(models.TextChoices):
        MLLP = "mllp", "MLLP listener"
        HTTP = "http", "HTTP endpoint"
        FILE = "file", "File import"

    sending_application = models.CharField(max_length=200, blank=True)
    sending_facility = models.CharField(max_length=200, blank=True)
    control_id = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64)
    message_type = models.CharField(max_length=20, blank=True)
    event = models.CharField(max_length=10, blank=True)
    raw = models.TextField()
    via = models.CharField(max_length=10, choices=Via.choices)
    api_client = models.ForeignKey(
        ApiClient, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    event_at = models.DateTimeField(
        null=True, blank=True, help_text="When the event happened, in UTC."
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.TextField(blank=True)
    flags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    visit_number = models.CharField(max_length=100, blank=True)
    held_for = models.CharField(
        max_length=200, blank=True, help_text="What a held message waits for."
    )
    attempts = models.PositiveIntegerField(default=1)
    duplicates = models.PositiveIntegerField(default=0)
    applied_at = models.DateTimeField(null=True, blank=True)
    patient = models.ForeignKey(
        Patient, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    admission = models.ForeignKey(
        Admission, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = "HL7 message"
        constraints = [
            # The same control id from the same sender with the same content is one message.
            models.UniqueConstraint(
                fields=["sending_application", "sending_facility", "control_id", "sha256"],
                name="hl7_message_once",
            ),
            models.CheckConstraint(
                name="hl7_message_status_known",
                condition=Q(status__in=["applied", "held", "failed", "ignored"]),
            ),
            models.CheckConstraint(
                name="hl7_message_held_says_for_what",
                condition=~Q(status="held") | ~Q(held_for=""),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "held_for"], name="hl7_message_held_idx"),
            models.Index(
                fields=["sending_application", "sending_facility", "control_id"],
                name="hl7_message_control_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_type} {self.control_id} ({self.get_status_display()})"

    @property
    def is_dead_letter(self) -> bool:
        return self.status == self.Status.FAILED
