"""The balances of ``fixtures/hand_site.yaml`` over the readings of ``hand_lake``, by hand.

Dam: curve (0 m, 0) (2, 30 000) (4, 70 000) (5, 100 000), 20 000 m2 surface; between 2 and 4 m
a metre holds 20 000 m3. Days D1-D3 are 2025-07-01 to -03 (a 31-day month).
"""

from __future__ import annotations

import datetime as dt

from tests.dbt.hand_lake import D1, D2, D3

# Storage at the midnights starting D1..D4: 30 000 + (level - 2) x 20 000.
#   3.0 m -> 50 000; 2.988 m -> 49 760; 3.0234 m (D3 00:00 missing: 3.0224 at 23:45 and 3.0244
#   at 00:15, straight line -> 3.0234) -> 50 468; 3.0421 m -> 50 842.
OPENING_M3 = {D1: 50_000.0, D2: 49_760.0, D3: 50_468.0}
CLOSING_M3 = {D1: 49_760.0, D2: 50_468.0, D3: 50_842.0}

# Seepage = opening x 0.5 % per month / 31 days.
SEEPAGE_M3 = {day: OPENING_M3[day] * 0.005 / 31 for day in (D1, D2, D3)}
# 50 000 x 0.005 / 31 = 8.0645; 49 760 -> 8.0258; 50 468 -> 8.1400

FLOW_M3: dict[tuple[str, dt.date], float] = {
    # FT-100: rate x 24 h; D1 counted once although delivered twice, its 999 m3/h spike replaced
    # by the re-delivered 100; D2 delivered in L/s (33.33 L/s = 120 m3/h).
    ("river_to_dam", D1): 100 * 24,  # 2 400
    ("river_to_dam", D2): 120 * 24,  # 2 880
    ("river_to_dam", D3): 90 * 24,  # 2 160
    # FQ-200: 96 steps a day; D1 wraps from 999 987.5 to 25 (delta 37.5, not -999 962.5); D2
    # delivered in L, converted to m3 before differencing.
    ("bores_to_dam", D1): 96 * 37.5,  # 3 600
    ("bores_to_dam", D2): 96 * 40.0,  # 3 840
    ("bores_to_dam", D3): 96 * 37.5,  # 3 600
    # RG-1: 4 x 2.5 mm = 10 mm on D2 over the dam's 20 000 m2, runoff coefficient 1.
    ("rain_on_dam", D1): 0.0,
    ("rain_on_dam", D2): 10 / 1000 * 20_000,  # 200
    ("rain_on_dam", D3): 0.0,
    # FT-400A / B, one redundancy group: mean of 200 and 210 m3/h x 24 h; B silent on D3.
    ("dam_to_plant", D1): 205 * 24,  # 4 920
    ("dam_to_plant", D2): 205 * 24,  # 4 920
    ("dam_to_plant", D3): 180 * 24,  # 4 320
    # FQ-500, one reading a day: 14 900 - 10 000, 19 700 - 14 900, 24 000 - 19 700.
    ("plant_to_tailings", D1): 4_900.0,
    ("plant_to_tailings", D2): 4_800.0,
    ("plant_to_tailings", D3): 4_300.0,
    # FQ-600: 96 x 12.5; on D2 47 steps to 6 787.5, the replaced meter's first reading 12.5
    # counted from zero, then 48 steps: 587.5 + 12.5 + 600 = 1 200; D3 96 x 10.
    ("dam_to_creek", D1): 1_200.0,
    ("dam_to_creek", D2): 1_200.0,
    ("dam_to_creek", D3): 960.0,
    # EP-1 pan mm / 1000 x 20 000 m2 x 0.7.
    ("dam_evaporation", D1): 8 / 1000 * 20_000 * 0.7,  # 112
    ("dam_evaporation", D2): 6 / 1000 * 20_000 * 0.7,  # 84
    ("dam_evaporation", D3): 7 / 1000 * 20_000 * 0.7,  # 98
    ("dam_seepage", D1): SEEPAGE_M3[D1],
    ("dam_seepage", D2): SEEPAGE_M3[D2],
    ("dam_seepage", D3): SEEPAGE_M3[D3],
}


def _volume(flow_id: str, day: dt.date) -> float:
    return FLOW_M3[(flow_id, day)]


DAYS = (D1, D2, D3)
DAM_INFLOWS = ("river_to_dam", "bores_to_dam", "rain_on_dam")
DAM_OUTFLOWS = ("dam_to_plant", "dam_to_creek", "dam_evaporation", "dam_seepage")

# Dam balance error = inflow - outflow - (closing - opening):
#   D1: 6 000 - (4 920 + 1 200 + 112 + 8.0645) - (-240) = -0.0645
#   D2: 6 920 - (4 920 + 1 200 + 84 + 8.0258) - 708 = -0.0258
#   D3: 5 760 - (4 320 + 960 + 98 + 8.1400) - 374 = -0.1400
DAM_INFLOW_M3 = {day: sum(_volume(f, day) for f in DAM_INFLOWS) for day in DAYS}
DAM_OUTFLOW_M3 = {day: sum(_volume(f, day) for f in DAM_OUTFLOWS) for day in DAYS}
DAM_ERROR_M3 = {
    day: DAM_INFLOW_M3[day] - DAM_OUTFLOW_M3[day] - (CLOSING_M3[day] - OPENING_M3[day])
    for day in DAYS
}
# Plant (a task, no storage): 4 920 - 4 900 = 20; 4 920 - 4 800 = 120; 4 320 - 4 300 = 20.
PLANT_ERROR_M3 = {
    day: _volume("dam_to_plant", day) - _volume("plant_to_tailings", day) for day in DAYS
}

# Site: inputs are the flows out of river, borefield and rain; outputs the flows into creek,
# evaporation, seepage and tailings.
#   D1 inputs 2 400 + 3 600 = 6 000 (surface 2 400, groundwater 3 600)
#   D2 inputs 2 880 + 3 840 + 200 = 6 920 (surface 3 080, groundwater 3 840)
#   D3 inputs 2 160 + 3 600 = 5 760 (surface 2 160, groundwater 3 600)
INPUT_SURFACE_M3 = {day: _volume("river_to_dam", day) + _volume("rain_on_dam", day) for day in DAYS}
INPUT_GROUNDWATER_M3 = {day: _volume("bores_to_dam", day) for day in DAYS}
INPUTS_M3 = {day: INPUT_SURFACE_M3[day] + INPUT_GROUNDWATER_M3[day] for day in DAYS}
#   D1 outputs 4 900 + 1 200 + 112 + 8.0645 = 6 220.0645
#   D2 outputs 4 800 + 1 200 + 84 + 8.0258 = 6 092.0258
#   D3 outputs 4 300 + 960 + 98 + 8.1400 = 5 366.1400
OUTPUTS_M3 = {
    day: sum(
        _volume(f, day)
        for f in ("plant_to_tailings", "dam_to_creek", "dam_evaporation", "dam_seepage")
    )
    for day in DAYS
}
# Closure = inputs - outputs - change in storage = the dam's and the plant's errors together:
#   D1 6 000 - 6 220.0645 + 240 = 19.9355 (0.332 % of inputs, within the site's 1 %)
#   D2 6 920 - 6 092.0258 - 708 = 119.9742 (1.734 %, exceeds 1 %)
#   D3 5 760 - 5 366.1400 - 374 = 19.8600 (0.345 %, within)
CLOSURE_M3 = {
    day: INPUTS_M3[day] - OUTPUTS_M3[day] - (CLOSING_M3[day] - OPENING_M3[day]) for day in DAYS
}
CLOSURE_STATUS = {D1: "within_threshold", D2: "exceeds_threshold", D3: "within_threshold"}
# Accuracy: the only estimated input is D2's rain, 200 / 6 920 = 2.890 %; estimated outputs are
# evaporation and seepage, e.g. D1 (112 + 8.0645) / 6 220.0645 = 1.930 %.
INPUT_ESTIMATED_PCT = {D1: 0.0, D2: 100 * 200 / 6_920, D3: 0.0}
OUTPUT_ESTIMATED_PCT = {
    day: 100 * (_volume("dam_evaporation", day) + _volume("dam_seepage", day)) / OUTPUTS_M3[day]
    for day in DAYS
}
# WT-1: 96 x 10 t = 960 t a day; intensity = inputs / ore: 6.25, 7.2083, 6.0 m3/t.
ORE_T = 960.0
