"""Who may open what: every URL of the application against every persona, in one matrix.

The URL patterns come from Django's resolver (through every include), and
``test_every_url_pattern_has_a_row`` fails when one has no row here: a new URL needs its row.
Records in URLs are real (tests/homefirst/world.py): a patient on the nurse's ward, resident
in the social worker's council, referred to the carer's service, with a plan the family was
invited to. A signed-in user who may not see a record gets 404; nobody signed in is sent to
sign in (pages) or answered 401 (API). POST-only URLs answer GET with 405, and a POST from
someone who may not see the record with 404. Django's admin is covered by rule: only the
administrator gets in; everyone else is sent to the admin's sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from discharge.models import Patient
from tests.homefirst.world import PERSONAS, World, sign_in

pytestmark = pytest.mark.django_db

LOGIN = "sign-in"  # 302 to /accounts/login/
ADMIN_LOGIN = "admin sign-in"  # 302 to /admin/login/
ANY_LOGIN = "either sign-in"  # 302 to either (the admin's own, or the site's before it)
HTMX = {"HTTP_HX_REQUEST": "true"}
SIGNED_IN = tuple(p for p in PERSONAS if p != "anonymous")

# Who sees what (tests/homefirst/world.py builds the records this way).
WARD = {"ward_nurse", "discharge_coordinator"}  # the trust's ward staff: the board
HUB = {"discharge_coordinator", "social_worker"}  # the care transfer hub
SEES_ADMISSION = WARD | {"social_worker", "provider_carer"}  # trust, council, offered provider
SEES_PLAN = SEES_ADMISSION | {"family_member"}  # and the family invited to the plan
SEES_REFERRAL = SEES_ADMISSION
DASHBOARDS = WARD | {"social_worker", "system_leader", "outsider"}  # their trust or council
CAPACITY = HUB | {"provider_carer"}  # the hub and the providers


def expect(
    ok: set[str] | frozenset[str] = frozenset(),
    status: int = 200,
    *,
    others: int = 404,
    anonymous: int | str = LOGIN,
    **special: int | str,
) -> dict[str, int | str]:
    """Statuses by persona: ``status`` for ``ok``, ``others`` for the rest signed in."""
    statuses: dict[str, int | str] = {p: others for p in SIGNED_IN}
    statuses.update(dict.fromkeys(ok, status))
    statuses["anonymous"] = anonymous
    statuses.update(special)
    return statuses


def everyone(status: int = 200, **special: int | str) -> dict[str, int | str]:
    return expect(set(SIGNED_IN), status, **special)


def api(ok, status: int = 200, **special: int | str) -> dict[str, int | str]:
    """The API answers nobody signed in with 401 (a Bearer challenge), not a redirect."""
    return expect(ok, status, anonymous=401, **special)


@dataclass(frozen=True)
class Row:
    """One request of the matrix: a URL (by name, with arguments from the world) and a method."""

    name: str
    statuses: dict[str, int | str]
    kwargs: Callable[[World], dict] = lambda w: {}
    method: str = "get"
    htmx: bool = False
    data: dict = field(default_factory=dict)
    label: str = ""
    path: Callable[[World], str] | None = None  # for the few patterns with no name

    @property
    def id(self) -> str:
        return "-".join(filter(None, [self.name, self.label, self.method.upper()]))

    def url(self, world: World) -> str:
        if self.path is not None:
            return self.path(world)
        return reverse(self.name, kwargs=self.kwargs(world))


def ward(w: World) -> dict:
    return {"ward_id": w.ward.pk}


def admission(w: World) -> dict:
    return {"admission_id": w.admission.pk}


def referral(w: World) -> dict:
    return {"referral_id": w.referral.pk}


def plan(w: World, **more) -> dict:
    return {"plan_id": w.plan.pk, **more}


def pk(attribute: str) -> Callable[[World], dict]:
    """``{"pk": world.<attribute>.pk}``."""
    return lambda w: {"pk": getattr(w, attribute).pk}


def get_and_post(name: str, kwargs, viewers, post_status: int, **post) -> list[Row]:
    """A POST-only URL: 405 to a GET, 404 to a POST from anyone who may not see the record."""
    return [
        Row(name, everyone(405), kwargs),
        Row(name, expect(viewers, post_status), kwargs, method="post", **post),
    ]


def api_get_and_post(name: str, kwargs, viewers, post_status: int, **special) -> list[Row]:
    return [
        Row(name, api(set(SIGNED_IN), 405), kwargs),
        Row(name, api(viewers, post_status, **special), kwargs, method="post"),
    ]


# --- Pages, partials and exports -----------------------------------------------------------

PAGES: list[Row] = [
    Row("home", everyone(200, ward_nurse=302, discharge_coordinator=302, outsider=302)),
    Row("login", everyone(200, anonymous=200)),
    Row("logout", everyone(405)),
    Row("two_factor_verify", everyone(302, system_leader=200, administrator=200)),
    Row("two_factor_setup", everyone(200)),
    # The ward board and its partials: the trust's ward staff only.
    Row("discharge:site_overview", everyone(200)),
    Row("discharge:board", expect(WARD), ward),
    Row(
        "discharge:board",
        expect({"outsider"}),
        lambda w: {"ward_id": w.other_ward.pk},
        label="another trust",
    ),
    Row("discharge:board_print", expect(WARD), ward),
    Row("discharge:board_summary", expect(WARD), ward, htmx=True),
    *[
        Row(f"discharge:{name}", expect(WARD), admission, htmx=True)
        for name in ("row", "row_ctr", "row_edd", "row_pathway", "row_delay", "row_discharge")
    ],
    Row("discharge:patient", expect(SEES_ADMISSION), lambda w: {"patient_id": w.patient.pk}),
    # Transfers of care.
    Row("pathways:hub_queue", expect(HUB)),
    Row("pathways:hub_queue_rows", expect(HUB), htmx=True),
    Row("pathways:tracker", expect({"provider_carer"})),
    *get_and_post(
        "pathways:tracker_step",
        lambda w: {"referral_id": w.referral.pk, "action": "first_visit"},
        SEES_REFERRAL,
        422,  # seen, but no first visit before the discharge: refused on the card
        htmx=True,
    ),
    Row("pathways:capacity", expect(CAPACITY)),
    Row(
        "pathways:service_capacity",
        expect({"provider_carer"}),
        lambda w: {"service_id": w.service.pk},
    ),
    Row("pathways:at_home_checks", expect(CAPACITY)),
    Row("pathways:refer", expect(WARD), admission),
    Row("pathways:admission_referrals", expect(SEES_ADMISSION), admission, htmx=True),
    # No version sent: answered as a stale edit, nothing saved.
    *get_and_post("pathways:board_delay_confirm", admission, WARD, 409, htmx=True),
    Row("pathways:ward_referral_statuses", expect(WARD), ward, htmx=True),
    Row("pathways:referral", expect(SEES_REFERRAL), referral),
    Row("pathways:referral_status", expect(SEES_REFERRAL), referral, htmx=True),
    *get_and_post(
        "pathways:referral_step",
        lambda w: {"referral_id": w.referral.pk, "action": "accept"},
        SEES_REFERRAL,
        422,  # an empty form: errors beside the fields (each step's own actor is tested elsewhere)
    ),
    *get_and_post("pathways:referral_delay", referral, SEES_REFERRAL, 422),
    *get_and_post("pathways:at_home_record", referral, SEES_REFERRAL, 422),
    # Recovery plans: staff caring for the person, and the family invited to the plan.
    # Staff who see the person are sent to the plan they already have.
    *get_and_post(
        "recovery_plans:start", lambda w: {"patient_id": w.patient.pk}, SEES_ADMISSION, 302
    ),
    Row(
        "recovery_plans:invitation",
        everyone(200, anonymous=200),
        lambda w: {"token": w.invitation_token},
    ),
    *[
        Row(f"recovery_plans:{name}", expect(SEES_PLAN), plan)
        for name in ("plan", "print", "history", "people")
    ],
    # The family reads the whole plan but changes only "about me": other forms are refused.
    Row("recovery_plans:close", expect(SEES_PLAN, family_member=403), plan),
    Row("recovery_plans:poll", expect(SEES_PLAN), plan, htmx=True),
    Row(
        "recovery_plans:section",
        expect(SEES_PLAN),
        lambda w: plan(w, key="about_me"),
        htmx=True,
    ),
    Row(
        "recovery_plans:section_edit",
        expect(SEES_PLAN),
        lambda w: plan(w, key="about_me"),
        htmx=True,
    ),
    Row(
        "recovery_plans:section_edit",
        expect(SEES_PLAN, family_member=403),
        lambda w: plan(w, key="support_network"),
        htmx=True,
        label="staff only",
    ),
    *get_and_post(
        "recovery_plans:comment", lambda w: plan(w, key="about_me"), SEES_PLAN, 422, htmx=True
    ),
    # The lease on a section is renewed (204) for anyone on the plan.
    *get_and_post(
        "recovery_plans:presence", lambda w: plan(w, key="about_me"), SEES_PLAN, 204, htmx=True
    ),
    Row(
        "recovery_plans:presence",
        expect(SEES_PLAN, 204, family_member=403),
        lambda w: plan(w, key="support_network"),
        method="post",
        htmx=True,
        label="staff only",
    ),
    *[
        Row(
            "recovery_plans:item_add",
            expect(SEES_PLAN, family_member=403),
            lambda w, kind=kind: plan(w, kind=kind),
            htmx=True,
            label=kind,
        )
        for kind in ("goals", "actions", "contacts", "reviews")
    ],
    *[
        Row(
            "recovery_plans:item_edit",
            expect(SEES_PLAN, family_member=403),
            lambda w, kind=kind: plan(w, kind=kind, item_id=w.items[kind]),
            htmx=True,
            label=kind,
        )
        for kind in ("goals", "actions", "contacts", "reviews")
    ],
    *get_and_post(
        "recovery_plans:progress_note",
        lambda w: plan(w, goal_id=w.items["goals"]),
        SEES_PLAN,
        422,
        htmx=True,
    ),
    # Flow dashboards and their exports: counts for the user's trust, council or system.
    Row("dashboards:index", expect(DASHBOARDS)),
    Row("dashboards:status", expect(DASHBOARDS), htmx=True),
    *[
        Row(f"dashboards:{name}", expect(DASHBOARDS), lambda w, fmt=fmt: {"fmt": fmt}, label=fmt)
        for name in ("export", "sitrep", "drd_timeliness")
        for fmt in ("csv", "xlsx")
    ],
]

# --- The API, with a browser session (tokens are tested in tests/interop) ---------------------

ADMISSION_HISTORY = ("delays", "edd", "pathway", "reviews", "ward-stays")

API: list[Row] = [
    Row("api:api-root", api(set(SIGNED_IN))),
    *[
        Row(f"api:{name}-list", api(set(SIGNED_IN)))  # each sees their own, maybe none
        for name in ("ward", "patient", "admission", "plan", "referral")
    ],
    Row("api:ward-detail", api(WARD), pk("ward")),
    Row("api:patient-detail", api(SEES_ADMISSION), pk("patient")),
    Row("api:admission-detail", api(SEES_ADMISSION), pk("admission")),
    *[
        Row(f"api:admission-{name}", api(SEES_ADMISSION), pk("admission"))
        for name in ADMISSION_HISTORY
    ],
    Row("api:plan-detail", api(SEES_PLAN), pk("plan")),
    *[
        Row(f"api:{name}-detail", api(SEES_PLAN), lambda w, name=name: {"pk": w.items[f"{name}s"]})
        for name in ("goal", "action")
    ],
    Row("api:referral-detail", api(SEES_REFERRAL), pk("referral")),
    Row("api:referral-transitions", api(SEES_REFERRAL), pk("referral")),
    # Writes the admitting trust's ward staff make: others who see the stay are refused (403).
    *[
        row
        for name in ("transfer", "discharge")
        for row in api_get_and_post(
            f"api:admission-{name}",
            pk("admission"),
            WARD,
            428,  # no If-Match: an edit must name the version it was based on
            social_worker=403,
            provider_carer=403,
        )
    ],
    *[
        row
        for name in ("goals", "actions")
        for row in api_get_and_post(f"api:plan-{name}", pk("plan"), SEES_PLAN, 400)
    ],
    Row(
        "api:plan-section", api(set(SIGNED_IN), 405), lambda w: {"pk": w.plan.pk, "key": "about_me"}
    ),
    Row(
        "api:plan-section",
        api(SEES_PLAN, 428),  # no If-Match, asked before whether the family may change it
        lambda w: {"pk": w.plan.pk, "key": "about_me"},
        method="patch",
    ),
    # HL7 comes from integration clients with a token, never from a browser session.
    Row("api:hl7-message", api(set(SIGNED_IN), 405)),
    Row("api:hl7-message", api(set(SIGNED_IN), 403), method="post"),
    Row("api:dashboard-daily", api(DASHBOARDS)),
    Row("api:fhir-patient", api(SEES_ADMISSION), pk("patient")),
    Row("api:fhir-patient-everything", api(SEES_ADMISSION), pk("patient")),
    Row("api:fhir-encounter", api(SEES_ADMISSION), pk("admission")),
    Row("api:fhir-careplan", api(SEES_PLAN), pk("plan")),
    Row("api:fhir-goal", api(SEES_PLAN), lambda w: {"pk": w.items["goals"]}),
    Row("api:fhir-episodeofcare", api(SEES_REFERRAL), pk("referral")),
    # The schema and its documentation describe the API to anyone; they hold no records.
    Row("api:schema", everyone(200, anonymous=200)),
    Row("api:docs", everyone(200, anonymous=200)),
]


# --- Django's admin, by rule ------------------------------------------------------------------

ADMINISTRATOR = {"administrator"}

# Records that change only through the services (or are logs): the admin shows, never edits.
ADMIN_READ_ONLY = {
    "discharge.patient",
    "discharge.admission",
    "discharge.patientrecordview",
    "pathways.servicecapacity",
    "pathways.referral",
    "interop.hl7message",  # received, replayed or linked; never typed in nor deleted
    "pghistory.events",
}
# Sign-in records: made by signing in, cleared by an administrator (to lift a lockout).
ADMIN_NO_ADD = ADMIN_READ_ONLY | {"axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}


def in_admin(status: int = 200, others: int | str = ADMIN_LOGIN) -> dict[str, int | str]:
    """Only the administrator gets in; everyone else, signed in or not, is sent to sign in."""
    return expect(ADMINISTRATOR, status, others=others, anonymous=ANY_LOGIN)


def _admin_object(model) -> Callable[[World], dict]:
    def kwargs(world: World) -> dict:
        return {"object_id": world.admin_objects[model].pk}

    return kwargs


def _admin_rows() -> Iterator[Row]:
    yield Row("admin:index", in_admin())
    yield Row("admin:login", everyone(200, anonymous=200, administrator=302))
    # Signing out is a POST; the admin sends anyone else back to its index (then to sign in).
    yield Row("admin:logout", in_admin(405, others=302))
    yield Row("admin:password_change", in_admin())
    yield Row("admin:password_change_done", in_admin())
    yield Row("admin:autocomplete", in_admin(403))  # no field named: refused, not a crash
    yield Row("admin:jsi18n", in_admin())
    yield Row(
        "admin:view_on_site",
        in_admin(404),  # patients have no page outside the application's own views
        lambda w: {
            "content_type_id": ContentType.objects.get_for_model(Patient).pk,
            "object_id": w.patient.pk,
        },
    )
    yield Row("admin:catch-all", in_admin(404), path=lambda w: "/admin/no-such-page/")
    # Extra pages some admins add: a user's password, an authenticator's key and QR code.
    people = lambda w: {"id": w.people["ward_nurse"].pk}  # noqa: E731
    yield Row("admin:auth_user_password_change", in_admin(), people)
    device = _admin_object(TOTPDevice)
    yield Row(
        "admin:otp_totp_totpdevice_config", in_admin(), lambda w: {"pk": device(w)["object_id"]}
    )
    yield Row(
        "admin:otp_totp_totpdevice_qrcode", in_admin(), lambda w: {"pk": device(w)["object_id"]}
    )
    for app_label in sorted({m._meta.app_label for m in admin.site._registry}):
        yield Row(
            "admin:app_list", in_admin(), lambda w, a=app_label: {"app_label": a}, label=app_label
        )
    for model in admin.site._registry:
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        read_only = opts.label_lower in ADMIN_READ_ONLY
        no_add = opts.label_lower in ADMIN_NO_ADD
        obj = _admin_object(model)
        yield Row(f"{prefix}_changelist", in_admin())
        yield Row(f"{prefix}_add", in_admin(403 if no_add else 200))
        yield Row(f"{prefix}_change", in_admin(), obj)
        yield Row(f"{prefix}_history", in_admin(), obj)
        yield Row(f"{prefix}_delete", in_admin(403 if read_only else 200), obj)
        # The bare object URL (an unnamed pattern) redirects to its change page.
        yield Row(
            "admin:object",
            in_admin(302),
            label=opts.label_lower,
            path=lambda w, p=prefix, o=obj: reverse(f"{p}_change", kwargs=o(w)).removesuffix(
                "change/"
            ),
        )


ADMIN: list[Row] = list(_admin_rows())
ROWS: list[Row] = PAGES + API + ADMIN


# --- The routes Django knows ------------------------------------------------------------------


def _join(route: str, more: str) -> str:
    """Routes joined as Django's resolver reports them (``ResolverMatch.route``)."""
    if not route:
        return more
    return route + more.removeprefix("^")


def url_routes(patterns=None, prefix: str = "") -> Iterator[str]:
    """Every URL pattern's route, through every include."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = _join(prefix, str(entry.pattern))
        if isinstance(entry, URLResolver):
            yield from url_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def route_of(path: str) -> str:
    return resolve(urlsplit(path).path).route


def test_every_url_pattern_has_a_row(world):
    covered = {route_of(row.url(world)) for row in ROWS}
    missing = sorted(set(url_routes()) - covered)
    assert not missing, f"URL patterns with no row in the access matrix: {missing}"


def test_every_row_names_each_persona_once():
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids)), "two rows share an id"
    for row in ROWS:
        assert set(row.statuses) == set(PERSONAS), row.id


# --- The matrix ------------------------------------------------------------------------------

SIGN_IN_PAGES = {
    LOGIN: ("/accounts/login/",),
    ADMIN_LOGIN: ("/admin/login/",),
    ANY_LOGIN: ("/accounts/login/", "/admin/login/"),
}


def _request(client, world: World, row: Row, persona: str):
    """The row's request as the persona, with their session signed in once for the module."""
    sign_in(client, world, persona)
    path = row.url(world)
    headers = HTMX if row.htmx else {}
    if row.method == "get":
        return client.get(path, **headers)
    if path.startswith("/api/"):
        return getattr(client, row.method)(
            path, row.data, content_type="application/json", **headers
        )
    return getattr(client, row.method)(path, row.data, **headers)


def _unexpected(response, row: Row, persona: str) -> str | None:
    """What went differently from the matrix, naming the request and persona; None if as expected."""
    expected = row.statuses[persona]
    location = response.get("Location", "")
    if expected in SIGN_IN_PAGES:
        ok = response.status_code == 302 and location.startswith(SIGN_IN_PAGES[expected])
    else:
        ok = response.status_code == expected
    if ok:
        return None
    got = f"{response.status_code} {location}".strip()
    return f"{row.method.upper()} {response.request['PATH_INFO']} as {persona}: {got}, expected {expected}"


@pytest.mark.parametrize(
    ("row", "persona"),
    [
        pytest.param(row, persona, id=f"{row.id}-{persona}")
        for row in PAGES + API
        for persona in PERSONAS
    ],
)
def test_access(client, world, row, persona):
    response = _request(client, world, row, persona)
    problem = _unexpected(response, row, persona)
    assert problem is None, problem


@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in ADMIN])
def test_admin_access(client, world, row):
    """The admin by rule, every persona in one test (its many URLs share one gate), each request
    rolled back so none sees another's changes; a failure names each persona it failed for."""
    problems = []
    for persona in PERSONAS:
        with transaction.atomic():
            response = _request(client, world, row, persona)
            transaction.set_rollback(True)
        problems.append(_unexpected(response, row, persona))
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)
