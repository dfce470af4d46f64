"""The project's URLs."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from homefirst import two_factor, views
from homefirst.forms import SignInForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", two_factor.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", two_factor.two_factor_setup, name="two_factor_setup"),
    path("admin/", admin.site.urls),
    path("", include("discharge.urls")),
    path("pathways/", include("pathways.urls")),
    path("plans/", include("recovery_plans.urls")),
    path("dashboards/", include("dashboards.urls")),
    path("api/v1/", include("interop.api.urls")),
]

# A database that cannot be reached answers 503 with a plain page (see homefirst.unavailable).
handler500 = "homefirst.unavailable.server_error"
