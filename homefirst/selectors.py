"""Reads about organisations and people, scoped to the user asking."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from homefirst.models import Membership, Organisation, Site, User, Ward

Role = Membership.Role

# Roles that may open a ward board and edit discharge readiness at their trust.
WARD_ROLES = frozenset({Role.WARD_STAFF, Role.DISCHARGE_COORDINATOR})


def memberships_of(user: User) -> list[Membership]:
    """The user's memberships, read once per request (cached on the user object)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_homefirst_memberships", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).select_related("organisation"))
        user._homefirst_memberships = cached
    return cached


def organisation_ids(user: User, roles: Iterable[str]) -> set[int]:
    """Ids of the organisations where the user holds any of the given roles."""
    wanted = set(roles)
    return {m.organisation_id for m in memberships_of(user) if m.role in wanted}


def has_role(user: User, *roles: str) -> bool:
    """True when the user holds any of the roles in any organisation."""
    return bool(organisation_ids(user, roles))


def organisations_visible_to(user: User) -> QuerySet[Organisation]:
    """Every organisation in the system is public knowledge to a signed-in member."""
    if not memberships_of(user):
        return Organisation.objects.none()
    return Organisation.objects.all()


def sites_visible_to(user: User) -> QuerySet[Site]:
    """Sites of the trusts where the user works on the wards."""
    return Site.objects.filter(organisation_id__in=organisation_ids(user, WARD_ROLES))


def wards_visible_to(user: User) -> QuerySet[Ward]:
    """Wards whose boards the user may open: those of their own trust."""
    return Ward.objects.filter(site__organisation_id__in=organisation_ids(user, WARD_ROLES))
