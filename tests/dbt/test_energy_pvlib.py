"""The SQL PV model (macros/energy.sql) equals pvlib 0.16.1 to 1e-9 kW.

The macro is rendered with Jinja (it calls nothing but its sibling macros) and evaluated by
DuckDB on a grid of plane-of-array irradiance, air temperature and wind speed that includes
night (0 W/m2), a cell so hot that DC power is tiny, and inverter clipping; pvlib computes the
same chain: temperature.faiman -> pvsystem.pvwatts_dc (first argument positional) ->
pvsystem losses factor -> inverter.pvwatts with pdc0 = inverter_kw / eta_inv_nom.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pytest
from pvlib import inverter, pvsystem, temperature

MACROS = Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "energy.sql"

# a 100 kWp array on an 80 kW inverter (clips above ~960 W/m2 on a cool day), -0.4 %/degC,
# pvwatts' default 14.08 % losses, a 96 % inverter
KWP, INVERTER_KW, GAMMA, LOSSES_PCT, ETA = 100.0, 80.0, -0.004, 14.08, 0.96
POA = (0.0, 0.5, 1.0, 25.0, 50.0, 200.0, 400.0, 600.0, 800.0, 950.0, 1000.0, 1100.0, 1300.0)
TEMP = (-10.0, 0.0, 15.0, 25.0, 35.0, 48.0)
WIND = (0.0, 1.0, 3.5, 12.0)


def _sql_expression() -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    template = env.from_string(
        MACROS.read_text()
        + "{{ pv_expected_ac_kw('poa', 'temp_air', 'wind', 'kwp', 'gamma', 'losses_pct',"
        " 'inverter_kw', 'eta') }}"
    )
    return template.render()


def _pvlib_ac_kw(poa: np.ndarray, temp_air: np.ndarray, wind: np.ndarray) -> np.ndarray:
    cell = temperature.faiman(poa, temp_air, wind)
    pdc = pvsystem.pvwatts_dc(poa, cell, KWP, GAMMA)
    pdc = pdc * (1 - LOSSES_PCT / 100)
    return inverter.pvwatts(pdc, INVERTER_KW / ETA, eta_inv_nom=ETA)


def test_losses_default_is_the_pvwatts_default() -> None:
    assert pvsystem.pvwatts_losses() == pytest.approx(LOSSES_PCT, abs=0.005)


def test_sql_expected_ac_equals_pvlib_on_a_grid() -> None:
    grid = np.array(list(itertools.product(POA, TEMP, WIND)))
    poa, temp_air, wind = grid[:, 0], grid[:, 1], grid[:, 2]
    expected = _pvlib_ac_kw(poa, temp_air, wind)
    with duckdb.connect() as con:
        con.execute(
            "create table inputs (i integer, poa double, temp_air double, wind double,"
            " kwp double, gamma double, losses_pct double, inverter_kw double, eta double)"
        )
        con.executemany(
            "insert into inputs values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (i, p, t, w, KWP, GAMMA, LOSSES_PCT, INVERTER_KW, ETA)
                for i, (p, t, w) in enumerate(grid.tolist())
            ],
        )
        rows = con.execute(f"select i, {_sql_expression()} from inputs order by i").fetchall()
    got = np.array([row[1] for row in rows])
    assert len(got) == len(POA) * len(TEMP) * len(WIND)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    # the grid reaches every branch: night, clipping at the inverter rating, and in between
    assert (expected == 0).sum() >= len(TEMP) * len(WIND)
    assert (np.isclose(expected, INVERTER_KW, rtol=0, atol=1e-9)).sum() > 0
    assert ((expected > 0) & (expected < INVERTER_KW - 1e-6)).sum() > 100


def test_one_point_by_hand() -> None:
    # POA 800 W/m2, 20 degC, 2 m/s: T_cell = 20 + 800 / (25 + 6.84 x 2) = 20 + 800 / 38.68
    # = 40.682523 degC; pdc = 0.8 x 100 x (1 - 0.004 x 15.682523) = 74.981592 kW; after losses
    # x 0.8592 = 64.424184 kW; zeta = 64.424184 / 83.333333 = 0.773090; eta = 0.96 / 0.9637 x
    # (-0.0162 x 0.773090 - 0.0059 / 0.773090 + 0.9858) = 0.961937; AC = 61.971991 kW
    cell = 20 + 800 / 38.68
    pdc = 0.8 * 100 * (1 - 0.004 * (cell - 25)) * 0.8592
    zeta = pdc / (80 / 0.96)
    ac = 0.96 / 0.9637 * (-0.0162 * zeta - 0.0059 / zeta + 0.9858) * pdc
    assert ac == pytest.approx(61.971991, abs=1e-6)
    with duckdb.connect() as con:
        sql = _sql_expression()
        [(got,)] = con.execute(
            f"select {sql} from (select 800.0 as poa, 20.0 as temp_air, 2.0 as wind,"
            f" {KWP} as kwp, {GAMMA} as gamma, {LOSSES_PCT} as losses_pct,"
            f" {INVERTER_KW} as inverter_kw, {ETA} as eta)"
        ).fetchall()
    assert got == pytest.approx(ac, abs=1e-9)
