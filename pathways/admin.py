"""Administration of the pathway catalogue and the services; referrals are read-only here."""

from django.contrib import admin

from discharge.admin import LogsPatientsShown
from homefirst.admin import ReadOnlyAdmin
from pathways.models import (
    Pathway,
    Referral,
    ReferralTransition,
    Service,
    ServiceArea,
    ServiceCapacity,
)


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "expected_share"]


class ServiceAreaInline(admin.TabularInline):
    model = ServiceArea
    extra = 1


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "kind", "active"]
    list_filter = ["kind", "active", "provider"]
    search_fields = ["name", "provider__name"]
    inlines = [ServiceAreaInline]


@admin.register(ServiceCapacity)
class ServiceCapacityAdmin(ReadOnlyAdmin):
    list_display = ["service", "day", "available", "declared_by", "declared_at"]
    list_filter = ["service", "day"]
    date_hierarchy = "day"


class ReferralTransitionInline(admin.TabularInline):
    model = ReferralTransition
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_state", "to_state", "by", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Referral)
class ReferralAdmin(LogsPatientsShown, ReadOnlyAdmin):
    patient_path = "admission.patient_id"
    list_select_related = ["admission__patient", "pathway", "service"]
    list_display = ["pk", "admission", "pathway", "service", "state", "created_at", "outcome"]
    list_filter = ["state", "pathway", "service", "outcome"]
    raw_id_fields = ["admission"]
    inlines = [ReferralTransitionInline]
