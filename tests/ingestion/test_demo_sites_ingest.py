"""The demo's two mines share one landing folder and land in the raw lake in their own local
days: a reading at local midnight opens that local day at each mine, six hours apart in UTC."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow.parquet as pq
import pytest

from demo import write_demo
from demo.site import MINE_SITE_IDS
from ingestion.files import import_landing
from siteledger.settings import get_settings
from siteledger.site import load_site
from siteledger.state import StateStore

# site -> (zone, the UTC instant of local midnight starting 2 July 2025)
ZONES = {
    "demo_mine": ("Australia/Perth", pd.Timestamp("2025-07-01T16:00Z")),
    "demo_highveld": ("Africa/Johannesburg", pd.Timestamp("2025-07-01T22:00Z")),
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """Every lake reading of a 2-day demo, per site, with the day folder it was written to."""
    home = tmp_path_factory.mktemp("two_mines")
    out = write_demo(home, days=2, sites=MINE_SITE_IDS)
    settings = get_settings(home)
    store = StateStore(settings.state_store_url)
    results = {}
    for site_file in out.site_files:
        site = load_site(site_file)
        results[site.site.id] = import_landing(settings, site, store)
    store.dispose()
    # each mine imports its own drops and leaves the other's for it
    for site_id, done in results.items():
        committed = {r.file_name for r in done if r.status == "committed"}
        unmatched = {r.file_name for r in done if r.status == "unmatched"}
        assert all(name.startswith("highveld_") for name in committed) == (
            site_id == "demo_highveld"
        )
        assert not {r.status for r in done} - {"committed", "unmatched"}
        if site_id == "demo_mine":
            assert unmatched and all(n.startswith("highveld_") for n in unmatched)
    assert not list(settings.landing.iterdir())
    frames = {}
    for site_id in ZONES:
        parts = []
        for path in sorted((settings.readings_lake / f"site={site_id}").rglob("*.parquet")):
            table = pq.read_table(path).to_pandas()
            source, day = path.parent.parent.name, path.parent.name
            parts.append(
                table.assign(source=source.removeprefix("source="), day=day.removeprefix("day="))
            )
        frames[site_id] = pd.concat(parts, ignore_index=True)
    return frames


@pytest.mark.parametrize("site_id", list(ZONES))
def test_a_reading_at_local_midnight_opens_that_local_day(lake, site_id: str):
    zone, midnight = ZONES[site_id]
    readings = lake[site_id]
    level = readings[(readings["meter_id"] == "LT-101") & (readings["source"] == "scada_export")]
    at = level.set_index("ts")["day"]
    assert at[midnight] == "2025-07-02"
    assert at[midnight - pd.Timedelta(minutes=15)] == "2025-07-01"
    # every reading's folder is the local day of its instant in the site's zone
    local_day = readings["ts"].dt.tz_convert(zone).dt.strftime("%Y-%m-%d")
    assert (local_day == readings["day"]).all()
    assert sorted(readings["day"].unique()) == ["2025-07-01", "2025-07-02", "2025-07-03"]


def test_the_two_mines_start_the_same_local_day_six_hours_apart(lake):
    first = {
        site_id: frame.loc[frame["day"] == "2025-07-02", "ts"].min()
        for site_id, frame in lake.items()
    }
    assert first == {site_id: midnight for site_id, (_, midnight) in ZONES.items()}
    assert first["demo_highveld"] - first["demo_mine"] == pd.Timedelta(hours=6)
    # the borefield logger writes UTC; its rows still land in the site's local days
    for site_id, frame in lake.items():
        logger = frame[frame["source"] == "borefield_logger"]
        day_two = logger[logger["day"] == "2025-07-02"]["ts"]
        assert day_two.min() == ZONES[site_id][1], site_id
        assert day_two.max() == ZONES[site_id][1] + pd.Timedelta(hours=23, minutes=45)


def test_manual_readings_stamped_local_midnight_belong_to_that_day(lake):
    for site_id, frame in lake.items():
        rain = frame[(frame["meter_id"] == "RG-102")].sort_values("ts")
        assert list(rain["day"]) == [str(date(2025, 7, d)) for d in (1, 2)], site_id
        assert rain["ts"].iloc[1] == ZONES[site_id][1]
