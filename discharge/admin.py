"""Administration of reference data, with read-only views of the clinical record and its logs.

Admin pages that show patients log the view, like the app's pages (``LogsPatientsShown``); the
access log's own pages do not, or reading the log would write to it.
"""

from collections.abc import Iterable
from operator import attrgetter
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from discharge.models import Admission, Criterion, DelayReason, Patient, PatientRecordView
from discharge.record_views import log_shown
from homefirst.admin import ReadOnlyAdmin


class LogsPatientsShown:
    """A ModelAdmin mixin: log the patients its list and record pages show, as the app's pages
    do (an administrator reading a record is a view of it too). ``patient_path`` is the dotted
    path from one object to its patient's id; the list reuses the page's rows, so logging costs
    one insert.
    """

    patient_path = "patient_id"

    def patient_of(self, shown: Any) -> int | None:
        return attrgetter(self.patient_path)(shown)

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            log_shown(request, _known(self.patient_of(o) for o in changelist.result_list))
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = getattr(response, "context_data", {}).get("original")
        if shown is not None:
            log_shown(request, _known([self.patient_of(shown)]))
        return response


def _known(patient_ids: Iterable[int | None]) -> list[int]:
    """The ids of the patients shown (an unmatched identifier names none)."""
    return [pk for pk in patient_ids if pk is not None]


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
class PatientAdmin(LogsPatientsShown, ReadOnlyAdmin):
    patient_path = "pk"
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
class AdmissionAdmin(LogsPatientsShown, ReadOnlyAdmin):
    list_display = ["patient", "site", "current_ward", "status", "admitted_at", "discharged_at"]
    list_filter = ["status", "site"]
    list_select_related = ["patient", "site", "current_ward"]
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
