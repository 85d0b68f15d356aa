"""Reuse and recycling by volume mixing, and carbon, reproduce a hand computation.

The site (fixtures/mix_site.yaml, readings in mix_lake.py): bores -> dam -> plant -> pond; the
pond sends water straight back to the dam and through a treatment plant (wtp) whose treated
water also goes to the dam. Per day (m3): bores 600 / 500 / 400, dam -> plant 1 000, plant ->
pond 800, pond -> dam 300 / 400 / 300, pond -> wtp 200, wtp -> dam 200 (treated).
Dam storage at the midnights 5 000, 5 100, 5 200, 5 100; pond 2 000, 2 300, 2 500, 2 800.

Mixing (docs/sustainability-water-and-carbon.md): the day's inflows mix with the opening water;
outflows leave at the mixed composition; a store-to-store transfer carries the upstream store's
start-of-day composition; a store without history takes its first day's inflow composition.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.site_tables import write_site_tables
from siteledger.settings import get_settings
from siteledger.site import load_site
from tests.dbt.mix_lake import D1, D2, D3, D4, write_mix_lake
from tests.dbt.runner import query, run_dbt, shared_home

MIX_SITE_FILE = Path(__file__).parent / "fixtures" / "mix_site.yaml"
SITE = "mix_site"
EXACT = 1e-6  # m3 (and kg CO2-e): the arithmetic is exact up to float rounding

# --- store compositions (worked share w, treated share t) -------------------------------------
# D1, no history anywhere.
#   pond: inflow plant -> pond 800 worked: w = 800 / 800 = 1, t = 0.
#   dam: inflows bores 600 raw, pond -> dam 300 at the pond's start-of-day composition (unknown:
#   counted raw), wtp -> dam 200 treated: w = 0 / 1 100 = 0, t = 200 / 1 100.
# D2.
#   pond: (2 300 x 1 + 800) / (2 300 + 800) = 1.
#   dam: opening 5 100 at (0, 200/1 100); inflows bores 500 raw, pond -> dam 400 at the pond's D1
#   composition (1, 0), wtp 200 treated; mixed volume 5 100 + 1 100 = 6 200:
#   w = (5 100 x 0 + 400) / 6 200, t = (5 100 x 200/1 100 + 200) / 6 200.
# D3.
#   pond: 1 again.
#   dam: opening 5 200 at D2's shares; inflows bores 400 raw, pond -> dam 300 worked (pond D2 = 1),
#   wtp 200 treated; mixed volume 5 200 + 900 = 6 100:
#   w = (5 200 x w_D2 + 300) / 6 100, t = (5 200 x t_D2 + 200) / 6 100.
DAM_W = {D1: 0.0, D2: 400 / 6200}
DAM_T = {D1: 200 / 1100, D2: (5100 * 200 / 1100 + 200) / 6200}
DAM_W[D3] = (5200 * DAM_W[D2] + 300) / 6100
DAM_T[D3] = (5200 * DAM_T[D2] + 200) / 6100

# --- task feed: dam -> plant 1 000 at the dam's mixed shares, pond -> wtp 200 at the pond's (1) --
WORKED = {day: 1000 * DAM_W[day] + 200 * 1.0 for day in (D1, D2, D3)}
TREATED = {day: 1000 * DAM_T[day] for day in (D1, D2, D3)}
FEED = 1200.0
RAW = {day: FEED - WORKED[day] - TREATED[day] for day in (D1, D2, D3)}
# D1: worked 200, treated 181.818182, raw 818.181818; reuse 200 / 1 200 = 0.166667,
# recycling 381.818182 / 1 200 = 0.318182 (declared: dam -> plant raw, pond -> wtp worked, so
# reuse and recycling 200 / 1 200 whatever the mixing)
ORE_T = {D1: 2000.0, D2: 2500.0, D3: 2400.0}

# --- carbon ----------------------------------------------------------------------------------
# factors: grid AU-WA-SWIS NGA-2024 0.51 kg CO2-e/kWh; diesel AU NGA-2024 38.6 GJ/kL x 70.2 kg/GJ
# = 2.70972 kg CO2-e/L.
# JQ-1 (bore pump): 9 990 -> 290 wraps at 10 000: 10 000 - 9 990 + 290 = 300 kWh on D1, then
# 540 - 290 = 250, 740 - 540 = 200. JQ-2 (wtp): 100, 80, 120 kWh. FL-1 (wtp genset): 50, 40, 60 L.
GRID = 0.51
DIESEL = 38.6 * 70.2 / 1000
JQ1_KWH = {D1: 300.0, D2: 250.0, D3: 200.0}
JQ2_KWH = {D1: 100.0, D2: 80.0, D3: 120.0}
LITRES = {D1: 50.0, D2: 40.0, D3: 60.0}
# D1: scope 2 = (300 + 100) x 0.51 = 204.0; scope 1 = 50 x 2.70972 = 135.486; total 339.486.
# pumped: bores_to_dam carries JQ-1, 600 m3: 300 x 0.51 / 600 = 0.255 kg/m3.
# treated: wtp -> dam 200 m3; the wtp's meters: 100 x 0.51 + 135.486 = 186.486 kg: 0.93243 kg/m3.
PUMPED = {D1: 600.0, D2: 500.0, D3: 400.0}


def _build(home: Path) -> None:
    write_site_tables(get_settings(home), load_site(MIX_SITE_FILE))
    write_mix_lake(get_settings(home).lake)
    run_dbt(home, "build")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "mix_site", _build)


def _rows(home: Path, table: str, key: str = "day") -> dict:
    rows = query(home, f"select * from {table} where site_id = '{SITE}'")
    return {row[key] if key == "day" else (row[key], row["day"]): row for row in rows}


def test_store_shares_follow_the_hand_mixing(home: Path) -> None:
    rows = _rows(home, "marts.fct_store_water_state_daily", "node_id")
    for day in (D1, D2, D3):
        dam, pond = rows[("dam", day)], rows[("pond", day)]
        assert dam["worked_share"] == pytest.approx(DAM_W[day], abs=1e-12), day
        assert dam["treated_share"] == pytest.approx(DAM_T[day], abs=1e-12), day
        assert dam["raw_share"] == pytest.approx(1 - DAM_W[day] - DAM_T[day], abs=1e-12)
        assert pond["worked_share"] == pytest.approx(1.0, abs=1e-12)
        assert dam["outflow_worked_m3"] == pytest.approx(1000 * DAM_W[day], abs=EXACT)
    assert rows[("dam", D1)]["composition_method"] == "first_inflows"
    assert rows[("dam", D2)]["composition_method"] == "mixed"
    # D2: the dam mixes 5 100 m3 of opening water (measured) with 1 100 m3 of inflows
    assert rows[("dam", D2)]["opening_volume_m3"] == pytest.approx(5100, abs=EXACT)
    assert rows[("dam", D2)]["mixed_volume_m3"] == pytest.approx(6200, abs=EXACT)
    assert rows[("dam", D2)]["inflow_from_stores_m3"] == pytest.approx(400, abs=EXACT)
    assert rows[("dam", D2)]["inflow_worked_m3"] == pytest.approx(400, abs=EXACT)


def test_task_feed_splits_by_mixing_to_the_cubic_millimetre(home: Path) -> None:
    rows = _rows(home, "marts.fct_water_reuse_daily")
    for day in (D1, D2, D3):
        row = rows[day]
        assert row["task_feed_m3"] == pytest.approx(FEED, abs=EXACT)
        assert row["task_feed_worked_m3"] == pytest.approx(WORKED[day], abs=EXACT), day
        assert row["task_feed_treated_m3"] == pytest.approx(TREATED[day], abs=EXACT), day
        assert row["task_feed_raw_m3"] == pytest.approx(RAW[day], abs=EXACT), day
        assert row["reuse_ratio"] == pytest.approx(WORKED[day] / FEED, abs=1e-12)
        assert row["recycling_ratio"] == pytest.approx(
            (WORKED[day] + TREATED[day]) / FEED, abs=1e-12
        )
        assert row["fresh_water_intensity_m3_per_t"] == pytest.approx(
            RAW[day] / ORE_T[day], abs=1e-12
        )
        # declared states: dam -> plant raw, pond -> wtp worked
        assert row["task_feed_worked_declared_m3"] == pytest.approx(200, abs=EXACT)
        assert row["task_feed_raw_declared_m3"] == pytest.approx(1000, abs=EXACT)
        assert row["reuse_ratio_declared"] == pytest.approx(200 / 1200, abs=1e-12)
        assert row["is_complete"]
    assert rows[D1]["task_feed_treated_m3"] == pytest.approx(181.818182, abs=EXACT)
    assert rows[D1]["recycling_ratio"] == pytest.approx(0.318182, abs=1e-6)


def test_carbon_per_meter_is_activity_times_the_chosen_factor(home: Path) -> None:
    rows = _rows(home, "marts.fct_carbon_daily", "meter_id")
    for day in (D1, D2, D3):
        assert rows[("JQ-1", day)]["activity_amount"] == pytest.approx(JQ1_KWH[day], abs=EXACT)
        assert rows[("JQ-1", day)]["kg_co2e"] == pytest.approx(JQ1_KWH[day] * GRID, abs=EXACT)
        assert rows[("JQ-2", day)]["kg_co2e"] == pytest.approx(JQ2_KWH[day] * GRID, abs=EXACT)
        assert rows[("FL-1", day)]["kg_co2e"] == pytest.approx(LITRES[day] * DIESEL, abs=EXACT)
    assert rows[("JQ-1", D1)]["n_rollovers"] == 1
    assert rows[("FL-1", D1)]["scope"] == 1
    assert rows[("FL-1", D1)]["factor_edition"] == "NGA-2024"
    assert rows[("JQ-1", D1)]["factor_region"] == "AU-WA-SWIS"


def test_site_carbon_splits_scopes_and_divides_by_water(home: Path) -> None:
    rows = _rows(home, "marts.fct_carbon_site_daily")
    day1 = rows[D1]
    assert day1["scope2_kg_co2e"] == pytest.approx(204.0, abs=EXACT)
    assert day1["scope1_kg_co2e"] == pytest.approx(135.486, abs=EXACT)
    assert day1["total_kg_co2e"] == pytest.approx(339.486, abs=EXACT)
    assert day1["kg_co2e_per_m3_pumped"] == pytest.approx(0.255, abs=1e-9)
    assert day1["kg_co2e_per_m3_treated"] == pytest.approx(0.93243, abs=1e-9)
    for day in (D1, D2, D3):
        row = rows[day]
        scope2 = (JQ1_KWH[day] + JQ2_KWH[day]) * GRID
        scope1 = LITRES[day] * DIESEL
        assert row["scope2_kg_co2e"] == pytest.approx(scope2, abs=EXACT)
        assert row["scope1_kg_co2e"] == pytest.approx(scope1, abs=EXACT)
        assert row["pumped_m3"] == pytest.approx(PUMPED[day], abs=EXACT)
        assert row["treated_m3"] == pytest.approx(200, abs=EXACT)
        assert row["treatment_kg_co2e"] == pytest.approx(JQ2_KWH[day] * GRID + scope1, abs=EXACT)
        assert row["has_every_factor"]


def _nights(home: Path) -> None:
    """A full build on the first two days, then window runs as the rest arrives."""
    write_site_tables(get_settings(home), load_site(MIX_SITE_FILE))
    write_mix_lake(get_settings(home).lake, through=D2)
    run_dbt(home, "run")
    write_mix_lake(get_settings(home).lake)
    run_dbt(home, "run", dbt_vars={"start_day": str(D3), "end_day": str(D4)})
    run_dbt(home, "run", dbt_vars={"start_day": str(D4), "end_day": str(D4)})


def test_window_runs_continue_the_mixing_from_the_day_before(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    nightly = shared_home(tmp_path_factory, "mix_nights", _nights)
    stores = _rows(nightly, "marts.fct_store_water_state_daily", "node_id")
    for day in (D1, D2, D3):
        assert stores[("dam", day)]["worked_share"] == pytest.approx(DAM_W[day], abs=1e-12)
        assert stores[("dam", day)]["treated_share"] == pytest.approx(DAM_T[day], abs=1e-12)
    feed = _rows(nightly, "marts.fct_water_reuse_daily")
    for day in (D1, D2, D3):
        assert feed[day]["task_feed_worked_m3"] == pytest.approx(WORKED[day], abs=EXACT)
        assert feed[day]["task_feed_treated_m3"] == pytest.approx(TREATED[day], abs=EXACT)
    carbon = _rows(nightly, "marts.fct_carbon_site_daily")
    assert carbon[D3]["scope2_kg_co2e"] == pytest.approx((200 + 120) * GRID, abs=EXACT)


def _late_first_day(home: Path) -> None:
    """D1's file arrives after D2-D4 were built; then the window run of D1 alone."""
    write_site_tables(get_settings(home), load_site(MIX_SITE_FILE))
    lake = get_settings(home).lake
    write_mix_lake(lake)
    d1 = lake / "readings" / f"site={SITE}" / "source=manual" / f"day={D1}"
    held_back = (d1 / "m1.parquet").read_bytes()
    (d1 / "m1.parquet").unlink()
    d1.rmdir()
    run_dbt(home, "run", "--select", "+fct_store_water_state_daily")
    d1.mkdir()
    (d1 / "m1.parquet").write_bytes(held_back)
    run_dbt(
        home,
        "run",
        "--select",
        "+fct_store_water_state_daily",
        dbt_vars={"start_day": str(D1), "end_day": str(D1)},
    )


def test_a_late_first_day_re_derives_the_mixing_of_every_later_day(tmp_path: Path) -> None:
    """Each day's composition starts from the day before, so a window run of a late day must
    carry on past its own window (D1 with its lookback and lookahead is D0-D2) to the last day
    of storage: D3 mixes from the new D2, and D4 keeps D3's shares."""
    _late_first_day(tmp_path)
    stores = _rows(tmp_path, "intermediate.int_store_water_state_daily", "node_id")
    for day in (D1, D2, D3):
        assert stores[("dam", day)]["worked_share"] == pytest.approx(DAM_W[day], abs=1e-12)
        assert stores[("dam", day)]["treated_share"] == pytest.approx(DAM_T[day], abs=1e-12)
    # D4 has no inflow: its opening water keeps D3's shares
    assert stores[("dam", D4)]["worked_share"] == pytest.approx(DAM_W[D3], abs=1e-12)
    assert stores[("dam", D4)]["treated_share"] == pytest.approx(DAM_T[D3], abs=1e-12)


def test_months_recompute_the_ratios_from_their_volumes(home: Path) -> None:
    # July holds D1-D4 (D4 only has the midnight readings that close D3: no feed, no activity)
    [reuse] = query(home, f"select * from marts.fct_water_reuse_monthly where site_id = '{SITE}'")
    worked, treated = sum(WORKED.values()), sum(TREATED.values())
    assert reuse["task_feed_m3"] == pytest.approx(3 * FEED, abs=EXACT)
    assert reuse["reuse_ratio"] == pytest.approx(worked / (3 * FEED), abs=1e-12)
    assert reuse["recycling_ratio"] == pytest.approx((worked + treated) / (3 * FEED), abs=1e-12)
    assert reuse["fresh_water_intensity_m3_per_t"] == pytest.approx(
        sum(RAW.values()) / sum(ORE_T.values()), abs=1e-12
    )
    [carbon] = query(home, f"select * from marts.fct_carbon_site_monthly where site_id = '{SITE}'")
    # (300 + 250 + 200 + 100 + 80 + 120) kWh x 0.51 = 535.5; (50 + 40 + 60) L x 2.70972 = 406.458
    assert carbon["scope2_kg_co2e"] == pytest.approx(535.5, abs=EXACT)
    assert carbon["scope1_kg_co2e"] == pytest.approx(406.458, abs=EXACT)
    # pumping 750 kWh x 0.51 over 1 500 m3 pumped
    assert carbon["kg_co2e_per_m3_pumped"] == pytest.approx(750 * GRID / 1500, abs=1e-12)
