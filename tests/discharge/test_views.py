import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from discharge import services
from discharge.models import Admission, CtrReview, DelayEpisode, PatientRecordView
from tests.factories import AdmissionFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ROW_EDITS = ["row_ctr", "row_edd", "row_pathway", "row_delay", "row_discharge"]


def ward_urls(ward):
    return [
        reverse("discharge:board", args=[ward.pk]),
        reverse("discharge:board_print", args=[ward.pk]),
        reverse("discharge:board_summary", args=[ward.pk]),
    ]


def admission_urls(admission):
    return [reverse(f"discharge:{name}", args=[admission.pk]) for name in ["row", *ROW_EDITS]]


# --- Access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["outsider", "social_worker", "system_leader", "provider_carer", "family_member"]
)
def test_only_the_trusts_ward_staff_reach_its_boards(client, request, persona, ward):
    client.force_login(request.getfixturevalue(persona))
    for url in ward_urls(ward):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(
    "persona", ["outsider", "social_worker", "system_leader", "provider_carer", "family_member"]
)
def test_only_the_trusts_ward_staff_reach_row_partials_and_edits(
    client, request, persona, admission
):
    client.force_login(request.getfixturevalue(persona))
    for url in admission_urls(admission):
        assert client.get(url, **HTMX).status_code == 404, url
    for name in ROW_EDITS:
        url = reverse(f"discharge:{name}", args=[admission.pk])
        assert client.post(url, {"expected_version": 1}, **HTMX).status_code == 404, url
    admission.refresh_from_db()
    assert admission.version == 1


@pytest.mark.parametrize(
    "persona", ["outsider", "system_leader", "provider_carer", "family_member"]
)
def test_patient_page_is_404_to_those_who_may_not_see_it(client, request, persona, admission):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("discharge:patient", args=[admission.patient_id])).status_code == 404
    assert not PatientRecordView.objects.exists()


def test_social_worker_sees_a_resident_of_their_council(client, social_worker, admission):
    client.force_login(social_worker)
    assert client.get(reverse("discharge:patient", args=[admission.patient_id])).status_code == 200


def test_social_worker_does_not_see_a_resident_of_another_council(
    client, social_worker, ward, other_council
):
    elsewhere = AdmissionFactory(current_ward=ward, patient__local_authority=other_council)
    client.force_login(social_worker)
    assert client.get(reverse("discharge:patient", args=[elsewhere.patient_id])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, ward):
    response = client.get(reverse("discharge:board", args=[ward.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_site_overview_lists_only_the_users_wards(client, ward_nurse, ward, outsider):
    client.force_login(outsider)
    assert ward.name not in client.get(reverse("discharge:site_overview")).content.decode()
    client.force_login(ward_nurse)
    assert ward.name in client.get(reverse("discharge:site_overview")).content.decode()


# --- The board -------------------------------------------------------------------------------


def test_board_shows_each_inpatient_with_their_details(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    html = client.get(reverse("discharge:board", args=[admission.current_ward_id])).content.decode()
    assert admission.patient.nhs_number_display in html
    assert admission.patient.family_name.upper() in html
    assert "Not reviewed today" in html
    assert f'id="admission-{admission.pk}"' in html


@pytest.mark.parametrize("patients", [10, 40])
def test_board_queries_do_not_grow_with_patients(
    client, ward_nurse, ward, council, django_assert_max_num_queries, patients
):
    for a in AdmissionFactory.create_batch(
        patients, current_ward=ward, patient__local_authority=council
    ):
        services.ctr_review_record(
            admission=a, by=ward_nurse, criteria=["01"], expected_version=None
        )
    client.force_login(ward_nurse)
    client.get(reverse("home"))  # once-a-session work (second-factor check, session stamp) first
    with django_assert_max_num_queries(10):
        response = client.get(reverse("discharge:board", args=[ward.pk]))
    assert response.content.decode().count('class="nhsuk-table__body"') == patients


@pytest.mark.parametrize("wards", [2, 8])
def test_site_overview_queries_do_not_grow_with_wards(
    client, ward_nurse, trust, council, django_assert_max_num_queries, wards
):
    from tests.factories import WardFactory

    for _ in range(wards):
        AdmissionFactory(
            current_ward=WardFactory(site__organisation=trust), patient__local_authority=council
        )
    client.force_login(ward_nurse)
    client.get(reverse("home"))  # once-a-session work (second-factor check, session stamp) first
    with django_assert_max_num_queries(8):
        assert client.get(reverse("discharge:site_overview")).status_code == 200


def test_board_filters_to_patients_no_longer_meeting_criteria(client, ward_nurse, ward, council):
    ready, staying = AdmissionFactory.create_batch(
        2, current_ward=ward, patient__local_authority=council
    )
    services.ctr_review_record(admission=ready, by=ward_nurse, expected_version=None)
    services.ctr_review_record(
        admission=staying, by=ward_nurse, criteria=["02"], expected_version=None
    )
    client.force_login(ward_nurse)
    html = client.get(reverse("discharge:board", args=[ward.pk]), {"show": "nctr"}).content.decode()
    assert f'id="admission-{ready.pk}"' in html
    assert f'id="admission-{staying.pk}"' not in html


def test_board_sorts_longest_stay_first(client, ward_nurse, ward, council):
    recent = AdmissionFactory(
        current_ward=ward,
        patient__local_authority=council,
        admitted_at=timezone.now() - dt.timedelta(days=1),
    )
    long_stay = AdmissionFactory(
        current_ward=ward,
        patient__local_authority=council,
        admitted_at=timezone.now() - dt.timedelta(days=22),
    )
    client.force_login(ward_nurse)
    html = client.get(reverse("discharge:board", args=[ward.pk]), {"sort": "los"}).content.decode()
    assert html.index(f'id="admission-{long_stay.pk}"') < html.index(f'id="admission-{recent.pk}"')
    assert "21+ days" in html


def test_unknown_filter_values_fall_back_to_the_whole_board(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    response = client.get(
        reverse("discharge:board", args=[admission.current_ward_id]),
        {"show": "x", "sort": "y", "pathway": "9"},
    )
    assert response.status_code == 200
    assert f'id="admission-{admission.pk}"' in response.content.decode()


def test_printable_board_lists_patients_without_edit_controls(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    html = client.get(
        reverse("discharge:board_print", args=[admission.current_ward_id])
    ).content.decode()
    assert admission.patient.nhs_number_display in html
    assert "hx-post" not in html and "hx-get" not in html


# --- Inline edits ----------------------------------------------------------------------------


def test_review_form_opens_in_the_row(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    response = client.get(reverse("discharge:row_ctr", args=[admission.pk]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Requires oxygen therapy" in html
    assert f'name="expected_version" value="{admission.version}"' in html


def test_nctr_review_saves_and_re_renders_the_row_and_triggers_the_counts(
    client, ward_nurse, admission
):
    client.force_login(ward_nurse)
    response = client.post(
        reverse("discharge:row_ctr", args=[admission.pk]),
        {"expected_version": admission.version},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "boardChanged"
    assert "NCTR since" in response.content.decode()
    assert "Reason needed" in response.content.decode()
    admission.refresh_from_db()
    assert admission.discharge_ready_date == timezone.localdate()


def test_summary_partial_counts_the_change(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    url = reverse("discharge:board_summary", args=[admission.current_ward_id])
    assert 'data-count="nctr">0<' in client.get(url, **HTMX).content.decode()
    services.ctr_review_record(admission=admission, by=ward_nurse, expected_version=None)
    assert 'data-count="nctr">1<' in client.get(url, **HTMX).content.decode()


def test_invalid_edd_shows_the_error_beside_the_field_and_saves_nothing(
    client, ward_nurse, admission
):
    client.force_login(ward_nurse)
    before = timezone.localdate(admission.admitted_at) - dt.timedelta(days=3)
    response = client.post(
        reverse("discharge:row_edd", args=[admission.pk]),
        {"expected_version": admission.version, "expected_discharge_date": before.isoformat()},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "cannot be before admission" in html
    assert 'id="id_expected_discharge_date-error"' in html
    admission.refresh_from_db()
    assert admission.expected_discharge_date is None


def test_malformed_date_is_a_form_error_not_a_crash(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    response = client.post(
        reverse("discharge:row_edd", args=[admission.pk]),
        {"expected_version": admission.version, "expected_discharge_date": "next tuesday"},
        **HTMX,
    )
    assert response.status_code == 422
    assert "Enter a valid date" in response.content.decode()


def test_pathway_outside_the_list_is_refused(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    response = client.post(
        reverse("discharge:row_pathway", args=[admission.pk]),
        {"expected_version": admission.version, "pathway": "5"},
        **HTMX,
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    admission.refresh_from_db()
    assert admission.planned_pathway is None


def test_unknown_delay_reason_is_refused(client, ward_nurse, admission):
    services.ctr_review_record(admission=admission, by=ward_nurse, expected_version=None)
    admission.refresh_from_db()
    client.force_login(ward_nurse)
    response = client.post(
        reverse("discharge:row_delay", args=[admission.pk]),
        {"expected_version": admission.version, "reason": "XXX99"},
        **HTMX,
    )
    assert response.status_code == 422
    assert not DelayEpisode.objects.exists()


def test_delay_reason_is_recorded_from_the_row(client, ward_nurse, admission):
    services.ctr_review_record(admission=admission, by=ward_nurse, expected_version=None)
    admission.refresh_from_db()
    client.force_login(ward_nurse)
    response = client.post(
        reverse("discharge:row_delay", args=[admission.pk]),
        {"expected_version": admission.version, "reason": "CAP05"},
        **HTMX,
    )
    assert response.status_code == 200
    assert (
        "Home-based rehabilitation, reablement or recovery services not yet available"
        in response.content.decode()
    )


def test_stale_edit_answers_409_with_the_newer_value_and_saves_nothing(
    client, ward_nurse, discharge_coordinator, admission
):
    seen = admission.version
    newer = timezone.localdate() + dt.timedelta(days=5)
    services.edd_set(
        admission=admission,
        by=discharge_coordinator,
        expected_discharge_date=newer,
        expected_version=seen,
    )
    client.force_login(ward_nurse)
    mine = timezone.localdate() + dt.timedelta(days=2)
    response = client.post(
        reverse("discharge:row_edd", args=[admission.pk]),
        {"expected_version": seen, "expected_discharge_date": mine.isoformat()},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else saved first" in html
    assert "Tom Hughes" in html
    assert newer.strftime("%d %b %Y") in html
    assert f'value="{mine.isoformat()}"' in html  # their own entry is kept for them
    admission.refresh_from_db()
    assert admission.expected_discharge_date == newer
    assert f'name="expected_version" value="{admission.version}"' in html


@pytest.mark.parametrize(
    ("edit", "data"),
    [
        ("row_ctr", {"criteria": ["01"]}),
        ("row_edd", {"expected_discharge_date": dt.date.today().isoformat()}),
    ],
)
def test_a_row_save_reads_the_boards_row_data_only_for_the_row_it_renders(
    client, ward_nurse, admission, edit, data
):
    client.force_login(ward_nurse)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse(f"discharge:{edit}", args=[admission.pk]),
            {"expected_version": admission.version, **data},
            **HTMX,
        )
    assert response.status_code == 200
    # The row's transfers of care are one of the board data's prefetches (with_board_data).
    assert sum('FROM "pathways_referral"' in q["sql"] for q in queries.captured_queries) == 1


def test_discharge_from_the_row(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    when = timezone.localtime() - dt.timedelta(minutes=10)
    response = client.post(
        reverse("discharge:row_discharge", args=[admission.pk]),
        {
            "expected_version": admission.version,
            "discharged_at": when.strftime("%Y-%m-%dT%H:%M"),
            "destination": "usual_residence",
            "actual_pathway": "0",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert "left hospital" in response.content.decode()
    admission.refresh_from_db()
    assert admission.status == Admission.Status.DISCHARGED


def test_discharge_in_the_future_is_refused_beside_the_field(client, ward_nurse, admission):
    client.force_login(ward_nurse)
    when = timezone.localtime() + dt.timedelta(days=2)
    response = client.post(
        reverse("discharge:row_discharge", args=[admission.pk]),
        {
            "expected_version": admission.version,
            "discharged_at": when.strftime("%Y-%m-%dT%H:%M"),
            "destination": "usual_residence",
            "actual_pathway": "0",
        },
        **HTMX,
    )
    assert response.status_code == 422
    assert 'id="id_discharged_at-error"' in response.content.decode()
    admission.refresh_from_db()
    assert admission.status == Admission.Status.IN_HOSPITAL


def test_review_of_a_discharged_patient_is_refused_with_a_message(client, ward_nurse, admission):
    services.admission_discharge(
        admission=admission,
        by=ward_nurse,
        discharged_at=timezone.now(),
        destination="usual_residence",
        actual_pathway="0",
        expected_version=None,
    )
    client.force_login(ward_nurse)
    admission.refresh_from_db()
    response = client.post(
        reverse("discharge:row_ctr", args=[admission.pk]),
        {"expected_version": admission.version},
        **HTMX,
    )
    assert response.status_code == 422
    assert "already left hospital" in response.content.decode()
    assert not CtrReview.objects.exists()


# --- The patient page ------------------------------------------------------------------------


def test_patient_page_shows_the_timeline_and_audit_and_logs_the_view(client, ward_nurse, admission):
    services.ctr_review_record(admission=admission, by=ward_nurse, expected_version=None)
    services.edd_set(
        admission=admission,
        by=ward_nurse,
        expected_discharge_date=timezone.localdate(),
        expected_version=None,
    )
    client.force_login(ward_nurse)
    response = client.get(reverse("discharge:patient", args=[admission.patient_id]))
    html = response.content.decode()
    assert "No longer meets the criteria to reside" in html
    assert "Expected date of discharge set to" in html
    assert "Discharge ready date set to" in html
    assert "Audit history" in html and "Grace Okafor" in html
    log = PatientRecordView.objects.get()
    assert (log.user, log.patient) == (ward_nurse, admission.patient)


def test_patient_page_queries_are_bounded(
    client, ward_nurse, admission, django_assert_max_num_queries
):
    for _ in range(5):
        services.ctr_review_record(
            admission=admission, by=ward_nurse, criteria=["01", "02"], expected_version=None
        )
    client.force_login(ward_nurse)
    with django_assert_max_num_queries(25):
        client.get(reverse("discharge:patient", args=[admission.patient_id]))
