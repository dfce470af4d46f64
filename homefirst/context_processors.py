"""Template context shared by every page."""

from django.http import HttpRequest

from homefirst.selectors import memberships_of


def membership(request: HttpRequest) -> dict:
    """The signed-in user's memberships, for the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"memberships": memberships_of(user)}
