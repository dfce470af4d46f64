"""The written definitions: one source for the page, the exports and docs/metrics.md."""

from pathlib import Path

from dashboards.metrics import METRICS

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def test_every_figure_is_defined_in_the_docs_word_for_word():
    text = DOC.read_text(encoding="utf-8")
    for metric in METRICS.values():
        assert f"#### {metric.name}\n" in text, metric.key
        assert metric.definition in text, metric.key
        if metric.sitrep:
            assert f"*{metric.sitrep}*" in text, metric.key


def test_a_clinical_exception_is_defined_as_not_nctr():
    assert "A clinical exception" in METRICS["nctr"].definition
    assert "is not NCTR" in METRICS["nctr_remaining"].definition
