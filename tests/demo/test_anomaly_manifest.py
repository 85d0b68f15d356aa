"""The anomalies the demo injects under --faults: recorded, inside the run, real water where they
should be (spikes, level shifts) and only in the readings where they should be (the drift)."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from demo import write_demo
from demo.anomalies import DRIFT_METER, MIN_DAYS, plan_anomalies
from demo.drivers import STEPS_PER_DAY
from demo.simulate import simulate
from demo.site import build_demo_site
from demo.write import ground_truth_dir

DAYS = 64
START = date(2025, 7, 1)
SEED = 7
FIELDS = {
    "series_id",
    "scope",
    "scope_id",
    "metric",
    "kind",
    "first_day",
    "last_day",
    "magnitude",
    "cause",
    "detail",
}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("anomalies")
    write_demo(home, days=DAYS, start=START, seed=SEED, faults=True, sites=("demo_mine",))
    return home


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("no_anomalies")
    write_demo(home, days=DAYS, start=START, seed=SEED, sites=("demo_mine",))
    return home


@pytest.fixture(scope="module")
def manifest(faulty: Path) -> list[dict]:
    return json.loads((ground_truth_dir(faulty, "demo_mine") / "anomalies.json").read_text())


def _flows(home: Path) -> pd.DataFrame:
    flows = pd.read_csv(ground_truth_dir(home, "demo_mine") / "flows_daily.csv")
    return flows.pivot(index="day", columns="flow_id", values="volume_m3")


def test_manifest_only_with_faults(faulty: Path, clean: Path) -> None:
    assert (ground_truth_dir(faulty, "demo_mine") / "anomalies.json").exists()
    assert not (ground_truth_dir(clean, "demo_mine") / "anomalies.json").exists()
    # a rerun without --faults removes it
    write_demo(faulty, days=5, start=START, seed=SEED, sites=("demo_mine",))
    assert not (ground_truth_dir(faulty, "demo_mine") / "anomalies.json").exists()
    write_demo(faulty, days=DAYS, start=START, seed=SEED, faults=True, sites=("demo_mine",))


def test_short_faulty_runs_have_an_empty_manifest(tmp_path: Path) -> None:
    out = write_demo(tmp_path, days=8, start=START, seed=SEED, faults=True, sites=("demo_mine",))
    path = out.sites["demo_mine"].anomalies_manifest
    assert path is not None and json.loads(path.read_text()) == []
    assert plan_anomalies(build_demo_site(), START, MIN_DAYS - 1, SEED) is None


def test_entries_are_well_formed_and_inside_the_run(manifest: list[dict]) -> None:
    kinds = [a["kind"] for a in manifest]
    assert kinds.count("spike") >= 6
    assert kinds.count("level_shift") >= 2
    assert kinds.count("drift") == 1
    last = START + timedelta(days=DAYS - 1)
    for a in manifest:
        assert set(a) == FIELDS
        assert a["series_id"] == f"demo_mine/{a['scope']}/{a['scope_id']}/{a['metric']}"
        assert a["scope"] == "flow" and a["metric"] == "volume_m3"
        assert a["cause"] in ("operational", "sensor")
        first, end = date.fromisoformat(a["first_day"]), date.fromisoformat(a["last_day"])
        assert START < first <= end <= last
        if a["kind"] == "spike":
            assert first == end and 2.5 <= a["magnitude"] <= 4.0
        if a["kind"] in ("level_shift", "drift"):
            assert (end - first).days + 1 >= 30
    assert {a["cause"] for a in manifest if a["kind"] == "drift"} == {"sensor"}


def test_no_two_anomalies_of_a_series_overlap_and_spikes_avoid_the_faults(
    manifest: list[dict], faulty: Path
) -> None:
    by_series: dict[str, list[tuple[date, date]]] = {}
    for a in manifest:
        span = (date.fromisoformat(a["first_day"]), date.fromisoformat(a["last_day"]))
        by_series.setdefault(a["series_id"], []).append(span)
    for spans in by_series.values():
        spans.sort()
        for (_, end), (first, _) in itertools.pairwise(spans):
            assert first > end + timedelta(days=1)  # an ordinary day between
    faults = json.loads((ground_truth_dir(faulty, "demo_mine") / "faults.json").read_text())
    fault_days = {pd.Timestamp(f["start_utc"]).tz_convert("Australia/Perth").date() for f in faults}
    spikes = {date.fromisoformat(a["first_day"]) for a in manifest if a["kind"] == "spike"}
    assert not spikes & fault_days


def test_reproducible_from_the_seed() -> None:
    site = build_demo_site()
    assert plan_anomalies(site, START, DAYS, SEED) == plan_anomalies(site, START, DAYS, SEED)
    assert plan_anomalies(site, START, DAYS, SEED) != plan_anomalies(site, START, DAYS, SEED + 1)
    for days in (60, 61, 90, 365, 1000):
        plan = plan_anomalies(site, START, days, SEED)
        assert plan is not None
        assert all(0 < d < days - 1 for d, _ in plan.spikes)
        assert days - plan.water_day >= 30 and days - plan.supply_day >= 30
        assert plan.drift_day > 0 and plan.drift_day + 30 <= days - 1


def test_spikes_are_in_the_truth(manifest: list[dict], faulty: Path, clean: Path) -> None:
    flows, base = _flows(faulty), _flows(clean)
    for a in (a for a in manifest if a["kind"] == "spike"):
        day, flow = a["first_day"], a["scope_id"]
        # exactly the factor on that day's own volume (the truth rounds to 1e-6 m3)
        assert flows.loc[day, flow] == pytest.approx(a["magnitude"] * base.loc[day, flow], 1e-6)
        i = flows.index.get_loc(day)
        neighbours = flows[flow].iloc[[i - 1, i + 1]].mean()
        assert flows.loc[day, flow] / neighbours == pytest.approx(a["magnitude"], rel=0.3)
    site = pd.read_csv(ground_truth_dir(faulty, "demo_mine") / "site_daily.csv")
    assert site["closure_m3"].abs().max() < 1e-3  # still conserved: the water is real


def test_level_shifts_are_in_the_truth(manifest: list[dict], faulty: Path, clean: Path) -> None:
    flows, base = _flows(faulty), _flows(clean)
    for a in (a for a in manifest if a["kind"] == "level_shift"):
        flow, first = a["scope_id"], a["first_day"]
        before = flows.loc[flows.index < first, flow]
        np.testing.assert_allclose(before, base.loc[before.index, flow], rtol=1e-9, atol=1e-6)
        after = flows.loc[flows.index >= first, flow].sum()
        assert after / base.loc[base.index >= first, flow].sum() == pytest.approx(
            a["magnitude"], rel=0.01
        )


def test_drift_is_in_the_readings_not_the_truth(
    manifest: list[dict], faulty: Path, clean: Path
) -> None:
    drift = next(a for a in manifest if a["kind"] == "drift")
    flow = drift["scope_id"]
    assert flow == "retwd_to_pwd"
    # the truth is not the drift's: before the plant's level shift the flow is untouched
    flows, base = _flows(faulty), _flows(clean)
    water = next(a for a in manifest if a["kind"] == "level_shift" and a["scope_id"] != flow)
    before = [d for d in flows.index if d < water["first_day"] and d < drift["first_day"]]
    np.testing.assert_allclose(flows.loc[before, flow], base.loc[before, flow], rtol=1e-9)
    # the readings carry it: FT-160 in the SCADA export, against the truth's rate
    plan = plan_anomalies(build_demo_site(), START, DAYS, SEED)
    assert plan is not None
    sim = simulate(build_demo_site(), START, DAYS, SEED, anomalies=plan)
    true_rate = sim.grid_readings[DRIFT_METER]
    last = date.fromisoformat(drift["last_day"])
    scada = _scada_column(faulty, last, DRIFT_METER)
    k = (last - START).days * STEPS_PER_DAY
    truth = true_rate[k : k + STEPS_PER_DAY]
    running = truth > 1.0
    assert running.any()
    ratio = scada[running] / truth[running]
    assert ratio.min() > 1.14 and ratio.max() < 1.16
    # the day after, recalibrated
    after = _scada_column(faulty, last + timedelta(days=1), DRIFT_METER)
    nxt = true_rate[k + STEPS_PER_DAY : k + 2 * STEPS_PER_DAY]
    np.testing.assert_allclose(after, nxt, rtol=1e-9)


def _scada_column(home: Path, day: date, meter: str) -> np.ndarray:
    frame = pd.read_csv(home / "landing" / f"scada_export_{day:%Y%m%d}.csv")
    tag = build_demo_site().meter(meter).tag
    column = next(c for c in frame.columns if c.startswith(f"{tag} ["))
    return frame[column].to_numpy(dtype="float64")[:STEPS_PER_DAY]


def test_without_faults_nothing_changes(clean: Path) -> None:
    sim = simulate(build_demo_site(), START, DAYS, SEED)
    flows = _flows(clean)
    per_day = sim.flows.reshape(DAYS, STEPS_PER_DAY, -1).sum(axis=1)
    np.testing.assert_allclose(flows[sim.flow_ids].to_numpy(), per_day, atol=1e-6)
