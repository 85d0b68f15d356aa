"""A reading from a logger whose clock reset (1970, year 1, 1900) or ran away (2200, 9999) is
quarantined with its reason in every file layout, beside good readings that still land; the
first day of data comes from the site, else the organisation, and the future tolerance from
the site file."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from siteledger.site.models import SiteConfig
from tests.ingestion.hostile.home import Home, make_home, small_site
from tests.ingestion.test_files_layouts import manual_workbook

# (scada text, logger ISO text, what the manual sheet holds) per implausible instant
EXTREMES = {
    "epoch": ("01/01/1970 00:00", "1970-01-01T00:00:00Z", dt.datetime(1970, 1, 1)),
    "year 1900": ("01/01/1900 08:00", "1900-01-01T00:00:00", dt.datetime(1900, 1, 1, 8)),
    "year 1": ("01/01/0001 08:00", "0001-01-01T00:00:00", "0001-01-01 08:00"),
    "year 2200": ("01/07/2200 08:00", "2200-07-01T00:00:00Z", dt.datetime(2200, 7, 1, 8)),
    "year 9999": ("31/12/9999 23:45", "9999-12-31T23:59:59Z", dt.datetime(9999, 12, 31, 23, 45)),
}
BEFORE = "before the site's first day of data 2024-07-01"
AFTER = "later than now plus the future tolerance of 6 h"


def _site(**site_fields: object) -> SiteConfig:
    data = copy.deepcopy(small_site().model_dump(by_alias=True))
    data["site"].update({"data_start": dt.date(2024, 7, 1), **site_fields})
    return SiteConfig.model_validate(data)


@pytest.fixture
def home(tmp_path):
    h = make_home(tmp_path, _site(future_tolerance_hours=6))
    yield h
    h.store.dispose()


def _expected_reason(name: str) -> str:
    return AFTER if name in ("year 2200", "year 9999") else BEFORE


@pytest.mark.parametrize("name", sorted(EXTREMES))
def test_an_implausible_instant_is_quarantined_in_every_layout(home: Home, name: str):
    scada_text, logger_text, manual_cell = EXTREMES[name]
    home.drop(
        "scada_clock.csv",
        "Timestamp,RIV_FT100 [m3/h],DAM_LT300 [m]\n"
        "01/01/2025 08:00,120.5,3.25\n"
        f"{scada_text},121,3.3\n",
    )
    home.drop(
        "logger_clock.csv",
        "time_utc,meter,value,unit,comment\n"
        "2025-01-01T00:00:00Z,FT-100,33.5,m3/h,fine\n"
        f"{logger_text},FT-100,34,m3/h,the logger's clock\n",
    )
    home.drop(
        "manual_clock.xlsx",
        manual_workbook(
            [
                [dt.datetime(2025, 1, 5, 7, 0), "FQ-500", 51234.5, "m3", "AB"],
                [manual_cell, "FQ-500", 51240.0, "m3", "CD"],
            ]
        ),
    )

    results = home.run()

    counts = {n: (r.status, r.total, r.imported, r.failed) for n, r in sorted(results.items())}
    assert counts == {
        "logger_clock.csv": ("committed", 2, 1, 1),
        "manual_clock.xlsx": ("committed", 2, 1, 1),
        "scada_clock.csv": ("committed", 4, 2, 2),
    }
    # the import job counts them too
    jobs = {job.source_file: job for job in home.store.jobs()}
    assert {n: jobs[n].failed_rows for n in results} == {
        "logger_clock.csv": 1,
        "manual_clock.xlsx": 1,
        "scada_clock.csv": 2,
    }
    # only the plausible readings reached the lake, all on 2025 days
    lake_days = {d.isoformat() for d in home.lake().column("day").to_pylist()}
    assert lake_days == {"2025-01-01", "2025-01-05"}
    reasons = home.reasons()
    assert len(reasons) == 4
    assert all(_expected_reason(name) in reason for reason in reasons), reasons
    raw = set(home.quarantine().column("raw_timestamp").to_pylist())
    assert scada_text in raw and logger_text in raw


def test_the_organisation_data_start_applies_when_the_site_names_none(tmp_path):
    data = copy.deepcopy(small_site().model_dump(by_alias=True))
    data["site"]["data_start"] = None
    h = make_home(tmp_path, SiteConfig.model_validate(data))
    h.settings.organisation_file.write_text("organisation:\n  data_start: 2025-01-01\n")
    h.drop(
        "logger_org.csv",
        "time_utc,meter,value,unit,comment\n"
        "2024-12-31T15:59:00Z,FT-100,1,m3/h,31 December in Perth\n"
        "2024-12-31T16:00:00Z,FT-100,2,m3/h,1 January in Perth\n",
    )

    result = h.run()["logger_org.csv"]

    assert (result.imported, result.failed) == (1, 1)
    assert h.lake_rows() == [("FT-100", "2024-12-31T16:00:00+00:00", 2.0, "m3/h")]
    assert h.reasons() == [
        "timestamp '2024-12-31T15:59:00Z' (site-local day 2024-12-31) is before the site's "
        "first day of data 2025-01-01"
    ]
    h.store.dispose()


def test_a_reading_just_inside_the_future_tolerance_lands(tmp_path):
    h = make_home(tmp_path, _site(future_tolerance_hours=6))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    inside = (now + dt.timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    outside = (now + dt.timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    h.drop(
        "logger_future.csv",
        f"time_utc,meter,value,unit,comment\n{inside},FT-100,1,m3/h,\n{outside},FT-100,2,m3/h,\n",
    )

    result = h.run()["logger_future.csv"]

    assert (result.imported, result.failed) == (1, 1)
    assert h.reasons() == [f"timestamp {outside!r} is {AFTER}"]
    h.store.dispose()


@pytest.mark.parametrize("hours", [-1, float("nan"), 24 * 400])
def test_the_future_tolerance_is_validated(hours: float):
    data = copy.deepcopy(small_site().model_dump(by_alias=True))
    data["site"]["future_tolerance_hours"] = hours
    with pytest.raises(ValueError, match="future_tolerance_hours"):
        SiteConfig.model_validate(data)
