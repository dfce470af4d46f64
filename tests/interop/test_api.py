"""The REST API: tokens bound to one organisation, the same scoping as the pages, ETags, errors."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from discharge import services as discharge
from discharge.models import Admission, Patient
from interop.models import ApiClient
from interop.services import api_client_create, api_client_revoke
from recovery_plans.models import Goal, Participant
from tests.factories import AdmissionFactory, recovery_plan_for
from tests.interop.conftest import bearer, signed_in

pytestmark = pytest.mark.django_db


def detail(name, pk):
    return reverse(f"api:{name}-detail", args=[pk])


# --- Authentication ---------------------------------------------------------------------------


def test_no_credentials_is_401_with_a_bearer_challenge(client, admission):
    response = client.get(reverse("api:admission-list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_or_revoked_token_is_401(client, admission, trust):
    assert client.get(reverse("api:admission-list"), **bearer("nope")).status_code == 401
    api, token = api_client_create(name="x", organisation=trust, role="ward_staff", scopes=["read"])
    assert client.get(reverse("api:admission-list"), **bearer(token)).status_code == 200
    api_client_revoke(client=api)
    assert client.get(reverse("api:admission-list"), **bearer(token)).status_code == 401


def test_only_the_token_hash_is_stored(trust):
    api, token = api_client_create(name="x", organisation=trust, role="ward_staff", scopes=["read"])
    stored = ApiClient.objects.get(pk=api.pk)
    assert token not in (stored.token_hash, stored.token_prefix * 10)
    assert not stored.user.has_usable_password()


def test_a_client_sees_its_organisations_admissions_only(
    client, admission, api_token, other_trust_token
):
    AdmissionFactory()  # another trust's patient
    mine = client.get(reverse("api:admission-list"), **bearer(api_token)).json()
    assert [a["id"] for a in mine["results"]] == [admission.pk]
    theirs = client.get(reverse("api:admission-list"), **bearer(other_trust_token)).json()
    assert theirs["results"] == []
    assert (
        client.get(detail("admission", admission.pk), **bearer(other_trust_token)).status_code
        == 404
    )


def test_a_read_only_client_cannot_write(client, admission, trust):
    _api, token = api_client_create(
        name="r", organisation=trust, role="ward_staff", scopes=["read"]
    )
    url = reverse("api:admission-edd", args=[admission.pk])
    response = client.post(
        url,
        {"expected_discharge_date": "2030-01-01"},
        content_type="application/json",
        HTTP_IF_MATCH="*",
        **bearer(token),
    )
    assert response.status_code == 403


# --- Reads ------------------------------------------------------------------------------------


def test_admission_list_is_paginated_and_filtered(client, ward, api_token, ward_nurse):
    for _ in range(3):
        AdmissionFactory(current_ward=ward)
    first = AdmissionFactory(current_ward=ward)
    discharge.admission_discharge(
        admission=first,
        by=ward_nurse,
        discharged_at=timezone.now(),
        destination="usual_residence",
        actual_pathway="0",
        expected_version=None,
    )
    body = client.get(
        reverse("api:admission-list"), {"status": "in_hospital"}, **bearer(api_token)
    ).json()
    assert body["count"] == 3 and "next" in body
    nhs = first.patient.nhs_number
    body = client.get(
        reverse("api:admission-list"), {"nhs_number": nhs}, **bearer(api_token)
    ).json()
    assert [a["id"] for a in body["results"]] == [first.pk]


def test_a_bad_filter_is_400_naming_it(client, admission, api_token):
    response = client.get(
        reverse("api:admission-list"), {"admitted_after": "yesterday"}, **bearer(api_token)
    )
    assert response.status_code == 400
    assert "admitted_after" in response.json()


@pytest.mark.parametrize("size", [2, 12])
def test_admission_list_queries_do_not_grow(
    client, ward, api_token, size, django_assert_max_num_queries
):
    for _ in range(size):
        AdmissionFactory(current_ward=ward)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("api:admission-list"), **bearer(api_token))
    assert response.json()["count"] == size


def test_get_sends_an_etag_and_if_none_match_gives_304(client, admission, api_token):
    response = client.get(detail("admission", admission.pk), **bearer(api_token))
    etag = response["ETag"]
    assert etag == f'"admission-{admission.pk}-v{admission.version}"'
    again = client.get(
        detail("admission", admission.pk), HTTP_IF_NONE_MATCH=etag, **bearer(api_token)
    )
    assert again.status_code == 304


# --- Writes and their preconditions -----------------------------------------------------------


def edd(client, admission, token, date="2030-01-01", **headers):
    return client.post(
        reverse("api:admission-edd", args=[admission.pk]),
        {"expected_discharge_date": date},
        content_type="application/json",
        **headers,
        **bearer(token),
    )


def test_a_write_without_if_match_is_428(client, admission, api_token):
    assert edd(client, admission, api_token).status_code == 428


def test_a_write_with_a_stale_etag_is_412_and_saves_nothing(client, admission, api_token):
    response = edd(client, admission, api_token, HTTP_IF_MATCH=f'"admission-{admission.pk}-v0"')
    assert response.status_code == 412
    admission.refresh_from_db()
    assert admission.expected_discharge_date is None


def test_a_write_with_the_current_etag_saves_and_returns_the_next(client, admission, api_token):
    etag = client.get(detail("admission", admission.pk), **bearer(api_token))["ETag"]
    response = edd(client, admission, api_token, HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    admission.refresh_from_db()
    assert admission.expected_discharge_date == dt.date(2030, 1, 1)
    assert response["ETag"] == f'"admission-{admission.pk}-v{admission.version}"'
    history = client.get(reverse("api:admission-edd", args=[admission.pk]), **bearer(api_token))
    assert [h["expected_discharge_date"] for h in history.json()] == ["2030-01-01"]


def test_a_change_slipping_in_after_the_check_is_409(client, admission, api_token, monkeypatch):
    from interop.api import views

    etag = client.get(detail("admission", admission.pk), **bearer(api_token))["ETag"]
    real = views.if_match_version

    def then_someone_else_saves(request, obj, *, strict):
        version = real(request, obj, strict=strict)
        Admission.objects.filter(pk=obj.pk).update(version=obj.version + 1)
        return version

    monkeypatch.setattr(views, "if_match_version", then_someone_else_saves)
    response = edd(client, admission, api_token, HTTP_IF_MATCH=etag)
    assert response.status_code == 409
    assert response.json()["current_version"] == admission.version + 1


def test_bad_input_is_400_naming_the_field(client, admission, api_token):
    response = edd(client, admission, api_token, date="not a date", HTTP_IF_MATCH="*")
    assert response.status_code == 400
    assert "expected_discharge_date" in response.json()
    before_admission = edd(client, admission, api_token, date="2000-01-01", HTTP_IF_MATCH="*")
    assert before_admission.status_code == 400
    assert "expected_discharge_date" in before_admission.json()


def test_review_pathway_delay_transfer_and_discharge_through_the_api(
    client, admission, ward, api_token
):
    from tests.factories import WardFactory

    other = WardFactory(site=ward.site)

    def post(action, payload, code=200):
        etag = client.get(detail("admission", admission.pk), **bearer(api_token))["ETag"]
        response = client.post(
            reverse(f"api:admission-{action}", args=[admission.pk]),
            payload,
            content_type="application/json",
            HTTP_IF_MATCH=etag,
            **bearer(api_token),
        )
        assert response.status_code == code, response.content
        return response.json()

    post("reviews", {"criteria": []}, 201)
    post("pathway", {"pathway": "1"})
    post("delays", {"reason": "HOS01"}, 201)
    post("transfer", {"ward": other.pk, "bed_label": "Z1"})
    result = post(
        "discharge",
        {
            "discharged_at": timezone.now().isoformat(),
            "destination": "usual_residence",
            "actual_pathway": "1",
        },
    )
    assert result["status"] == "discharged" and result["ward"] == other.pk
    assert (
        len(
            client.get(
                reverse("api:admission-reviews", args=[admission.pk]), **bearer(api_token)
            ).json()
        )
        == 1
    )
    assert (
        len(
            client.get(
                reverse("api:admission-ward-stays", args=[admission.pk]), **bearer(api_token)
            ).json()
        )
        == 2
    )


def test_a_social_worker_may_read_but_not_edit_the_ward_record(client, admission, social_worker):
    signed_in(client, social_worker)
    assert client.get(detail("admission", admission.pk)).status_code == 200
    response = client.post(
        reverse("api:admission-edd", args=[admission.pk]),
        {"expected_discharge_date": "2030-01-01"},
        content_type="application/json",
        HTTP_IF_MATCH="*",
    )
    assert response.status_code == 403


def test_admit_through_the_api(client, ward, api_token, council):
    from tests.factories import PatientFactory

    patient = PatientFactory(local_authority=council)
    response = client.post(
        reverse("api:admission-list"),
        {
            "nhs_number": patient.nhs_number,
            "ward": ward.pk,
            "admitted_at": timezone.now().isoformat(),
            "bed_label": "Q1",
        },
        content_type="application/json",
        **bearer(api_token),
    )
    assert response.status_code == 201, response.content
    assert Admission.objects.get(patient=patient).bed_label == "Q1"


def test_admit_to_another_trusts_ward_is_400_naming_the_ward(client, api_token, council):
    from tests.factories import PatientFactory, WardFactory

    patient = PatientFactory(local_authority=council)
    response = client.post(
        reverse("api:admission-list"),
        {
            "nhs_number": patient.nhs_number,
            "ward": WardFactory().pk,
            "admitted_at": timezone.now().isoformat(),
        },
        content_type="application/json",
        **bearer(api_token),
    )
    assert response.status_code == 400 and "ward" in response.json()


# --- Recovery plans ---------------------------------------------------------------------------


@pytest.fixture
def plan(admission, ward_nurse):
    return recovery_plan_for(admission, ward_nurse)


def test_staff_add_and_co_edit_a_goal(client, plan, social_worker):
    signed_in(client, social_worker)
    added = client.post(
        reverse("api:plan-goals", args=[plan.pk]),
        {"description": "Walk to the shop"},
        content_type="application/json",
    )
    assert added.status_code == 201, added.content
    goal = Goal.objects.get()
    etag = added["ETag"]
    first = client.patch(
        detail("goal", goal.pk),
        {"status": "in_progress"},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert first.status_code == 200
    # An edit started from the first version: a different field merges ...
    merged = client.patch(
        detail("goal", goal.pk),
        {"measure": "Twice a week"},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert merged.status_code == 200
    goal.refresh_from_db()
    assert (goal.status, goal.measure) == ("in_progress", "Twice a week")
    # ... the same field changed differently is a conflict, and nothing is saved.
    clash = client.patch(
        detail("goal", goal.pk),
        {"status": "achieved"},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
    )
    assert clash.status_code == 409
    assert "status" in clash.json()["conflicts"]
    assert (
        client.patch(
            detail("goal", goal.pk), {"status": "achieved"}, content_type="application/json"
        ).status_code
        == 428
    )


def test_a_family_member_sees_their_own_plan_only_and_cannot_change_goals(
    client, plan, ward_nurse, family_member
):
    from recovery_plans.services import goal_add

    goal = goal_add(plan=plan, by=ward_nurse, description="Home for Christmas")
    Participant.objects.create(plan=plan, user=family_member, kind="family")
    other_plan = recovery_plan_for(
        AdmissionFactory(current_ward=plan.patient.admissions.get().current_ward), ward_nurse
    )
    signed_in(client, family_member)
    assert [p["id"] for p in client.get(reverse("api:plan-list")).json()["results"]] == [plan.pk]
    assert client.get(detail("plan", other_plan.pk)).status_code == 404
    response = client.patch(
        detail("goal", goal.pk),
        {"status": "achieved"},
        content_type="application/json",
        HTTP_IF_MATCH=f'"goal-{goal.pk}-v1"',
    )
    assert response.status_code == 403
    assert client.get(reverse("api:admission-list")).json()["results"] == []


def test_section_edit_needs_if_match_and_saves(client, plan, ward_nurse):
    signed_in(client, ward_nurse)
    url = reverse("api:plan-section", args=[plan.pk, "about_me"])
    assert (
        client.patch(
            url, {"content": {"what_matters": "My garden"}}, content_type="application/json"
        ).status_code
        == 428
    )
    section = plan.sections.get(key="about_me")
    response = client.patch(
        url,
        {"content": {"what_matters": "My garden"}},
        content_type="application/json",
        HTTP_IF_MATCH=f'"plansection-{section.pk}-v{section.version}"',
    )
    assert response.status_code == 200, response.content
    section.refresh_from_db()
    assert section.content["what_matters"] == "My garden"


# --- Outsiders: 404 everywhere ---------------------------------------------------------------


def _every_read(admission, plan, goal):
    return [
        detail("ward", admission.current_ward_id),
        detail("admission", admission.pk),
        reverse("api:admission-reviews", args=[admission.pk]),
        reverse("api:admission-edd", args=[admission.pk]),
        reverse("api:admission-pathway", args=[admission.pk]),
        reverse("api:admission-delays", args=[admission.pk]),
        reverse("api:admission-ward-stays", args=[admission.pk]),
        detail("patient", admission.patient_id),
        detail("plan", plan.pk),
        detail("goal", goal.pk),
        reverse("api:fhir-patient", args=[admission.patient_id]),
        reverse("api:fhir-patient-everything", args=[admission.patient_id]),
        reverse("api:fhir-encounter", args=[admission.pk]),
        reverse("api:fhir-careplan", args=[plan.pk]),
        reverse("api:fhir-goal", args=[goal.pk]),
    ]


def _every_write(admission, plan, goal):
    return [
        ("post", reverse("api:admission-transfer", args=[admission.pk])),
        ("post", reverse("api:admission-reviews", args=[admission.pk])),
        ("post", reverse("api:admission-edd", args=[admission.pk])),
        ("post", reverse("api:admission-pathway", args=[admission.pk])),
        ("post", reverse("api:admission-delays", args=[admission.pk])),
        ("post", reverse("api:admission-discharge", args=[admission.pk])),
        ("post", reverse("api:plan-goals", args=[plan.pk])),
        ("post", reverse("api:plan-actions", args=[plan.pk])),
        ("patch", reverse("api:plan-section", args=[plan.pk, "about_me"])),
        ("patch", detail("goal", goal.pk)),
    ]


@pytest.mark.parametrize(
    "persona", ["outsider", "system_leader", "family_member", "provider_carer"]
)
def test_every_record_is_404_for_those_who_may_not_see_it(
    client, request, persona, plan, ward_nurse, admission
):
    from recovery_plans.services import goal_add

    goal = goal_add(plan=plan, by=ward_nurse, description="Home")
    signed_in(client, request.getfixturevalue(persona))
    for url in _every_read(admission, plan, goal):
        assert client.get(url).status_code == 404, url
    for method, url in _every_write(admission, plan, goal):
        response = getattr(client, method)(
            url, {}, content_type="application/json", HTTP_IF_MATCH="*"
        )
        assert response.status_code == 404, url
    for name in ("admission", "patient", "plan"):
        assert client.get(reverse(f"api:{name}-list")).json()["results"] == []


def test_every_record_is_404_for_another_trusts_client(
    client, plan, ward_nurse, admission, other_trust_token
):
    from recovery_plans.services import goal_add

    goal = goal_add(plan=plan, by=ward_nurse, description="Home")
    for url in _every_read(admission, plan, goal):
        assert client.get(url, **bearer(other_trust_token)).status_code == 404, url
    for method, url in _every_write(admission, plan, goal):
        response = getattr(client, method)(
            url, {}, content_type="application/json", HTTP_IF_MATCH="*", **bearer(other_trust_token)
        )
        assert response.status_code == 404, url


def test_every_record_is_401_without_credentials(client, plan, ward_nurse, admission):
    from recovery_plans.services import goal_add

    goal = goal_add(plan=plan, by=ward_nurse, description="Home")
    for url in _every_read(admission, plan, goal):
        assert client.get(url).status_code == 401, url


# --- Schema and documentation -----------------------------------------------------------------


def test_the_schema_is_openapi_3_and_open_to_read(client):
    response = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/admissions/{id}/edd/" in schema["paths"]


def test_the_docs_page_loads_its_scripts_from_this_server(client):
    response = client.get(reverse("api:docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>" not in html and "style=" not in html
    assert "swagger-ui-bundle.js" in html and "https://" not in html


def test_out_of_range_times_and_ids_are_refused_not_server_errors(client, admission, api_token):
    far = client.get(
        reverse("api:admission-list"),
        {"admitted_after": "0981-03-21T04:21:01-20:17"},
        **bearer(api_token),
    )
    assert far.status_code == 400 and "admitted_after" in far.json()
    assert (
        client.get("/api/v1/admissions/99999999999999999999999/", **bearer(api_token)).status_code
        == 404
    )
    assert client.get("/api/v1/admissions/null/", **bearer(api_token)).status_code == 404


def test_hl7_over_http_answers_with_the_ack(client, ward, council, api_token):
    from interop.models import SiteCode, WardCode
    from tests.interop.conftest import adt

    SiteCode.objects.create(code="RTA01", site=ward.site, default_local_authority=None)
    WardCode.objects.create(site=ward.site, code="W7", ward=ward)
    url = reverse("api:hl7-message")
    accepted = client.post(
        url,
        adt("A04", "H1", council="E08000035"),
        content_type="application/hl7-v2",
        **bearer(api_token),
    )
    assert accepted.status_code == 200 and accepted["Content-Type"] == "application/hl7-v2"
    assert "MSA|AA|H1" in accepted.content.decode()
    refused = client.post(url, "MSH|^~\\&|x\x00", content_type="text/plain", **bearer(api_token))
    assert refused.status_code == 400 and "MSA|AR|" in refused.content.decode()


def test_hl7_over_http_needs_the_hl7_scope_and_a_token(client, trust, ward_nurse):
    from tests.interop.conftest import adt

    _api, token = api_client_create(
        name="r", organisation=trust, role="ward_staff", scopes=["read"]
    )
    url = reverse("api:hl7-message")
    assert (
        client.post(url, adt("A04", "H1"), content_type="text/plain", **bearer(token)).status_code
        == 403
    )
    assert client.post(url, adt("A04", "H1"), content_type="text/plain").status_code == 401
    signed_in(client, ward_nurse)
    assert client.post(url, adt("A04", "H1"), content_type="text/plain").status_code == 403


def test_a_client_cannot_send_hl7_for_another_trusts_site(client, ward, council, other_trust_token):
    from interop.models import SiteCode, WardCode
    from tests.interop.conftest import adt

    SiteCode.objects.create(code="RTA01", site=ward.site, default_local_authority=council)
    WardCode.objects.create(site=ward.site, code="W7", ward=ward)
    response = client.post(
        reverse("api:hl7-message"),
        adt("A01", "H1"),
        content_type="text/plain",
        **bearer(other_trust_token),
    )
    assert response.status_code == 422
    assert "not your organisation" in response.content.decode()
    assert not Admission.objects.exists()


@pytest.mark.parametrize("size", [1, 8])
def test_plan_and_referral_lists_do_not_grow_in_queries(
    client, ward, ward_nurse, api_token, size, django_assert_max_num_queries
):
    from tests.factories import ReferralFactory

    for _ in range(size):
        stay = AdmissionFactory(current_ward=ward)
        recovery_plan_for(stay, ward_nurse)
        ReferralFactory(admission=stay, referred_by=ward_nurse)
    with django_assert_max_num_queries(9):
        plans = client.get(reverse("api:plan-list"), **bearer(api_token))
    with django_assert_max_num_queries(6):
        referrals = client.get(reverse("api:referral-list"), **bearer(api_token))
    assert plans.json()["count"] == referrals.json()["count"] == size


def _register(client, headers, **fields):
    data = {
        "nhs_number": "485 777 3457",
        "given_name": "Ann",
        "family_name": "Lee",
        "date_of_birth": "1941-03-02",
        "local_authority": "E08000035",
        **fields,
    }
    return client.post(
        reverse("api:patient-list"), data, content_type="application/json", **headers
    )


def test_register_a_patient_then_admit_them(client, ward, api_token, council):
    response = _register(client, bearer(api_token))
    assert response.status_code == 201, response.content
    assert response.json()["nhs_number"] == "4857773457"
    admitted = client.post(
        reverse("api:admission-list"),
        {"nhs_number": "4857773457", "ward": ward.pk, "admitted_at": timezone.now().isoformat()},
        content_type="application/json",
        **bearer(api_token),
    )
    assert admitted.status_code == 201


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"nhs_number": "485 777 3456"}, "nhs_number"),
        ({"nhs_number": "48577734AB"}, "nhs_number"),
        ({"local_authority": "NOPE"}, "local_authority"),
        ({"date_of_birth": "2990-01-01"}, "date_of_birth"),
    ],
)
def test_registering_with_bad_input_is_400_naming_the_field(
    client, ward, api_token, council, fields, field
):
    response = _register(client, bearer(api_token), **fields)
    assert response.status_code == 400
    assert field in response.json()
    assert not Patient.objects.exists()


def test_only_ward_staff_register_patients(client, social_worker, council):
    client.force_login(social_worker)
    assert _register(client, {}).status_code == 403
    assert not Patient.objects.exists()
