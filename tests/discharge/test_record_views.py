"""The access log's service and its admin: written in one insert, read and filtered by an
administrator, never changed (each page that writes it is tested in tests/homefirst/test_access_log.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import ProgrammingError, transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from discharge import services
from discharge.models import PatientRecordView
from tests.factories import AdmissionFactory, ReferralFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:discharge_patientrecordview_changelist"


def log(user, patients, *, path="/wards/1/", ip="10.0.0.7") -> int:
    return services.patient_record_views_log(
        user=user, patient_ids=[p.pk for p in patients], path=path, ip_address=ip
    )


# --- The service ------------------------------------------------------------------------------


def test_many_patients_shown_are_logged_in_one_insert(ward_nurse, ward, django_assert_num_queries):
    patients = [a.patient for a in AdmissionFactory.create_batch(6, current_ward=ward)]
    with django_assert_num_queries(1):
        assert log(ward_nurse, patients + patients[:2]) == 6  # shown twice, logged once
    rows = PatientRecordView.objects.filter(user=ward_nurse)
    assert sorted(r.patient_id for r in rows) == sorted(p.pk for p in patients)
    assert {(r.path, r.ip_address) for r in rows} == {("/wards/1/", "10.0.0.7")}


def test_no_one_shown_writes_nothing(ward_nurse, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert log(ward_nurse, []) == 0


@pytest.mark.parametrize(("given", "stored"), [("", None), ("unix:", None), ("::1", "::1")])
def test_an_address_the_column_cannot_hold_is_logged_as_unknown(
    ward_nurse, admission, given, stored
):
    log(ward_nurse, [admission.patient], ip=given)
    assert PatientRecordView.objects.get().ip_address == stored


def test_a_long_path_is_cut_to_the_column(ward_nurse, admission):
    log(ward_nurse, [admission.patient], path="/api/v1/patients/?" + "q" * 400)
    assert len(PatientRecordView.objects.get().path) == 300


def test_the_log_refuses_changes_in_the_database(ward_nurse, admission):
    log(ward_nurse, [admission.patient])
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        PatientRecordView.objects.update(path="/elsewhere/")
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        PatientRecordView.objects.all().delete()


# --- The admin --------------------------------------------------------------------------------


@pytest.fixture
def administrator(client):
    """Staff with a second factor, as the admin requires; signed in (the client marks it given)."""
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    TOTPDevice.objects.create(user=admin, name="Authenticator app", confirmed=True)
    client.force_login(admin)
    return admin


@pytest.fixture
def views(ward_nurse, social_worker, ward, council):
    """The nurse viewed two patients yesterday; the social worker one of them today."""
    first, second = (a.patient for a in AdmissionFactory.create_batch(2, current_ward=ward))
    log(ward_nurse, [first, second], path="/wards/1/")
    PatientRecordView.objects.bulk_create(
        [
            PatientRecordView(
                user=ward_nurse,
                patient=first,
                path="/patients/1/",
                viewed_at=timezone.now() - dt.timedelta(days=1),
            )
        ]
    )
    log(social_worker, [first], path="/plans/1/", ip="10.0.0.9")
    return first, second


def listed(client, **params) -> list[tuple[str, str]]:
    """The changelist's rows, as (user, path), with the filters given."""
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    shown = response.context["cl"].result_list
    return sorted((v.user.username, v.path) for v in shown)


def test_an_administrator_reads_the_log_filtered_by_user_patient_and_date(
    client, administrator, views, social_worker
):
    first, second = views
    assert len(listed(client)) == 4
    assert listed(client, user__id__exact=social_worker.pk) == [("socialworker", "/plans/1/")]
    assert listed(client, patient__id__exact=second.pk) == [("nurse", "/wards/1/")]
    assert listed(client, q=first.nhs_number) == [
        ("nurse", "/patients/1/"),
        ("nurse", "/wards/1/"),
        ("socialworker", "/plans/1/"),
    ]
    today = timezone.localdate()
    day = {
        "viewed_at__year": today.year,
        "viewed_at__month": today.month,
        "viewed_at__day": today.day,
    }
    assert ("nurse", "/patients/1/") not in listed(client, **day)
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert "By user" in html and "By viewed at" in html and "10.0.0.9" in html


def test_the_patients_admin_page_links_to_who_viewed_their_record(client, administrator, views):
    first, _ = views
    html = client.get(reverse("admin:discharge_patient_change", args=[first.pk])).content.decode()
    assert f"{reverse(CHANGELIST)}?patient__id__exact={first.pk}" in html


def test_an_administrator_cannot_add_change_or_delete_a_log_row(client, administrator, views):
    row = PatientRecordView.objects.filter(path="/plans/1/").get()
    change = reverse("admin:discharge_patientrecordview_change", args=[row.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.get(reverse("admin:discharge_patientrecordview_add")).status_code == 403
    assert client.post(change, {"path": "/elsewhere/"}).status_code == 403
    delete = reverse("admin:discharge_patientrecordview_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse(CHANGELIST), {"action": "delete_selected", "_selected_action": [row.pk]}
    )
    assert bulk.status_code in (200, 302)  # no such action: nothing deleted
    assert PatientRecordView.objects.count() == 4
    assert PatientRecordView.objects.get(pk=row.pk).path == "/plans/1/"


def test_the_admin_pages_that_show_patients_log_the_view(client, administrator, ward):
    first, second = AdmissionFactory.create_batch(2, current_ward=ward)
    referral = ReferralFactory(admission=first)
    pages = {
        reverse("admin:discharge_patient_change", args=[first.patient_id]): {first.patient_id},
        reverse("admin:discharge_admission_changelist"): {first.patient_id, second.patient_id},
        reverse("admin:pathways_referral_change", args=[referral.pk]): {first.patient_id},
    }
    for path, patients in pages.items():
        assert client.get(path).status_code == 200
        logged = PatientRecordView.objects.filter(user=administrator, path=path)
        assert set(logged.values_list("patient_id", flat=True)) == patients, path


def test_reading_the_access_log_does_not_write_to_it(client, administrator, views):
    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert not PatientRecordView.objects.filter(user=administrator).exists()


def test_hl7_and_identifier_admin_pages_log_only_the_patients_they_name(
    client, administrator, ward
):
    from interop.models import Hl7Message, PatientIdentifier

    admission = AdmissionFactory(current_ward=ward)
    matched = Hl7Message.objects.create(
        raw="MSH|...", sha256="a" * 64, via="mllp", status="applied", patient=admission.patient
    )
    Hl7Message.objects.create(raw="MSH|...", sha256="b" * 64, via="mllp", status="failed")
    PatientIdentifier.objects.create(system="PAS", value="H1", flag="No NHS number")
    pages = {
        reverse("admin:interop_hl7message_changelist"): {admission.patient_id},
        reverse("admin:interop_hl7message_change", args=[matched.pk]): {admission.patient_id},
        reverse("admin:interop_patientidentifier_changelist"): set(),
    }
    for path, patients in pages.items():
        assert client.get(path).status_code == 200, path
        logged = PatientRecordView.objects.filter(user=administrator, path=path)
        assert set(logged.values_list("patient_id", flat=True)) == patients, path
