"""Great Expectations suites over score rows, and Data Docs that open without a network."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from quality.data_docs import page_name
from quality.expectations import Bands, ScoreValidator, remote_references

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


def test_remote_references_catch_every_kind_of_remote_reference(tmp_path: Path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head>"
        '<link rel="stylesheet" href="https://cdn.example/bootstrap.css">'
        "<link rel=stylesheet href=//cdn.example/x.css>"
        '<script src="https://code.jquery.com/jquery.js"></script>'
        "<style>@import url('https://fonts.example/f.css'); .a{background:url(http://x/y.png)}</style>"
        "</head><body>"
        '<img src="https://logo.example/logo.png" alt="logo">'
        '<a href="validations/run.html">local</a><script>var x = 1;</script>'
        "</body></html>",
        encoding="utf-8",
    )
    found = remote_references(tmp_path)
    assert len(found) == 7  # the @import counts twice: as an import and as a url()
    page.write_text('<a href="validations/run.html">local</a>', encoding="utf-8")
    assert remote_references(tmp_path) == []


def _meter_day(meter: str, measurand: str, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "site_id": "s",
        "day": DAY,
        "meter_id": meter,
        "measurand": measurand,
        "is_cumulative": measurand == "totaliser",
        "interval_hours": 0.25,
        "n_received": 96,
        "n_out_of_range": 0,
        "n_negative_delta": 0,
        "hours_since_last_reading": 0.25,
    }
    row.update(values)
    return row


@pytest.fixture(scope="module")
def meters_validated(tmp_path_factory: pytest.TempPathFactory):
    """Meter-days of three classes, each failing one thing a person should learn about."""
    scores = pd.DataFrame(
        [
            _row("FT-1"),
            _row("FT-2", validity_score=95.83, overall_score=98.75),
            _row("FT-3", completeness_score=75.0, overall_score=89.29, status="good"),
            _row("TOT-1", validity_score=97.92, overall_score=99.38),
            _row("LT-1"),
            _row("LT-2"),
            {**_row("s", scope="site"), "scope": "site", "consistency_score": 60.0},
        ]
    )
    scores["consistency_score"] = scores["consistency_score"].astype("float64")
    scores["redundancy_score"] = scores["redundancy_score"].astype("float64")
    meter_days = pd.DataFrame(
        [
            _meter_day("FT-1", "flow_rate"),
            _meter_day("FT-2", "flow_rate", n_out_of_range=4),
            _meter_day("FT-3", "flow_rate", n_received=72),
            _meter_day("TOT-1", "totaliser", n_negative_delta=2),
            # stopped reporting at 19:00 local: 5 h before the day's end, 20 intervals
            _meter_day("LT-1", "level", hours_since_last_reading=5.0),
            # a manual level read once a day at 07:00 is fresh enough
            _meter_day("LT-2", "level", interval_hours=24.0, hours_since_last_reading=17.0),
        ]
    )
    validator = ScoreValidator()
    run = validator.validate(scores, {"s": Bands(95.0, 85.0, 70.0)}, meter_days)
    docs = validator.build_data_docs(tmp_path_factory.mktemp("docs") / "data_docs")
    return run, docs


def test_meter_days_list_what_their_readings_failed(meters_validated):
    run, _ = meters_validated
    failing = {key[3]: value for key, value in run.failing.items() if key[2] == "meter"}
    assert failing == {
        "FT-2": ["every reading inside the valid range (4 of 96 outside)"],
        "FT-3": ["completeness_score >= 85 (75)"],
        "TOT-1": ["the register never falls (rollovers aside) (falls: 2)"],
        "LT-1": ["last reading within 2 intervals of the day's end (5.00 h before)"],
    }
    # the site row is validated by the score suite, with its closure
    assert run.failing[("s", DAY, "site", "s")] == ["consistency_score >= 85 (60)"]


def test_register_falls_are_judged_on_cumulative_meters_only(meters_validated):
    run, _ = meters_validated
    falls = next(o for o in run.outcomes if o.expectation.startswith("the register never falls"))
    assert falls.suite == "readings.s"
    assert falls.element_count == 1  # TOT-1, the one totaliser
    assert falls.unexpected_count == 1 and not falls.success
    complete = next(o for o in run.outcomes if o.expectation == "completeness_score >= 85")
    # 1 of 6 meter-days is below the band: more than the 5 % that `mostly` allows
    assert complete.element_count == 6 and complete.mostly == 0.95 and not complete.success
    assert complete.feeds == "completeness"


def _links(html: str) -> list[str]:
    class Links(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.hrefs: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            href = dict(attrs).get("href")
            if tag == "a" and href:
                self.hrefs.append(href)

    parser = Links()
    parser.feed(html)
    return parser.hrefs


def test_data_docs_index_lists_every_validation_and_pages_name_the_failing_meter(
    meters_validated,
):
    run, index = meters_validated
    folder = index.parent
    assert remote_references(folder) == []
    links = _links(index.read_text(encoding="utf-8"))
    assert sorted(links) == sorted(f"validations/{page_name(v)}" for v in run.validations)
    assert {v.suite for v in run.validations} == {"readings.s", "quality_scores.s"}
    for link in links:
        assert (folder / link).exists()
    readings = next(v for v in run.validations if v.suite == "readings.s")
    page = (folder / "validations" / page_name(readings)).read_text(encoding="utf-8")
    assert "<style>" in page and "<script" not in page
    per_meter = page.split("What failed, per meter")[1].split("</section>")[0]
    assert "<strong>TOT-1</strong>" in per_meter
    assert "the register never falls (rollovers aside) — 1 day" in per_meter
    assert "<strong>FT-1</strong>" not in per_meter  # nothing failed on FT-1
    assert "4 of 96 outside" in page
