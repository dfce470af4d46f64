"""manage.py hl7_import: a batch file through the same pipeline, with progress and a summary."""

import io

import pytest
from django.core.management import CommandError, call_command

from discharge.models import Admission
from interop.models import Hl7Message
from tests.interop.conftest import SAMPLES, adt

pytestmark = pytest.mark.django_db


def test_import_applies_a_batch_and_summarises(tmp_path, ward, ward_code, other_ward):
    batch = tmp_path / "adt.hl7"
    batch.write_text(
        "\n".join(
            [
                adt("A02", "F2", ward="W9"),
                adt("A01", "F1"),
                adt("A01", "F1"),
                adt("A01", "F3", site="X"),
            ]
        ).replace("\r", "\n")
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("hl7_import", str(batch), stdout=out, stderr=err)
    assert "4 message(s): 1 applied, 1 duplicate, 1 failed" in out.getvalue()
    assert "AE F3" in err.getvalue()
    assert "msg" in err.getvalue()  # the progress bar
    # The transfer came first and was held, then applied when its admission arrived.
    assert Admission.objects.get().current_ward == other_ward
    assert Hl7Message.objects.get(control_id="F2").status == "applied"


def test_import_of_every_sample_never_crashes(ward):
    out = io.StringIO()
    call_command("hl7_import", *sorted(SAMPLES.glob("*.hl7")), "--quiet-progress", stdout=out)
    assert "14 message(s)" in out.getvalue()
    assert Hl7Message.objects.count() == 14


def test_import_of_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError):
        call_command("hl7_import", str(tmp_path / "nope.hl7"))
