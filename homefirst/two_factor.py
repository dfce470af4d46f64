"""Two-factor sign-in with a time-based code (TOTP): optional for everyone, required for
administrators and system leaders."""

from __future__ import annotations

import base64
from collections.abc import Callable

import segno
from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from homefirst.forms import NhsFormMixin
from homefirst.models import Membership, User
from homefirst.selectors import memberships_of

ROLES_REQUIRING_TWO_FACTOR = {Membership.Role.ADMINISTRATOR, Membership.Role.SYSTEM_LEADER}
OPEN_PATHS = ("/accounts/", "/static/", "/plans/invitations/")
NOT_NEEDED = "homefirst_second_factor_not_needed"


def two_factor_required(user: User) -> bool:
    """Administrators, system leaders and anyone with admin-site access must use a second factor."""
    return user.is_staff or any(m.role in ROLES_REQUIRING_TWO_FACTOR for m in memberships_of(user))


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


class TwoFactorMiddleware:
    """Send a signed-in user who needs (or has set up) a second factor to give it first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(OPEN_PATHS)
            and not request.session.get(NOT_NEEDED)
        ):
            has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            if not has_device and not two_factor_required(user):
                # Decided once per session: a device added later is verified as it is added.
                request.session[NOT_NEEDED] = True
            else:
                target = "two_factor_verify" if has_device else "two_factor_setup"
                url = f"{reverse(target)}?next={request.get_full_path()}"
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
        return self.get_response(request)


class CodeForm(NhsFormMixin, forms.Form):
    code = forms.CharField(
        label="6-digit code from your authenticator app",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next(request: HttpRequest) -> str:
    target = request.GET.get("next") or request.POST.get("next") or settings.LOGIN_REDIRECT_URL
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("home")


@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: show the key (and a QR code), then confirm it with a code."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=request.user, name="Authenticator app", confirmed=False
        )
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error(
            "code", "That code is not right. Check the time on your phone and try again."
        )
    qr = segno.make(device.config_url).svg_inline(scale=4, title="Scan with your authenticator app")
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "qr": qr, "secret": _b32(device), "next": _next(request)}
    return render(request, "registration/two_factor_setup.html", context, status=status)


@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Ask for the current code after the password."""
    device = confirmed_device(request.user)
    if device is None:
        return redirect("two_factor_setup")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("code", "That code is not right. Try the newest code in your app.")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": _next(request)},
        status=status,
    )


def _b32(device: TOTPDevice) -> str:
    """The key as people type it into an app that cannot scan."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")
