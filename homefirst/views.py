"""Pages about the signed-in person."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dashboards.selectors import dashboard_access
from discharge.record_views import log_shown
from homefirst.selectors import WARD_ROLES, has_role
from recovery_plans.selectors import family_plans


def home(request: HttpRequest) -> HttpResponse:
    """Send ward staff to their wards; everyone else sees what they can reach."""
    if has_role(request.user, *WARD_ROLES):
        return redirect("discharge:site_overview")
    plans = list(family_plans(request.user))
    # The relative's name is on the page: a view of their record, logged like any other.
    log_shown(request, (plan.patient_id for plan in plans))
    context = {"family_plans": plans, "dashboards": dashboard_access(request.user) is not None}
    return render(request, "homefirst/home.html", context)
