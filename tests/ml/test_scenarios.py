"""What-if scenarios: the YAML file, and projections on the same balance as the base case."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml.overflow import OtherNet, StoreModel
from ml.scenarios import BASE, Scenario, load_scenarios, project, project_all
from ml.weather import RainModel
from siteledger.site.loader import SiteConfigError

RAIN = RainModel((0.3,) * 12, (0.6,) * 12, (0.8,) * 12, (10.0,) * 12)
GOOD = """\
scenarios:
  - id: wet
    name: Rain +20 %
    rain_factor: 1.2
  - id: pump
    name: Extra pit pumping
    pump_m3_per_day: {dam: -300}
    horizon_days: 30
"""


def _dam(values=(0.0, 50.0, -50.0), evap=100.0) -> StoreModel:
    """One fill bin, so every scenario draws the same recorded days on the same seed."""
    n = len(values)
    other = OtherNet((), tuple(values), (0,) * n, (False,) * n, 0.0, False)
    return StoreModel("dam", 1e6, 1_000.0, (evap,) * 12, 0.0, other, n_days=n)


def test_load_scenarios_from_text_and_file(tmp_path):
    wet, pump = load_scenarios(GOOD)
    assert wet.rain_factor == 1.2 and wet.evaporation_factor == 1.0
    assert pump.pump_m3_per_day == {"dam": -300.0}
    assert pump.horizon_days == 30
    assert BASE.is_base and not wet.is_base
    path = tmp_path / "scenarios.yaml"
    path.write_text(GOOD)
    assert [s.id for s in load_scenarios(path)] == ["wet", "pump"]
    assert [s.id for s in load_scenarios(str(path))] == ["wet", "pump"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("rain_factor: 1.2", "rain_factr: 1.2"),
            ":4: scenarios[0].rain_factr: unknown key",
        ),
        (GOOD.replace("rain_factor: 1.2", "rain_factor: -1"), ":4: scenarios[0].rain_factor: "),
        (GOOD.replace("horizon_days: 30", "horizon_days: soon"), ":8: scenarios[1].horizon_days: "),
        (GOOD.replace("id: pump", "id: wet"), ":5: scenarios[1].id: duplicate id 'wet'"),
        (GOOD.replace("{dam: -300}", "{dam: .nan}"), ":7: scenarios[1].pump_m3_per_day: "),
        (GOOD.replace("    name: Rain +20 %\n", ""), ":2: scenarios[0].name: Field required"),
        ("scenarios: [\n", "not valid YAML"),
        ("scenarios: []\n", ":1: scenarios: "),
    ],
)
def test_scenario_errors_carry_file_and_line(tmp_path, text, expected):
    path = tmp_path / "what_if.yaml"
    path.write_text(text)
    with pytest.raises(SiteConfigError) as err:
        load_scenarios(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_a_pump_change_shifts_the_volumes_exactly():
    """Same seed, same draws: with nothing clipped, a constant extra -300 m3/d moves every path
    by -300 m3 a day, so each quantile moves by exactly that."""
    dam = _dam()
    args = ([dam], {"dam": 500_000.0}, RAIN, date(2025, 1, 31), 30, 500, 4)
    base = project(BASE, *args)
    pumped = project(Scenario(id="p", name="p", pump_m3_per_day={"dam": -300.0}), *args)
    shift = pumped["p50_m3"] - base["p50_m3"]
    assert np.allclose(shift, -300.0 * base["step"])
    assert base["status"].eq("ok").all()
    assert base.loc[0, "day"] == date(2025, 1, 31) and base.loc[30, "day"] == date(2025, 3, 2)


def test_more_rain_and_less_evaporation_raise_the_store_and_its_overflow_odds():
    dam = _dam()
    start = {"dam": 200_000.0}
    frame = project_all(
        [
            Scenario(id="wet", name="Rain +20 %", rain_factor=1.2),
            Scenario(id="cool", name="Evaporation -10 %", evaporation_factor=0.9),
        ],
        [dam],
        start,
        RAIN,
        date(2025, 6, 30),
        horizon_days=90,
        n_paths=2_000,
    )
    assert list(frame["scenario_id"].unique()) == ["base", "wet", "cool"]
    last = frame[frame["step"] == 90].set_index("scenario_id")
    assert last.loc["wet", "p50_m3"] > last.loc["base", "p50_m3"]
    assert last.loc["cool", "p50_m3"] - last.loc["base", "p50_m3"] == pytest.approx(90 * 10.0)
    assert last.loc["wet", "p_above_80"] >= last.loc["base", "p_above_80"]
    # P(... by day d) never falls as d grows
    for _, g in frame.groupby("scenario_id"):
        assert g["p_above_80"].iloc[1:].is_monotonic_increasing


def test_replaying_a_year_uses_its_recorded_rain():
    days = pd.date_range("2019-01-01", "2019-12-31", freq="D")
    history = pd.Series(np.where(days.day == 15, 40.0, 0.0), index=days)
    dam = _dam(values=(0.0,), evap=0.0)
    replay = Scenario(id="r19", name="2019 again", replay_year=2019, horizon_days=31)
    frame = project(
        replay, [dam], {"dam": 100_000.0}, RAIN, date(2025, 2, 28), rain_history=history
    )
    # 40 mm on 15 March on every path: 40 000 m3, no spread
    assert frame["p10_m3"].equals(frame["p90_m3"])
    assert frame.loc[frame["day"] == date(2025, 3, 15), "p50_m3"].item() == 140_000.0
    with pytest.raises(ValueError, match="lacks"):
        project(
            Scenario(id="r", name="r", replay_year=2018),
            [dam],
            {"dam": 1.0},
            RAIN,
            date(2025, 1, 1),
            rain_history=history,
        )
    with pytest.raises(ValueError, match="no rain"):
        project(replay, [dam], {"dam": 1.0}, RAIN, date(2025, 1, 1))


def test_unknown_stores_and_unusable_models():
    dam = _dam()
    with pytest.raises(ValueError, match="names no store"):
        project(
            Scenario(id="x", name="x", pump_m3_per_day={"tank": 5}),
            [dam],
            {},
            RAIN,
            date(2025, 1, 1),
        )
    broken = StoreModel("tank", float("nan"), status="no_capacity", reason="no capacity")
    frame = project(BASE, [dam, broken], {"dam": 1e5}, RAIN, date(2025, 1, 1), 10, 100)
    tank = frame[frame["node_id"] == "tank"]
    assert set(tank["status"]) == {"no_capacity"}
    assert tank["p50_m3"].isna().all()
    missing = project(BASE, [dam], {}, RAIN, date(2025, 1, 1), 10, 100)
    assert set(missing["status"]) == {"no_start_volume"}
