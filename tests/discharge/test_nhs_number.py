import csv
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from discharge import nhs_number

CASES = list(
    csv.DictReader((Path(__file__).parent.parent / "data" / "nhs_number_test_values.csv").open())
)


@pytest.mark.parametrize("case", CASES, ids=[repr(c["value"]) for c in CASES])
def test_modulus_11_verdict_matches_the_reference_values(case):
    assert nhs_number.is_valid(case["value"]) is (case["mod11_valid"] == "True")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4857773457", "4857773457"),
        ("485 777 3457", "4857773457"),
        (" 485-777-3457 ", "4857773457"),
    ],
)
def test_normalise_accepts_spaces_and_hyphens(value, expected):
    assert nhs_number.normalise(value) == expected


def test_check_digit_zero_when_eleven():
    assert nhs_number.normalise("9876543210") == "9876543210"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("4857773456", "not a valid NHS number"),
        ("1234567890", "not a valid NHS number"),
        ("48577734AB", "10 digits"),
        ("485777345", "10 digits"),
        (
            "\uff14\uff18\uff15\uff17\uff17\uff17\uff13\uff14\uff15\uff17",
            "10 digits",
        ),  # full-width digits
    ],
)
def test_invalid_numbers_get_a_clear_message(value, message):
    with pytest.raises(ValidationError) as error:
        nhs_number.normalise(value)
    assert message in error.value.messages[0]


def test_display_is_three_three_four():
    assert nhs_number.display("4857773457") == "485 777 3457"


@pytest.mark.django_db
def test_database_refuses_an_invalid_check_digit(council):
    with (
        pytest.raises(IntegrityError, match="patient_nhs_number_modulus_11"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO discharge_patient (nhs_number, given_name, family_name, date_of_birth, sex,"
            " postcode, local_authority_id, gp_practice_code, lives_alone, unpaid_carer,"
            " communication_needs) VALUES ('4857773456', 'A', 'B', '1940-01-01', 'female', '', %s,"
            " '', false, '', '')",
            [council.pk],
        )


@pytest.mark.django_db
def test_database_accepts_a_valid_number(council):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO discharge_patient (nhs_number, given_name, family_name, date_of_birth, sex,"
            " postcode, local_authority_id, gp_practice_code, lives_alone, unpaid_carer,"
            " communication_needs) VALUES ('4857773457', 'A', 'B', '1940-01-01', 'female', '', %s,"
            " '', false, '', '')",
            [council.pk],
        )
        cursor.execute("SELECT count(*) FROM discharge_patient WHERE nhs_number = '4857773457'")
        assert cursor.fetchone()[0] == 1
