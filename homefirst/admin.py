from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from homefirst.forms import AdminSignInForm
from homefirst.models import Membership, Organisation, Site, User, Ward

admin.site.login_form = AdminSignInForm


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that change only through the services (and their rules): view, never edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class HomefirstUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    fieldsets = (*UserAdmin.fieldsets, ("HomeFirst", {"fields": ("job_title",)}))


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "ods_code", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "ods_code"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "organisation"]


@admin.register(Ward)
class WardAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "site", "specialty", "bed_count"]
    list_filter = ["site"]
    search_fields = ["name", "code"]
