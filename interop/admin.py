"""The interop admin: HL7 messages with their dead letters and replay, code tables, API clients."""

from __future__ import annotations

from django.contrib import admin, messages

from discharge.admin import LogsPatientsShown
from interop import services
from interop.models import (
    AdmissionIdentifier,
    ApiClient,
    Hl7Message,
    PatientIdentifier,
    SiteCode,
    WardCode,
)


@admin.register(Hl7Message)
class Hl7MessageAdmin(LogsPatientsShown, admin.ModelAdmin):
    """Every message received; failed ones are the dead-letter list, replayable after a fix.

    A message's page shows its raw text, PID segment and all: a view of the patient's record,
    logged when the message is matched to one.
    """

    list_display = [
        "received_at",
        "message_type",
        "control_id",
        "status",
        "reason",
        "flags",
        "via",
        "attempts",
        "duplicates",
    ]
    list_filter = ["status", "event", "via"]
    search_fields = ["control_id", "visit_number", "reason", "held_for"]
    date_hierarchy = "received_at"
    actions = ["replay"]
    readonly_fields = [f.name for f in Hl7Message._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Replay the selected failed or held messages")
    def replay(self, request, queryset):
        replayable = queryset.filter(status__in=[Hl7Message.Status.FAILED, Hl7Message.Status.HELD])
        outcomes = {"AA": 0, "AE": 0, "AR": 0}
        for message in replayable.order_by("event_at", "received_at", "pk"):
            receipt = services.hl7_message_replay(message=message)
            outcomes[receipt.code] += 1
        self.message_user(
            request,
            f"Replayed {sum(outcomes.values())}: {outcomes['AA']} accepted, "
            f"{outcomes['AE'] + outcomes['AR']} still failing.",
            messages.SUCCESS if not outcomes["AE"] + outcomes["AR"] else messages.WARNING,
        )


@admin.register(SiteCode)
class SiteCodeAdmin(admin.ModelAdmin):
    """Site codes the PAS sends; the feed adds unknown ones here, unmapped, for you to map."""

    list_display = ["code", "site", "default_local_authority", "created_at"]
    list_filter = [("site", admin.EmptyFieldListFilter)]
    search_fields = ["code"]
    readonly_fields = ["created_at"]


@admin.register(WardCode)
class WardCodeAdmin(admin.ModelAdmin):
    """Ward codes per site; a ward the feed made for an unknown code is listed as not mapped."""

    list_display = ["code", "site", "ward", "mapped", "created_at"]
    list_filter = ["mapped", "site"]
    list_editable = ["mapped"]
    search_fields = ["code", "ward__name"]
    readonly_fields = ["created_at"]


@admin.register(PatientIdentifier)
class PatientIdentifierAdmin(LogsPatientsShown, admin.ModelAdmin):
    """Local identifiers; link an unmatched one to a patient to apply the messages held for it."""

    list_display = ["system", "value", "patient", "flag", "created_at"]
    list_filter = [("patient", admin.EmptyFieldListFilter)]
    search_fields = ["value", "patient__nhs_number", "patient__family_name"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient"]
    fields = ["system", "value", "patient", "flag", "created_at"]
    readonly_fields = ["created_at"]

    def save_model(self, request, obj, form, change):
        if change and "patient" in form.changed_data and obj.patient_id:
            receipts = services.patient_identifier_link(identifier=obj, patient=obj.patient)
            if receipts:
                self.message_user(request, f"Replayed {len(receipts)} held message(s).")
            return
        super().save_model(request, obj, form, change)


@admin.register(AdmissionIdentifier)
class AdmissionIdentifierAdmin(LogsPatientsShown, admin.ModelAdmin):
    patient_path = "admission.patient_id"
    list_select_related = ["admission__patient"]
    list_display = ["system", "value", "admission"]
    search_fields = ["value"]
    raw_id_fields = ["admission"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Integration clients; a new client's token is shown once, on saving."""

    list_display = [
        "name",
        "organisation",
        "role",
        "scopes",
        "token_prefix",
        "active",
        "last_used_at",
    ]
    list_filter = ["active", "organisation"]
    fields = ["name", "organisation", "role", "scopes", "active", "token_prefix", "last_used_at"]
    readonly_fields = ["token_prefix", "last_used_at"]

    def get_readonly_fields(self, request, obj=None):
        # The organisation and role are the client's identity: make a new client to change them.
        return [*self.readonly_fields, "organisation", "role"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        client, token = services.api_client_create(
            name=obj.name, organisation=obj.organisation, role=obj.role, scopes=obj.scopes
        )
        obj.pk = client.pk
        self.message_user(
            request,
            f"Token for {client.name} (shown once, keep it safe): {token}",
            messages.WARNING,
        )
