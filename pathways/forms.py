"""Transfer-of-care forms: the shape and type of what people send; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from homefirst.forms import NhsFormMixin
from pathways.models import REFERRAL_PATHWAYS, Consent, Outcome, Service
from pathways.reference import PATHWAYS
from pathways.selectors import ServiceOption
from pathways.services import MAX_CAPACITY, MAX_TEXT
from pathways.transitions import Action

PATHWAY_NAMES = {code: name for code, name, *_ in PATHWAYS}
PATHWAY_CHOICES = [(code, f"Pathway {code}: {PATHWAY_NAMES[code]}") for code in REFERRAL_PATHWAYS]
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _text(label: str, *, required: bool = True, help_text: str = "", rows: int = 3):
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class ServiceErrorsMixin:
    """Put a service's ValidationError beside the field it names (or at the top)."""

    def add_service_error(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


class ReferralForm(ServiceErrorsMixin, NhsFormMixin, forms.Form):
    """The ward's one form: the person's needs, home, carers, consent and what they want."""

    pathway = forms.ChoiceField(choices=PATHWAY_CHOICES, label="Pathway")
    needs = _text(
        "The person's needs",
        help_text="Care and health needs on leaving hospital: mobility, personal care, "
        "medicines, equipment.",
    )
    home_situation = _text(
        "Home situation", help_text="Where they live, stairs and access, who lives with them."
    )
    carers = _text(
        "Carers",
        required=False,
        help_text="Unpaid carers and what they can do. Leave empty if there are none.",
    )
    consent = forms.ChoiceField(
        choices=[("", "Choose"), *Consent.choices], label="Consent to the referral"
    )
    preferred_outcome = _text(
        "What the person wants", help_text="Their preferred outcome, in their own words."
    )


class StepForm(ServiceErrorsMixin, NhsFormMixin, forms.Form):
    """Every step says which version of the referral it started from."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = _text("Note (optional)", required=False, rows=2)

    def __init__(self, *args, options: list[ServiceOption] = (), **kwargs) -> None:
        # Only the offer uses the options; every step's form is built the same way.
        super().__init__(*args, **kwargs)


class TriageForm(StepForm):
    pathway = forms.ChoiceField(choices=PATHWAY_CHOICES, label="Confirmed pathway")
    field_order = ["pathway", "note"]


class OfferForm(StepForm):
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), label="Service", empty_label="Choose a service"
    )
    field_order = ["service", "note"]

    def __init__(self, *args, options: list[ServiceOption] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = {option.service.pk: option.label for option in options}
        field = self.fields["service"]
        field.queryset = Service.objects.filter(pk__in=labels).order_by("kind", "name")
        field.label_from_instance = lambda service: labels.get(service.pk, service.name)


class ReasonRequiredForm(StepForm):
    note = _text("Why", rows=2)


class StartDateForm(StepForm):
    start_date = forms.DateField(
        label="Start date",
        help_text="The day the service starts: the confirmed discharge date.",
        widget=DATE_WIDGET,
    )
    field_order = ["start_date", "note"]


class NeedsChangedForm(StepForm):
    note = _text("What changed (optional)", required=False, rows=2)


class EndForm(StepForm):
    outcome = forms.ChoiceField(
        choices=[("", "Choose an outcome"), *Outcome.choices], label="Outcome"
    )
    field_order = ["outcome", "note"]


STEP_FORMS: dict[Action, type[StepForm]] = {
    Action.TRIAGE: TriageForm,
    Action.OFFER: OfferForm,
    Action.DECLINE: ReasonRequiredForm,
    Action.ACCEPT: StartDateForm,
    Action.RESCHEDULE: StartDateForm,
    Action.FIRST_VISIT: StepForm,
    Action.CARE_START: StepForm,
    Action.NEEDS_CHANGE: NeedsChangedForm,
    Action.READMIT: StepForm,
    Action.END: EndForm,
    Action.WITHDRAW: ReasonRequiredForm,
    Action.REREFER: StepForm,
}


def step_form(
    action: Action, referral, *, data=None, options: list[ServiceOption] = ()
) -> StepForm:
    """The form for one step of a referral, prefilled from where it stands."""
    initial = {"expected_version": referral.version}
    if action == Action.TRIAGE:
        initial["pathway"] = referral.pathway_id
    if action in (Action.ACCEPT, Action.RESCHEDULE) and referral.start_date:
        initial["start_date"] = referral.start_date
    return STEP_FORMS[action](data, initial=initial, prefix=action.value, options=options)


class AtHomeForm(ServiceErrorsMixin, NhsFormMixin, forms.Form):
    """The 91-day check: is the person still at home?"""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    at_home = forms.TypedChoiceField(
        choices=[("yes", "Still at home"), ("no", "Not at home")],
        coerce=lambda value: value == "yes",
        label="Still at home 91 days after leaving hospital?",
    )


class DelayReasonForm(ServiceErrorsMixin, NhsFormMixin, forms.Form):
    """Confirm the suggested delay reason, or choose another (the admission's version)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.ChoiceField(label="Delay reason")

    def __init__(self, *args, reasons=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        grouped: dict[str, list[tuple[str, str]]] = {}
        for reason in reasons:
            grouped.setdefault(reason.family, []).append((reason.code, reason.reason))
        self.fields["reason"].choices = [("", "Choose a reason"), *grouped.items()]


class CapacityForm(ServiceErrorsMixin, NhsFormMixin, forms.Form):
    """What a service can take on one day."""

    day = forms.DateField(label="Day", widget=DATE_WIDGET)
    available = forms.IntegerField(label="Available", min_value=0, max_value=MAX_CAPACITY)
