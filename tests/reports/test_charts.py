"""The inline SVG charts: what a reader sees is what the figures say."""

from __future__ import annotations

import re

from reports.charts import sankey


def _flow(flow_id, source, target, volume, direction="internal", s_kind="store", t_kind="store"):
    return {
        "flow_id": flow_id,
        "name": flow_id,
        "source": source,
        "target": target,
        "source_name": source.replace("_", " ").title(),
        "target_name": target.replace("_", " ").title(),
        "source_kind": s_kind,
        "target_kind": t_kind,
        "volume": volume,
        "direction": direction,
    }


def test_a_loop_is_one_labelled_dashed_line_and_forward_flows_are_bands():
    flows = [
        _flow("river_to_dam", "river", "dam", 1000.0, "input", s_kind="source"),
        _flow("dam_to_plant", "dam", "plant", 5000.0, t_kind="task"),
        _flow("plant_to_tsf", "plant", "tsf", 4800.0, s_kind="task"),  # a task back to a store
        _flow("tsf_to_dam", "tsf", "dam", 4000.0),
        _flow("tsf_to_evap", "tsf", "evaporation", 800.0, "output", t_kind="destination"),
        _flow("idle", "dam", "evaporation", 0.0, "output", t_kind="destination"),
    ]
    svg = str(sankey(flows, unit="m3"))
    dashed = re.findall(
        r'<path class="recirculation" d="[^"]+" fill="none"[^>]*stroke-dasharray', svg
    )
    bands = re.findall(r'<path class="band" d="[^"]+" fill="#', svg)
    assert len(dashed) == 1
    assert len(bands) == 4  # the four forward flows with a volume; the idle one is not drawn
    assert "plant_to_tsf (Plant → Tsf): 4,800 m³, recirculated" in svg
    # node labels carry the larger of each node's inflow and outflow: the dam takes 5 000
    assert re.search(r">Dam</tspan><tspan[^>]*>5,000<", svg)
