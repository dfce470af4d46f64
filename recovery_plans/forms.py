"""Recovery plan forms: shape and type only; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from homefirst.forms import NhsFormMixin
from recovery_plans.models import MAX_TEXT, Action, Goal, RecoveryPlan
from recovery_plans.sections import SectionSpec

DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class PlanForm(NhsFormMixin, forms.Form):
    """Shared by every plan form: put a service's errors beside the fields they name."""

    def add_service_error(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


class VersionedPlanForm(PlanForm):
    """An edit of a co-edited row names the version it started from."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def section_form_class(spec: SectionSpec) -> type[VersionedPlanForm]:
    """A form with one text box per field of the section."""
    fields = {
        name: forms.CharField(
            label=label,
            required=False,
            max_length=MAX_TEXT,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        for name, label in spec.fields
    }
    return type(f"{spec.key.title()}SectionForm", (VersionedPlanForm,), fields)


class GoalForm(PlanForm):
    description = forms.CharField(
        label="Goal, in the person's own words",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    measure = forms.CharField(
        label="How we will know",
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    target_date = forms.DateField(label="Target date", required=False, **DATE)


class GoalEditForm(GoalForm, VersionedPlanForm):
    status = forms.ChoiceField(choices=Goal.Status.choices)


class ActionForm(PlanForm):
    what = forms.CharField(
        label="What needs doing", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner_organisation = forms.ModelChoiceField(queryset=None, label="Organisation responsible")
    owner_person = forms.CharField(
        label="Person responsible (optional)", required=False, max_length=200
    )
    due_date = forms.DateField(label="Due by", **DATE)

    def __init__(self, *args, organisations, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Any organisation may be posted; the service refuses one not involved, beside the field.
        self.fields["owner_organisation"].queryset = organisations.model.objects.all()
        self.fields["owner_organisation"].choices = [
            ("", "Choose an organisation"),
            *((o.pk, o.name) for o in organisations),
        ]


class ActionEditForm(ActionForm, VersionedPlanForm):
    status = forms.ChoiceField(choices=Action.Status.choices)


class ContactForm(PlanForm):
    name = forms.CharField(label="Name", max_length=200)
    role = forms.CharField(label="Who they are", required=False, max_length=200)
    phone = forms.CharField(label="Phone", required=False, max_length=40)
    about = forms.CharField(label="Call them about", required=False, max_length=300)


class ContactEditForm(ContactForm, VersionedPlanForm):
    pass


class ReviewForm(PlanForm):
    due_on = forms.DateField(label="Review date", **DATE)
    purpose = forms.CharField(label="What to look at", required=False, max_length=300)


class ReviewEditForm(ReviewForm, VersionedPlanForm):
    done = forms.BooleanField(label="Review done", required=False)


class ProgressNoteForm(PlanForm):
    text = forms.CharField(
        label="Progress note", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(PlanForm):
    text = forms.CharField(
        label="Add a comment", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseForm(PlanForm):
    outcome = forms.ChoiceField(choices=[("", "Choose an outcome"), *RecoveryPlan.Outcome.choices])


class InviteForm(PlanForm):
    name = forms.CharField(label="Their name", max_length=200)
    email = forms.EmailField(label="Email address")
    relationship = forms.CharField(label="Relationship to the person", max_length=100)


class AddStaffForm(PlanForm):
    username = forms.CharField(label="Username of the colleague to add", max_length=150)


class AcceptInvitationForm(PlanForm):
    username = forms.CharField(label="Choose a username", max_length=150)
    password = forms.CharField(label="Choose a password", widget=forms.PasswordInput, strip=False)
    password_again = forms.CharField(
        label="Type the password again", widget=forms.PasswordInput, strip=False
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The passwords do not match.")
        return data
