"""The 503 answer for a database that cannot be reached, and Django's 500 for anything else."""

import json

import pytest
from django.db import InterfaceError, OperationalError

from homefirst.unavailable import server_error


def answer_to(error: Exception, path: str, rf):
    """What handler500 answers while Django handles ``error``."""
    try:
        raise error
    except Exception:
        return server_error(rf.get(path))


@pytest.mark.parametrize(
    "error", [OperationalError("connection refused"), InterfaceError("closed")]
)
def test_a_lost_database_answers_503_with_a_page_that_says_so(error, rf):
    response = answer_to(error, "/wards/", rf)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "HomeFirst is briefly unavailable" in response.content.decode()
    assert "connection refused" not in response.content.decode()


def test_the_api_answers_503_in_json(rf):
    response = answer_to(OperationalError("connection refused"), "/api/v1/admissions/", rf)

    assert response.status_code == 503
    assert "cannot reach its database" in json.loads(response.content)["detail"]


def test_any_other_error_is_still_a_500(rf):
    response = answer_to(ValueError("a bug"), "/wards/", rf)

    assert response.status_code == 500
    assert "a bug" not in response.content.decode()
