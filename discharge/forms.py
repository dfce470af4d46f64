"""Board forms: the shape and type of what a ward user sends; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from discharge.models import Criterion, DelayReason, DischargeDestination
from discharge.services import MAX_TEXT
from homefirst.forms import NhsFormMixin

PATHWAY_CHOICES = [(code, f"Pathway {code}") for code in "0123"]


class VersionedForm(NhsFormMixin, forms.Form):
    """Every board edit says which version of the admission it started from."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The inline form opens under the keyboard user's focus: start them in its first field.
        first = next(f for f in self.fields.values() if not f.widget.is_hidden)
        first.widget.attrs["autofocus"] = True

    def add_service_error(self, error: ValidationError) -> None:
        """Put a service's ValidationError beside the field it names."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(None if field not in self.fields else field, messages)
        else:
            self.add_error(None, error.messages)


class CtrReviewForm(VersionedForm):
    """Today's review against the criteria to reside."""

    criteria = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Criteria the patient meets today",
        help_text="Leave all unticked if the patient meets none of them.",
    )
    exception_reason = forms.CharField(
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Clinical exception (optional)",
        help_text="Only if the patient meets no criterion but must stay: say why.",
    )
    note = forms.CharField(
        required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2}), label="Note"
    )

    def __init__(self, *args, criteria: list[Criterion], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["criteria"].choices = [(c.code, c.label) for c in criteria]


class EddForm(VersionedForm):
    """The expected date of discharge."""

    expected_discharge_date = forms.DateField(
        label="Expected date of discharge",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class PathwayForm(VersionedForm):
    """The planned discharge pathway."""

    pathway = forms.ChoiceField(choices=PATHWAY_CHOICES, label="Planned pathway")


class DelayForm(VersionedForm):
    """Why a patient who no longer meets the criteria is still here."""

    reason = forms.ChoiceField(label="Delay reason")

    def __init__(self, *args, reasons: list[DelayReason], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        grouped: dict[str, list[tuple[str, str]]] = {}
        for reason in reasons:
            grouped.setdefault(reason.family, []).append((reason.code, reason.reason))
        self.fields["reason"].choices = [("", "Choose a reason"), *grouped.items()]


class DischargeForm(VersionedForm):
    """The discharge: when, where to and on which pathway."""

    discharged_at = forms.DateTimeField(
        label="Date and time of discharge",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    destination = forms.ChoiceField(
        choices=[("", "Choose a destination"), *DischargeDestination.choices], label="Destination"
    )
    actual_pathway = forms.ChoiceField(
        choices=[("", "Not applicable (died)"), *PATHWAY_CHOICES],
        required=False,
        label="Pathway on discharge",
    )
