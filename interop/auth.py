"""Token authentication for integration clients, and the scope each request needs."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from interop import services
from interop.models import ApiClient


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` (or ``Token <token>``): the client's service user."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Bearer <token>'."
            )
        try:
            token = header[1].decode()
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("The token is not valid.") from error
        client = services.api_client_for_token(token)
        if client is None:
            raise exceptions.AuthenticationFailed("The token is not valid or has been revoked.")
        return client.user, client

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}


def client_of(request) -> ApiClient | None:
    """The integration client behind a request, or None for a browser session."""
    return request.auth if isinstance(request.auth, ApiClient) else None


class HasScope(permissions.BasePermission):
    """A token must carry the scope the view needs (reads need 'read', writes 'write').

    A browser session is not limited by scopes: what it may see and change follows from the
    person's role, through the same selectors and services as the pages.
    """

    message = "This API client is not allowed to do that."

    def has_permission(self, request, view) -> bool:
        client = client_of(request)
        if client is None:
            return True
        scope = getattr(view, "required_scope", None)
        if scope is None:
            scope = (
                ApiClient.Scope.READ
                if request.method in permissions.SAFE_METHODS
                else ApiClient.Scope.WRITE
            )
        return client.allows(scope)
