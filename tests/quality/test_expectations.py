"""Great Expectations suites over score rows, and Data Docs that open without a network."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from quality.expectations import Bands, ScoreValidator, make_offline, remote_references

DAY = dt.date(2025, 7, 3)


def _row(scope_id: str, day: dt.date = DAY, **scores: object) -> dict[str, object]:
    row: dict[str, object] = {
        "site_id": "s",
        "day": day,
        "scope": "meter",
        "scope_id": scope_id,
        "completeness_score": 100.0,
        "validity_score": 100.0,
        "timeliness_score": 100.0,
        "consistency_score": None,
        "redundancy_score": None,
        "overall_score": 100.0,
        "status": "excellent",
    }
    row.update(scores)
    return row


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory):
    frame = pd.DataFrame(
        [
            _row("FT-1"),
            _row("FT-2", completeness_score=75.0, overall_score=89.29, status="good"),
            _row("LT-1", validity_score=50.0, overall_score=60.0, status="poor"),
            # another month: a second batch
            _row("FT-2", day=dt.date(2025, 8, 1), redundancy_score=80.0),
        ]
    )
    frame["consistency_score"] = frame["consistency_score"].astype("float64")
    frame["redundancy_score"] = frame["redundancy_score"].astype("float64")
    validator = ScoreValidator()
    run = validator.validate(frame, {"s": Bands(95.0, 85.0, 70.0)})
    docs = validator.build_data_docs(tmp_path_factory.mktemp("docs") / "data_docs")
    return run, docs


def test_each_row_lists_the_expectations_it_fails(validated):
    run, _ = validated
    assert run.failing[("s", DAY, "meter", "FT-2")] == ["completeness_score >= 85 (75)"]
    assert run.failing[("s", DAY, "meter", "LT-1")] == [
        "validity_score >= 85 (50)",
        "overall_score >= 70 (60)",
    ]
    assert ("s", DAY, "meter", "FT-1") not in run.failing
    assert run.failing[("s", dt.date(2025, 8, 1), "meter", "FT-2")] == [
        "redundancy_score >= 85 (80)"
    ]


def test_outcomes_are_per_site_and_monthly_batch(validated):
    run, _ = validated
    batches = {(o.batch_start, o.batch_end) for o in run.outcomes}
    assert batches == {(DAY, DAY), (dt.date(2025, 8, 1), dt.date(2025, 8, 1))}
    july = {o.expectation: o for o in run.outcomes if o.batch_start == DAY}
    assert july["completeness_score >= 85"].unexpected_count == 1
    assert july["completeness_score >= 85"].element_count == 3
    assert not july["completeness_score >= 85"].success
    assert july["timeliness_score >= 85"].success
    # nulls (not applicable) are not failures
    assert july["consistency_score >= 85"].success
    assert july["one row per day, scope and scope id"].success
    assert all(o.exception is None for o in run.outcomes)


def test_data_docs_pages_reference_no_remote_url(validated):
    _, index = validated
    folder = index.parent
    pages = list(folder.rglob("*.html"))
    assert index.exists() and len(pages) >= 3  # index, suite, validation pages
    assert remote_references(folder) == []
    text = index.read_text(encoding="utf-8")
    assert "quality_scores.s" in text  # the suite is listed
    assert "<style>" in text


def test_make_offline_strips_every_kind_of_remote_reference(tmp_path: Path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head>"
        '<link rel="stylesheet" href="https://cdn.example/bootstrap.css">'
        "<link rel=stylesheet href=//cdn.example/x.css>"
        '<script src="https://code.jquery.com/jquery.js"></script>'
        "<style>@import url('https://fonts.example/f.css'); .a{background:url(http://x/y.png)}</style>"
        "</head><body>"
        '<img src="https://logo.example/logo.png" alt="logo">'
        '<a href="https://greatexpectations.io/newsletter">news</a>'
        '<iframe src="https://tracker.example"></iframe>'
        '<form action="https://x.example"><input name=q></form>'
        '<a href="validations/run.html">local</a><script>var x = 1;</script>'
        "</body></html>",
        encoding="utf-8",
    )
    assert remote_references(tmp_path)  # the hostile page is caught before the rewrite
    assert make_offline(tmp_path) == 1
    assert remote_references(tmp_path) == []
    text = page.read_text(encoding="utf-8")
    assert 'href="validations/run.html"' in text  # local links survive
    assert "var x = 1;" in text  # inline scripts survive
    assert "news</a>" in text  # link text survives, pointing nowhere
