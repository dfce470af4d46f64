"""The dashboards' date range: shape and type only; the drill-down ids are looked up by the view."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from homefirst.forms import NhsFormMixin

DEFAULT_DAYS = 90
# The longest range a page or export covers: two years keeps every query small.
MAX_DAYS = 731
# No figures before this day: it also keeps date arithmetic clear of the calendar's start.
EARLIEST_DAY = dt.date(2000, 1, 1)


class RangeForm(NhsFormMixin, forms.Form):
    """From and to dates (inclusive); the last 90 days up to today when left empty."""

    start = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, data=None, **kwargs) -> None:
        # Show the range in use: an empty field stands for its default, so fill it in.
        if data is not None:
            data = data.copy()
            end = data.get("end") or timezone.localdate().isoformat()
            data["end"] = end
            if not data.get("start"):
                try:
                    default = dt.date.fromisoformat(end) - dt.timedelta(days=DEFAULT_DAYS - 1)
                    data["start"] = default.isoformat()
                except (ValueError, OverflowError):
                    pass  # the bad end date is reported beside its field
        super().__init__(data, **kwargs)

    def clean(self) -> dict:
        cleaned = super().clean()
        today = timezone.localdate()
        end = cleaned.get("end") or today
        for name in ("start", "end"):
            if cleaned.get(name) and cleaned[name] < EARLIEST_DAY:
                self.add_error(name, f"Choose a day from {EARLIEST_DAY:%d %B %Y} on.")
        if self.errors:
            return cleaned
        start = cleaned.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if end > today:
            self.add_error("end", "The figures go up to today: choose today or an earlier day.")
        elif start > end:
            self.add_error("start", "The range must start on or before its last day.")
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("start", f"Choose a range of at most {MAX_DAYS} days.")
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def range(self) -> tuple[dt.date, dt.date]:
        """The valid range, or the default one when the input was not valid."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        end = timezone.localdate()
        return end - dt.timedelta(days=DEFAULT_DAYS - 1), end
