"""What-if scenarios: the store balances of :mod:`ml.overflow` run with changed drivers.

A scenario changes what goes into the same balance (:func:`ml.overflow.simulate_store`) that
gives the overflow probabilities; the base case is the scenario that changes nothing. Every
scenario of a comparison uses the same random numbers (same seed: the same rain draws before
scaling, the same recorded days drawn for the controlled flows), so the differences between
scenarios are the scenario's effect, not Monte Carlo noise.

A scenario file is YAML::

    scenarios:
      - id: wet_year
        name: Rain +20 %
        rain_factor: 1.2
      - id: hot_dry
        name: Dry year, evaporation +10 %
        rain_factor: 0.5
        evaporation_factor: 1.1
      - id: extra_pit_pump
        name: Pit pumps 500 m3/d more to the RWD
        pump_m3_per_day: {pit_sump: -500, raw_water_dam: 500}
      - id: replay_2019
        name: The rain of 2019 again
        replay_year: 2019
        horizon_days: 120

Problems are reported as ``file:line: key: reason`` (the site loader's YAML helpers).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ml.overflow import StoreModel, simulate_store
from ml.weather import RainModel, sample_rain
from siteledger.site.loader import parse_model_text, read_config_text

QUANTILES = (10, 50, 90)


class Scenario(BaseModel):
    """One what-if: multipliers and additions on the store balances' drivers.

    - ``rain_factor``: multiplies every day's rain depth (1.2 = +20 %, 0.5 = a dry year);
    - ``evaporation_factor``: multiplies the stores' evaporation (0.9 = -10 %);
    - ``pump_m3_per_day``: per store, a net flow added every day (m3/day; positive into the
      store, negative out of it): a pump rate change, a new transfer, a lost supply;
    - ``replay_year``: rain is that calendar year's recorded rain on the same dates, on every
      path (needs the rain history; ``rain_factor`` still applies);
    - ``horizon_days``: overrides the projection's horizon;
    - ``sites``: the sites it applies to (every site when unset).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", max_length=100)
    name: str
    description: str = ""
    rain_factor: float = Field(1.0, ge=0, le=10)
    evaporation_factor: float = Field(1.0, ge=0, le=10)
    pump_m3_per_day: dict[str, float] = Field(default_factory=dict)
    replay_year: int | None = Field(None, ge=1800, le=2200)
    horizon_days: int | None = Field(None, ge=1, le=3660)
    sites: list[str] | None = Field(None, min_length=1)

    @field_validator("pump_m3_per_day")
    @classmethod
    def _finite(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if not np.isfinite(v)]
        if bad:
            raise ValueError(f"rates must be finite numbers (not {bad})")
        return value

    @property
    def is_base(self) -> bool:
        return (
            self.rain_factor == 1.0
            and self.evaporation_factor == 1.0
            and not any(self.pump_m3_per_day.values())
            and self.replay_year is None
        )


BASE = Scenario(id="base", name="Base case", description="no change")


class ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenarios: list[Scenario] = Field(min_length=1)


def _duplicate_ids(cfg: ScenarioFile) -> list[tuple[str, str]]:
    seen: dict[str, int] = {}
    problems = []
    for i, s in enumerate(cfg.scenarios):
        if s.id in seen:
            problems.append((f"scenarios[{i}].id", f"duplicate id {s.id!r} (also #{seen[s.id]})"))
        seen.setdefault(s.id, i)
    return problems


def load_scenarios(path_or_text: str | Path) -> list[Scenario]:
    """Scenarios from a YAML file (a :class:`~pathlib.Path`, or a one-line string naming an
    existing file) or YAML text; raises :class:`siteledger.site.loader.SiteConfigError` (a
    ``ValueError``) whose lines read ``file:line: key: reason``."""
    if isinstance(path_or_text, Path) or (
        "\n" not in path_or_text and path_or_text.strip() and Path(path_or_text).is_file()
    ):
        text, name = read_config_text(path_or_text), str(path_or_text)
    else:
        text, name = str(path_or_text), "<string>"
    return parse_model_text(text, ScenarioFile, name, _duplicate_ids).scenarios


def _replayed_rain(history: pd.Series, year: int, start: date, days: int) -> np.ndarray:
    """The recorded rain of ``year`` on the calendar dates of the horizon (29 February of a
    year without one takes 28 February's); NaN where the record has none."""
    daily = pd.Series(np.asarray(history, dtype="float64"), index=pd.to_datetime(history.index))
    daily = daily.groupby(daily.index.normalize()).sum(min_count=1)
    out = np.full(days, np.nan)
    for d in range(days):
        day = start + timedelta(days=d)
        y = year + (day.year - start.year)
        dd = 28 if day.month == 2 and day.day == 29 and not calendar.isleap(y) else day.day
        value = daily.get(pd.Timestamp(y, day.month, dd))
        if value is not None and np.isfinite(value):
            out[d] = float(value)
    return out


def project(
    scenario: Scenario,
    store_models: Sequence[StoreModel],
    start_volumes: Mapping[str, float],
    rain_model: RainModel,
    as_of: date,
    horizon_days: int = 90,
    n_paths: int = 2000,
    seed: int = 0,
    *,
    rain_history: pd.Series | None = None,
    wet_today: bool | None = None,
) -> pd.DataFrame:
    """Per store and day (step 0 = the end of ``as_of``, the known start): p10/p50/p90 volume
    and fill %, and the probabilities that the store has been above 80 % / at 100 % (spilling)
    / below 20 % at some point by that day. A store without a usable model or start volume
    gets one row per day with NaN and its status."""
    days = scenario.horizon_days or horizon_days
    if days < 1 or n_paths < 1:
        raise ValueError("horizon_days and n_paths must be at least 1")
    ids = {m.node_id for m in store_models}
    unknown = sorted(set(scenario.pump_m3_per_day) - ids)
    if unknown:
        raise ValueError(f"scenario {scenario.id!r}: pump_m3_per_day names no store {unknown}")
    start = as_of + timedelta(days=1)
    rng = np.random.default_rng(seed)
    if scenario.replay_year is not None:
        if rain_history is None:
            raise ValueError(f"scenario {scenario.id!r} replays {scenario.replay_year}: no rain")
        replay = _replayed_rain(rain_history, scenario.replay_year, start, days)
        missing = int(np.isnan(replay).sum())
        if missing:
            raise ValueError(
                f"scenario {scenario.id!r}: the rain record lacks {missing} of the {days} days"
                f" of {scenario.replay_year} it replays"
            )
        rain = np.broadcast_to(replay, (n_paths, days))
    else:
        rain = sample_rain(rain_model, start, days, n_paths, rng, wet_today)
    rain = rain * scenario.rain_factor
    store_rngs = np.random.SeedSequence(seed).spawn(len(store_models))
    frames = []
    for model, seq in zip(store_models, store_rngs, strict=True):
        frames.append(
            _project_store(
                scenario, model, start_volumes.get(model.node_id), start, days, rain, seq
            )
        )
    return pd.concat(frames, ignore_index=True)


def _project_store(
    scenario: Scenario,
    model: StoreModel,
    v0: float | None,
    start: date,
    days: int,
    rain: np.ndarray,
    seq: np.random.SeedSequence,
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "scenario_id": scenario.id,
            "scenario_name": scenario.name,
            "node_id": model.node_id,
            "day": [start - timedelta(days=1) + timedelta(days=d) for d in range(days + 1)],
            "step": np.arange(days + 1),
        }
    )
    status, reason = model.status, model.reason
    if status == "ok" and (v0 is None or not np.isfinite(v0)):
        status, reason = "no_start_volume", "no finite start volume"
    cols = [f"p{q}_m3" for q in QUANTILES] + [f"p{q}_fill_pct" for q in QUANTILES]
    cols += ["p_above_80", "p_above_100", "p_below_20"]
    if status != "ok":
        for c in cols:
            frame[c] = np.nan
        frame["status"], frame["reason"] = status, reason
        return frame
    scaled = model
    if scenario.evaporation_factor != 1.0:
        scaled = replace(
            model,
            evaporation_m3_by_month=tuple(
                e * scenario.evaporation_factor for e in model.evaporation_m3_by_month
            ),
        )
    paths = simulate_store(
        scaled,
        float(v0),  # type: ignore[arg-type]
        start,
        days,
        rain,
        np.random.default_rng(seq),
        extra_net_m3_per_day=scenario.pump_m3_per_day.get(model.node_id, 0.0),
    )
    cap = model.capacity_m3
    for q, values in zip(QUANTILES, np.percentile(paths, QUANTILES, axis=0), strict=True):
        frame[f"p{q}_m3"] = values
        frame[f"p{q}_fill_pct"] = values / cap * 100
    run_max = np.maximum.accumulate(paths[:, 1:], axis=1)
    run_min = np.minimum.accumulate(paths[:, 1:], axis=1)
    frame["p_above_80"] = np.r_[np.nan, (run_max >= 0.8 * cap).mean(axis=0)]
    frame["p_above_100"] = np.r_[np.nan, (run_max >= cap * (1 - 1e-12)).mean(axis=0)]
    frame["p_below_20"] = np.r_[np.nan, (run_min <= 0.2 * cap).mean(axis=0)]
    frame["status"], frame["reason"] = "ok", reason
    return frame


def project_all(
    scenarios: Sequence[Scenario],
    store_models: Sequence[StoreModel],
    start_volumes: Mapping[str, float],
    rain_model: RainModel,
    as_of: date,
    horizon_days: int = 90,
    n_paths: int = 2000,
    seed: int = 0,
    *,
    include_base: bool = True,
    rain_history: pd.Series | None = None,
    wet_today: bool | None = None,
) -> pd.DataFrame:
    """The base case (unless a given scenario already changes nothing) and every scenario, side
    by side, on the same random numbers."""
    runs = list(scenarios)
    if include_base and not any(s.is_base for s in runs):
        runs.insert(0, BASE)
    return pd.concat(
        [
            project(
                s,
                store_models,
                start_volumes,
                rain_model,
                as_of,
                horizon_days,
                n_paths,
                seed,
                rain_history=rain_history,
                wet_today=wet_today,
            )
            for s in runs
        ],
        ignore_index=True,
    )
