"""Administration of reference data, with read-only views of the clinical record and its logs."""

from django.contrib import admin

from discharge.models import Admission, Criterion, DelayReason, Patient, PatientRecordView
from homefirst.admin import ReadOnlyAdmin


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "position", "active"]
    list_editable = ["position", "active"]


@admin.register(DelayReason)
class DelayReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "family", "reason", "pathways", "active"]
    list_filter = ["family", "active"]
    search_fields = ["code", "reason"]


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    list_display = ["family_name", "given_name", "nhs_number", "date_of_birth", "local_authority"]
    search_fields = ["nhs_number", "family_name"]


@admin.register(Admission)
class AdmissionAdmin(ReadOnlyAdmin):
    list_display = ["patient", "site", "current_ward", "status", "admitted_at", "discharged_at"]
    list_filter = ["status", "site"]
    raw_id_fields = ["patient", "latest_review"]


@admin.register(PatientRecordView)
class PatientRecordViewAdmin(ReadOnlyAdmin):
    list_display = ["viewed_at", "user", "patient", "ip_address", "path"]
    list_filter = ["viewed_at"]
