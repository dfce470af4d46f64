from django.contrib import admin

from pathways.models import Pathway


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "expected_share"]
