"""Dashboard figures in the API: the daily snapshot sums the flow dashboards show, read-only."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import selectors
from dashboards.forms import EARLIEST_DAY
from interop.api.views import PERMISSIONS

MAX_DAYS = 366


class RangeInput(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    site = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    council = serializers.IntegerField(required=False, min_value=1, max_value=2**62)


def _suppressed(row: dict, keep: bool) -> dict:
    """Counts of 1 to 4 leave the system as null for system-wide viewers (as the exports do)."""
    if keep:
        return row
    return {k: (None if isinstance(v, int) and 0 < v < 5 else v) for k, v in row.items()}


DAY_FIELDS = {
    "day": serializers.DateField(),
    "admissions": serializers.IntegerField(allow_null=True),
    "census": serializers.DictField(child=serializers.IntegerField(allow_null=True)),
    "discharges": serializers.ListField(child=serializers.DictField(allow_null=True)),
    "transfers": serializers.DictField(child=serializers.IntegerField(allow_null=True)),
}


class DailyFiguresView(APIView):
    """Per day: census sums, admissions, discharges by actual pathway and transfers of care.

    Counts only; transfers of care are counted against the day the person left hospital.
    """

    permission_classes = PERMISSIONS

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE),
            OpenApiParameter("end", OpenApiTypes.DATE),
            OpenApiParameter("site", OpenApiTypes.INT),
            OpenApiParameter("council", OpenApiTypes.INT),
        ],
        responses=inline_serializer(
            "DashboardFigures",
            fields={
                "start": serializers.DateField(),
                "end": serializers.DateField(),
                "small_numbers_suppressed": serializers.BooleanField(),
                "days": inline_serializer("DashboardDay", fields=DAY_FIELDS, many=True),
            },
        ),
    )
    def get(self, request):
        access = selectors.dashboard_access(request.user)
        if access is None:
            raise Http404
        params = RangeInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        end = data.get("end") or timezone.localdate()
        if end < EARLIEST_DAY or data.get("start", end) < EARLIEST_DAY:
            raise ValidationError({"start": f"Give days from {EARLIEST_DAY.isoformat()} on."})
        start = data.get("start") or end - dt.timedelta(days=29)
        if start > end or (end - start).days >= MAX_DAYS:
            raise ValidationError({"start": f"Give a range of 1 to {MAX_DAYS} days, start first."})
        site = council = None
        if "site" in data:
            site = selectors.sites_visible_to(access).filter(pk=data["site"]).first()
            if site is None:
                raise Http404
        if "council" in data:
            council = selectors.councils_visible_to(access).filter(pk=data["council"]).first()
            if council is None:
                raise Http404
        filters = selectors.Filters(start=start, end=end, site=site, council=council)
        keep = access.small_numbers
        census, admitted, discharged, transfers = {}, {}, {}, {}
        if access.everything or access.site_ids or access.council_ids:
            # (A trust with no sites yet has nothing to show, and no scope to filter by.)
            census = {r.pop("day"): r for r in selectors.census_by_day(access, filters, start, end)}
            admitted = {
                r["day"]: r["admissions"]
                for r in selectors.admissions_by_day(access, filters, start, end)
            }
            transfers = {
                r.pop("day"): r for r in selectors.transfers_by_day(access, filters, start, end)
            }
            for row in selectors.discharges_by_day(access, filters, start, end):
                discharged.setdefault(row.pop("day"), []).append(_suppressed(row, keep))
        days = []
        day = start
        while day <= end:
            count = admitted.get(day)
            days.append(
                {
                    "day": day,
                    "admissions": None if (not keep and count and count < 5) else count,
                    "census": _suppressed(census.get(day, {}), keep),
                    "discharges": discharged.get(day, []),
                    "transfers": _suppressed(transfers.get(day, {}), keep),
                }
            )
            day += dt.timedelta(days=1)
        return Response(
            {"start": start, "end": end, "small_numbers_suppressed": not keep, "days": days}
        )
