"""Pages about the signed-in person."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from homefirst.selectors import WARD_ROLES, has_role
from recovery_plans.selectors import family_plans


def home(request: HttpRequest) -> HttpResponse:
    """Send ward staff to their wards; everyone else sees what they can reach."""
    if has_role(request.user, *WARD_ROLES):
        return redirect("discharge:site_overview")
    return render(request, "homefirst/home.html", {"family_plans": family_plans(request.user)})
