"""Fuzzing the ward board: hostile posts and query strings never cause a server error or a half-save."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given, note
from hypothesis import strategies as st

from discharge import reference, services
from discharge.models import Admission, DelayReason, DischargeDestination
from discharge.selectors import BoardFilter, BoardSort
from homefirst.forms import STALE_FORM
from tests.discharge.consistency import assert_admission_consistent
from tests.factories import AdmissionFactory, WardFactory
from tests.fuzz import (
    FUZZ,
    changed_tables,
    date_text,
    datetime_text,
    db_state,
    form,
    number,
    one_of_or_junk,
    rolled_back,
    shows_an_error,
    text,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PERSONAS = (
    "ward_nurse",
    "discharge_coordinator",
    "social_worker",
    "provider_carer",
    "outsider",
    "family_member",
)
EDITORS = {"ward_nurse", "discharge_coordinator"}
OWN = {"fresh", "nctr", "left"}
CRITERIA = [code for code, _label in reference.CRITERIA]
PATHWAYS = ["0", "1", "2", "3"]


def _delay_codes() -> list[str]:
    with reference.DELAY_REASONS_CSV.open(encoding="utf-8") as handle:
        return [line.split(",", 1)[0] for line in handle.readlines()[1:]]


EDIT_FORMS = {
    "row_ctr": form(
        criteria=st.lists(one_of_or_junk(*CRITERIA), max_size=4),
        exception_reason=text(),
        note=text(),
    ),
    "row_edd": form(expected_discharge_date=date_text()),
    "row_pathway": form(pathway=one_of_or_junk(*PATHWAYS)),
    "row_delay": form(reason=one_of_or_junk(*_delay_codes())),
    "row_discharge": form(
        discharged_at=datetime_text(),
        destination=one_of_or_junk(*DischargeDestination.values),
        actual_pathway=one_of_or_junk("", *PATHWAYS),
    ),
}


@pytest.fixture
def people(request) -> dict:
    return {name: request.getfixturevalue(name) for name in PERSONAS}


@pytest.fixture
def targets(admission, ward, ward_nurse, other_trust, other_council) -> dict[str, int]:
    """Admissions in every state a board edit meets, and one of another trust."""
    council = admission.patient.local_authority
    nctr = AdmissionFactory(current_ward=ward, patient__local_authority=council)
    services.ctr_review_record(admission=nctr, by=ward_nurse, criteria=[], expected_version=None)
    left = AdmissionFactory(current_ward=ward, patient__local_authority=council)
    services.admission_discharge(
        admission=left,
        by=ward_nurse,
        discharged_at=timezone.now() - dt.timedelta(hours=1),
        destination="usual_residence",
        actual_pathway="0",
        expected_version=None,
    )
    foreign = AdmissionFactory(
        current_ward=WardFactory(site__organisation=other_trust),
        patient__local_authority=other_council,
    )
    return {"fresh": admission.pk, "nctr": nctr.pk, "left": left.pk, "foreign": foreign.pk}


def _version(choice: str, admission_id: int) -> str:
    """The version a form says it started from: the current one, an old one, or anything."""
    current = Admission.objects.filter(pk=admission_id).values_list("version", flat=True).first()
    if choice == "current":
        return str(current or 1)
    if choice == "stale":
        return str((current or 1) + 1)
    return choice


@pytest.mark.parametrize("edit", list(EDIT_FORMS))
@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.sampled_from([*OWN, "foreign", "missing"]),
    version=st.one_of(st.sampled_from(["current", "stale"]), number()),
    data=st.data(),
)
def test_board_edits_answer_bad_input_with_errors_and_save_nothing(
    client, people, targets, edit, who, target, version, data
):
    fields = data.draw(EDIT_FORMS[edit], label="fields")
    admission_id = targets.get(target, 2**62)
    with rolled_back():
        client.force_login(people[who])
        fields["expected_version"] = _version(version, admission_id)
        before = db_state()
        response = client.post(reverse(f"discharge:{edit}", args=[admission_id]), fields, **HTMX)
        after = db_state()

    status = response.status_code
    note(f"{who} posted {fields} to {target}: {status}")
    if (who in EDITORS and target in OWN) or (who == "outsider" and target == "foreign"):
        assert status in (200, 409, 422)
    else:
        assert status == 404
    if status != 200:
        assert changed_tables(before, after) == []
    if status == 422:
        # A row whose patient has left says so in place of the form.
        left = target == "left" and "left hospital at" in response.content.decode()
        assert shows_an_error(response) or left
    if status == 409:
        # Theirs beside ours; or, if they recorded the discharge, that the patient has left.
        assert re.search("Someone else saved first|left hospital at", response.content.decode())


@FUZZ
@given(
    edit=st.sampled_from(list(EDIT_FORMS)),
    data=st.data(),
)
def test_board_edits_that_save_leave_the_admission_consistent(
    client, ward_nurse, targets, edit, data
):
    """Mostly-valid posts from the ward: whatever is saved agrees with the admission's history."""
    fields = data.draw(EDIT_FORMS[edit], label="fields")
    admission_id = data.draw(st.sampled_from([targets["fresh"], targets["nctr"]]), label="target")
    with rolled_back():
        client.force_login(ward_nurse)
        fields["expected_version"] = _version("current", admission_id)
        version = Admission.objects.get(pk=admission_id).version
        response = client.post(reverse(f"discharge:{edit}", args=[admission_id]), fields, **HTMX)
        assert response.status_code in (200, 422)
        assert_admission_consistent(admission_id)
        if response.status_code == 200:
            assert Admission.objects.get(pk=admission_id).version in (version, version + 1)


@FUZZ
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "show": one_of_or_junk(*BoardFilter),
            "pathway": one_of_or_junk(*PATHWAYS),
            "sort": one_of_or_junk(*BoardSort),
        },
    ),
    page=st.sampled_from(["discharge:board", "discharge:board_print", "discharge:board_summary"]),
)
@example(params={"show": "\x00", "sort": "x" * 5000}, page="discharge:board")
def test_board_filters_and_sort_never_fail(client, ward_nurse, ward, targets, params, page):
    client.force_login(ward_nurse)
    response = client.get(reverse(page, args=[ward.pk]), params)
    assert response.status_code == 200


@FUZZ
@given(
    who=st.sampled_from(PERSONAS),
    target=st.one_of(
        st.sampled_from([*OWN, "foreign"]), st.integers(min_value=10**9, max_value=10**30)
    ),
)
def test_patient_and_row_pages_answer_404_out_of_reach(client, people, targets, who, target):
    admission_id = targets[target] if isinstance(target, str) else target
    admission = Admission.objects.filter(pk=admission_id).first()
    with rolled_back():
        client.force_login(people[who])
        row = client.get(reverse("discharge:row", args=[admission_id]), **HTMX)
        patient_id = admission.patient_id if admission else admission_id
        patient = client.get(reverse("discharge:patient", args=[patient_id]))
    if (who in EDITORS and target in OWN) or (who == "outsider" and target == "foreign"):
        assert row.status_code == 200
    else:
        assert row.status_code == 404
    assert patient.status_code in (200, 404)
    if admission is None or (target == "foreign") != (who == "outsider"):
        assert patient.status_code == 404


def test_delay_reasons_in_the_fuzzing_list_are_the_seeded_ones():
    """The fuzz posts the real codes most of the time: keep its list in step with the table."""
    assert set(_delay_codes()) == set(DelayReason.objects.values_list("code", flat=True))


def test_a_broken_hidden_version_is_reported_at_the_top_of_the_form(client, ward_nurse, admission):
    """Found by fuzzing: the hidden field's error had nowhere to show, so a 422 said nothing."""
    client.force_login(ward_nurse)
    url = reverse("discharge:row_edd", args=[admission.pk])
    response = client.post(url, {"expected_version": "0", "expected_discharge_date": ""}, **HTMX)
    assert response.status_code == 422
    assert STALE_FORM in response.content.decode()
