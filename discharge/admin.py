"""Administration of reference data, with read-only views of the clinical record and its logs."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

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
    readonly_fields = ["record_views"]

    @admin.display(description="Record views")
    def record_views(self, patient: Patient) -> str:
        """A link to the access log filtered to this patient: who opened their record, when."""
        url = reverse("admin:discharge_patientrecordview_changelist")
        return format_html(
            '<a href="{}?patient__id__exact={}">Who viewed this record</a>', url, patient.pk
        )


@admin.register(Admission)
class AdmissionAdmin(ReadOnlyAdmin):
    list_display = ["patient", "site", "current_ward", "status", "admitted_at", "discharged_at"]
    list_filter = ["status", "site"]
    raw_id_fields = ["patient", "latest_review"]


@admin.register(PatientRecordView)
class PatientRecordViewAdmin(ReadOnlyAdmin):
    """Who was shown whose record, when and from where: read, filter, never edit (append-only).

    Filter by user in the sidebar and by date (sidebar or the date drill-down); find a patient
    by NHS number or family name, or open "Record views" from the patient's own admin page.
    """

    list_display = ["viewed_at", "user", "patient", "ip_address", "path"]
    list_filter = ["viewed_at", ("user", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "patient"]
    date_hierarchy = "viewed_at"
    search_fields = ["patient__nhs_number", "patient__family_name", "user__username"]
    show_full_result_count = False  # a long log: skip counting it all on every page
