"""The demo's lab files: consistent with the simulated water quality, deterministic, and the
overflow plan overfills the pit sump by the amount it was sized for."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd

from demo import write_demo
from demo.anomalies import plan_anomalies
from demo.drivers import STEPS_PER_DAY
from demo.lab import OVERFLOW_PEAK_EXCESS_M3, overflow_episodes, plan_overflow
from demo.simulate import simulate
from demo.site import build_demo_site

START = date(2025, 7, 1)


def test_lab_results_follow_the_simulated_water_and_repeat_byte_for_byte(tmp_path: Path):
    out = write_demo(tmp_path / "a", days=50, start=START, sites=("demo_mine",))
    again = write_demo(tmp_path / "b", days=50, start=START, sites=("demo_mine",))
    names = ["lab_edd_202507-202508.csv", "field_results_202507-202508.xlsx"]
    for name in names:
        assert (tmp_path / "a" / "landing" / name).read_bytes() == (
            tmp_path / "b" / "landing" / name
        ).read_bytes()
    assert {p.name for p in out.drop_files} >= set(names)
    assert again.sites["demo_mine"].n_readings == out.sites["demo_mine"].n_readings

    edd = pd.read_csv(tmp_path / "a" / "landing" / names[0], dtype=str, keep_default_na=False)
    sim = simulate(build_demo_site(), start=START, days=50, seed=7)
    for sampled_at, rows in edd.groupby("sampled_at"):
        moment = datetime.fromisoformat(sampled_at)
        step = sim.dates.index(moment.date()) * STEPS_PER_DAY + (moment.hour * 4) + 2
        values = dict(zip(rows["parameter"], rows["value"], strict=True))
        # lab noise: 2 % (1 sigma) on TDS, 0.05 on pH
        assert abs(float(values["TDS"]) / sim.drivers.tds[step] - 1) < 0.08
        assert abs(float(values["pH"]) - sim.drivers.ph[step]) < 0.25
    # July's copper is below detection, August's the recorded exceedance
    copper = edd[edd["parameter"] == "Copper"]
    assert copper[["value", "qualifier"]].values.tolist() == [["2", "<"], ["34.0", ""]]
    truth = pd.read_csv(tmp_path / "a" / "demo" / "ground_truth" / "lab_exceedances.csv")
    assert truth[["limit_id", "period_start", "value"]].values.tolist() == [
        ["L-CU", "2025-08-15", 34.0]
    ]


def test_the_overflow_plan_overfills_the_pit_sump_by_its_design_peak():
    site = build_demo_site()
    anomalies = plan_anomalies(site, START, 64, 7)
    plan = plan_overflow(site, START, 64, 7, anomalies)
    assert plan is not None and plan.day == 50

    sim = simulate(site, start=START, days=64, seed=7, anomalies=anomalies, overflow=plan)

    episodes = overflow_episodes(sim)
    assert episodes["node_id"].tolist() == ["pit_sump"]
    # sized on the pit alone; the full simulation agrees within 5 m3
    assert abs(episodes["peak_excess_m3"].iloc[0] - OVERFLOW_PEAK_EXCESS_M3) < 5
    assert plan_overflow(site, START, 59, 7, None) is None
