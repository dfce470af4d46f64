"""Form helpers shared by every app: the NHS design system's classes on Django widgets."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.forms.widgets import Input

STALE_FORM = "This form is out of date or incomplete: reload the page and try again."

# Order matters: CheckboxSelectMultiple is a Select, so it comes first.
_WIDGET_CLASSES = {
    forms.CheckboxSelectMultiple: "nhsuk-checkboxes__input",
    forms.Select: "nhsuk-select",
    forms.Textarea: "nhsuk-textarea",
    Input: "nhsuk-input",
}


def _css_class(widget: forms.Widget) -> str:
    for widget_type, css in _WIDGET_CLASSES.items():
        if isinstance(widget, widget_type):
            return css
    return ""


class NhsFormMixin:
    """Give each widget its design-system class, and its error class and description on error."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if css := _css_class(field.widget):
                field.widget.attrs.setdefault("class", css)

    def full_clean(self) -> None:
        super().full_clean()
        self._raise_hidden_errors()
        self._mark_errors()

    def _raise_hidden_errors(self) -> None:
        """A hidden field (the version an edit started from) has nowhere to show its error."""
        hidden = [f.name for f in self.hidden_fields() if f.name in self._errors]
        for name in hidden:
            del self._errors[name]
        if hidden:
            self.add_error(None, STALE_FORM)

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        self._mark_errors()

    def _mark_errors(self) -> None:
        for name in self.errors:
            field = self.fields.get(name)
            if field is None:
                continue
            attrs = field.widget.attrs
            base = _css_class(field.widget)
            if base and f"{base}--error" not in attrs.get("class", ""):
                attrs["class"] = f"{attrs.get('class', base)} {base}--error"
            attrs["aria-describedby"] = f"id_{name}-error"


class UsernameLengthChecked:
    """Check the username's length before anyone tries it.

    Django's sign-in forms set the limit after the field is built, so nothing enforced it: an
    over-long username reached the failed sign-in log (django-axes) and overflowed its column.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class SignInForm(UsernameLengthChecked, AuthenticationForm):
    """The sign-in page's form."""


class AdminSignInForm(UsernameLengthChecked, AdminAuthenticationForm):
    """The admin site's sign-in form."""
