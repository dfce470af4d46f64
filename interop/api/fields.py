"""Input fields that keep dates and times within what a hospital record can mean."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from rest_framework import serializers

EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
OUT_OF_RANGE = "Give a time between 1900 and 2100, with an offset of at most 14 hours."


def _in_range(value: dt.datetime) -> dt.datetime | None:
    """The moment in UTC, or None when it is out of range (or its offset is impossible)."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > dt.timedelta(hours=14):
        return None
    try:
        moment = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None
    return moment if EARLIEST <= moment < LATEST else None


class MomentField(serializers.DateTimeField):
    """An ISO 8601 date-time, stored in UTC; years outside 1900-2100 are refused."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        moment = _in_range(parsed)
        if moment is None:
            raise serializers.ValidationError(OUT_OF_RANGE)
        return moment


class _MomentFormField(forms.DateTimeField):
    def clean(self, value):
        parsed = super().clean(value)
        if parsed is None:
            return None
        moment = _in_range(parsed)
        if moment is None:
            raise forms.ValidationError(OUT_OF_RANGE)
        return moment


class MomentFilter(django_filters.IsoDateTimeFilter):
    """A date-time filter that refuses what the database could not compare (400, not 500)."""

    field_class = _MomentFormField
