"""Many paths of the demo physics: the simulation's own weather gives back its storage; fresh
weather gives independent, plausible paths."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from demo.drivers import PERTH_CLIMATE, STEPS_PER_DAY
from demo.physics import PathWeather, draw_weather, run_paths, simulate_paths
from demo.simulate import DemoSimulation, simulate
from demo.site import build_demo_site, build_highveld_site

DAYS = 75
ORIGIN = 30
HORIZON = 30


@pytest.fixture(scope="module", params=["demo_mine", "demo_highveld"])
def sim(request: pytest.FixtureRequest) -> DemoSimulation:
    site = build_demo_site() if request.param == "demo_mine" else build_highveld_site()
    # Perth's wet season (May-October): rain, river and discharge all at work
    return simulate(site, start=date(2025, 6, 1), days=DAYS, seed=5)


def _midnights(sim: DemoSimulation, origin: int, days: int) -> np.ndarray:
    return sim.storage[origin * STEPS_PER_DAY : (origin + days) * STEPS_PER_DAY + 1 : 96]


def test_the_simulations_own_weather_gives_back_its_storage(sim: DemoSimulation) -> None:
    weather = PathWeather.of_simulation(sim, ORIGIN, HORIZON)
    paths = run_paths(sim.site, sim, ORIGIN, weather)
    assert paths.shape == (1, HORIZON + 1, len(sim.store_ids))
    np.testing.assert_allclose(paths[0], _midnights(sim, ORIGIN, HORIZON), rtol=1e-12, atol=1e-6)


def test_from_the_first_midnight_too(sim: DemoSimulation) -> None:
    weather = PathWeather.of_simulation(sim, 0, DAYS)
    paths = run_paths(sim.site, sim, 0, weather)
    np.testing.assert_allclose(paths[0], _midnights(sim, 0, DAYS), rtol=1e-12, atol=1e-6)


def test_a_path_does_not_depend_on_the_others(sim: DemoSimulation) -> None:
    own = PathWeather.of_simulation(sim, ORIGIN, HORIZON)
    fresh = draw_weather(sim.site, sim, ORIGIN, HORIZON, 3, seed=1)
    mixed = PathWeather(
        np.concatenate([fresh.rain_tips[:1], own.rain_tips, fresh.rain_tips[1:]]),
        np.concatenate([fresh.pan_mm[:1], own.pan_mm, fresh.pan_mm[1:]]),
    )
    paths = run_paths(sim.site, sim, ORIGIN, mixed)
    alone = run_paths(sim.site, sim, ORIGIN, fresh)
    np.testing.assert_allclose(paths[1], _midnights(sim, ORIGIN, HORIZON), rtol=1e-12, atol=1e-6)
    np.testing.assert_array_equal(paths[[0, 2, 3]], alone)


def test_shape_order_and_origin(sim: DemoSimulation) -> None:
    paths = simulate_paths(sim.site, sim, ORIGIN, 10, 4, seed=3)
    assert paths.shape == (4, 11, len(sim.store_ids))
    origin = sim.storage[ORIGIN * STEPS_PER_DAY]
    for path in paths:
        np.testing.assert_array_equal(path[0], origin)
    # stores in sim.store_ids order: every path stays within each store's own capacity
    capacity = np.array([sim.site.node(s).capacity_m3 for s in sim.store_ids])
    assert (paths <= capacity).all()
    assert (paths >= 0).all()


def test_deterministic_in_the_seed(sim: DemoSimulation) -> None:
    a = simulate_paths(sim.site, sim, ORIGIN, 10, 3, seed=3)
    b = simulate_paths(sim.site, sim, ORIGIN, 10, 3, seed=3)
    c = simulate_paths(sim.site, sim, ORIGIN, 10, 3, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # path i is the same whatever the number of paths
    np.testing.assert_array_equal(simulate_paths(sim.site, sim, ORIGIN, 10, 5, seed=3)[:3], a)


def test_paths_are_independent_and_plausible(sim: DemoSimulation) -> None:
    n = 300
    weather = draw_weather(sim.site, sim, ORIGIN, HORIZON, n, seed=11)
    rain = weather.rain_tips.sum(axis=2) * 0.2  # (paths, days) mm
    # different paths have different weather (the Highveld's winter may be dry on many paths,
    # but evaporation differs), and so different storage
    assert len({tuple(r) for r in weather.pan_mm}) == n
    paths = run_paths(sim.site, sim, ORIGIN, weather)
    final = paths[:, -1]
    assert len({tuple(np.round(f, 3)) for f in final}) == n
    # rain of a path over the window: the climate's mean (Perth normals for the demo mine; the
    # Highveld's dry winter for the other) within sampling error of 300 paths
    climate = sim.drivers.climate
    months = np.array([d.month for d in sim.dates[ORIGIN : ORIGIN + HORIZON]])
    # P(wet day) = rain days / 30.4, mean wet-day total = monthly mm / rain days
    expected = sum(climate.rain_mm[m - 1] / 30.4 for m in months)
    totals = rain.sum(axis=1)
    spread = totals.std() / np.sqrt(n)
    assert abs(totals.mean() - expected) < 4 * spread + 0.15 * expected
    # neighbouring paths are uncorrelated
    assert abs(np.corrcoef(totals[:-1], totals[1:])[0, 1]) < 0.2
    # evaporation follows the season and is lower on wet days
    wet = rain > 1.0
    assert weather.pan_mm[wet].mean() < weather.pan_mm[~wet].mean()
    # the truth is a draw like any other: inside the spread of the paths
    truth = _midnights(sim, ORIGIN, HORIZON)[-1]
    low, high = np.quantile(final, [0.001, 0.999], axis=0)
    assert ((truth >= low - 1.0) & (truth <= high + 1.0)).all(), (truth, low, high)
    # more rain, more water in the raw water dam
    rwd = sim.store_ids.index("raw_water_dam")
    assert np.corrcoef(totals, final[:, rwd])[0, 1] > 0


def test_climate_is_the_sites(sim: DemoSimulation) -> None:
    assert (sim.drivers.climate == PERTH_CLIMATE) == (sim.site.site.id == "demo_mine")


def test_the_window_must_be_inside_the_simulation(sim: DemoSimulation) -> None:
    with pytest.raises(ValueError, match="not inside"):
        simulate_paths(sim.site, sim, DAYS - 5, 10, 2, seed=1)
    with pytest.raises(ValueError, match="not inside"):
        simulate_paths(sim.site, sim, -1, 10, 2, seed=1)
    other = build_highveld_site() if sim.site.site.id == "demo_mine" else build_demo_site()
    with pytest.raises(ValueError, match="not"):
        simulate_paths(other, sim, ORIGIN, 10, 2, seed=1)
