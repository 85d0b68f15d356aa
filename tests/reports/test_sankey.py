"""The Sankey diagram: laid out as a regulator reads a site, every label whole, the main feed
forward, fewer crossings than the earlier layout, and an interactive page beside the PDF."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from reports.data import flow_display_name
from reports.render.worker import SANKEY_ARTIFACT, RenderJob, render_job
from reports.sankey import KIND_GROUP, layout, sankey_html, sankey_svg
from tests.reports.sample import sample_header, sample_payload

# the demo mine's flows over FY2026-Q1 (2025-07-01 .. 2025-09-30) as the published marts give
# them (``fct_flow_sankey`` summed over the quarter)
Q1 = Path(__file__).parent / "data" / "demo_mine_fy2026_q1_flows.json"

# the layout the diagram had before (columns by hop distance from the sources, nodes by size):
# it drew the plant feed as a "(return)" loop
OLD_ORDER = {
    0: ["rain", "pit_groundwater", "ore", "third_party_supply"],
    1: ["plant", "pit_sump"],
    2: ["tsf", "raw_water_dam"],
    3: ["return_water_dam", "dust_suppression"],
    4: ["process_water_dam"],
    5: ["entrainment", "evaporation", "discharge", "seepage", "product"],
}


def q1_flows() -> list[dict[str, Any]]:
    flows = json.loads(Q1.read_text())
    for f in flows:
        f["name"] = flow_display_name(f)
    return flows


def test_columns_run_sources_stores_tasks_destinations():
    lay = layout(q1_flows())
    assert lay is not None
    nodes = list(lay.nodes.values())
    for a in nodes:
        for b in nodes:
            if KIND_GROUP[a.kind] < KIND_GROUP[b.kind]:
                assert a.column < b.column, (a.id, b.id)
    # stores in flow order: pit sump before the raw water dam before the process water dam
    col = lay.column_of
    assert col("pit_sump") < col("raw_water_dam") < col("process_water_dam") < col("plant")
    assert col("tsf") < col("return_water_dam") < col("process_water_dam")


def test_the_main_plant_feed_runs_forward_and_only_the_genuine_loop_is_recirculation():
    lay = layout(q1_flows())
    assert lay is not None
    recirculated = {k.flow["flow_id"] for k in lay.links if k.recirculation}
    # the concentrator's tailings water goes back to the tailings dam: the loop of the circuit
    assert recirculated == {"plant_to_tsf"}
    feed = next(k for k in lay.links if k.flow["flow_id"] == "pwd_to_plant")
    assert not feed.recirculation and feed.x1 > feed.x0
    assert feed.volume == pytest.approx(1_590_690, rel=1e-3)
    svg = sankey_svg(q1_flows())
    assert "(return)" not in svg
    assert "Plant process water feed (Process water dam → Concentrator): 1,590,690 m³<" in svg


def test_in_a_cycle_of_stores_the_smallest_flow_is_the_recirculation():
    def flow(fid: str, s: str, t: str, v: float, sk: str = "store", tk: str = "store"):
        return {
            "flow_id": fid, "name": fid, "source": s, "target": t, "source_name": s,
            "target_name": t, "source_kind": sk, "target_kind": tk, "volume": v,
            "direction": "internal",
        }  # fmt: skip

    flows = [
        flow("in", "river", "a", 10.0, sk="source"),
        flow("a_b", "a", "b", 100.0),
        flow("b_c", "b", "c", 90.0),
        flow("c_a", "c", "a", 5.0),
        flow("c_out", "c", "sea", 15.0, tk="destination"),
    ]
    lay = layout(flows)
    assert lay is not None
    assert {k.flow["flow_id"] for k in lay.links if k.recirculation} == {"c_a"}
    assert lay.column_of("a") < lay.column_of("b") < lay.column_of("c")


def test_fewer_band_crossings_than_the_earlier_layout():
    flows = q1_flows()
    old_columns = {n: c for c, nodes in OLD_ORDER.items() for n in nodes}
    old = layout(flows, columns=old_columns, order=OLD_ORDER)
    new = layout(flows)
    assert old is not None and new is not None
    assert new.crossings() < old.crossings()
    assert new.crossings() <= old.crossings() // 2  # measured: 13 against 39


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels: dict[str, list[str]] = {}
        self._label: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "text" and dict(attrs).get("data-label"):
            self._label = dict(attrs)["data-label"]
            self.labels[self._label] = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "text":
            self._label = None

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self.labels[self._label].append(data)


def test_every_label_is_whole_and_clear_of_every_other_label_and_node():
    flows = q1_flows()
    lay = layout(flows)
    assert lay is not None
    parser = _Text()
    parser.feed(sankey_svg(flows, interactive=True))
    for node in lay.nodes.values():
        lines = parser.labels[node.id]
        assert " ".join(lines[:-1]) == node.name  # the name in full, wrapped at spaces
        assert "…" not in "".join(lines)
    boxes = {n.id: n.label_box for n in lay.nodes.values()}

    def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
        return (
            a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]
        )

    ids = sorted(boxes)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            assert not overlap(boxes[a], boxes[b]), (a, b)
        for n in lay.nodes.values():
            assert not overlap(boxes[a], (n.x, n.y, 8.0, n.height)), (a, n.id)
    # labels are drawn after (on top of) every band, on a backing
    svg = sankey_svg(flows)
    assert svg.rindex('class="band"') < svg.index('class="label-bg"')


def test_the_interactive_page_is_self_contained_and_has_every_node_and_flow():
    flows = q1_flows()
    page = sankey_html(flows, "m3", "Quarterly discharge report: site water flows")
    assert not re.search(r"https?:|//[a-z]|src=|href=|@import", page, re.I)
    lay = layout(flows)
    assert lay is not None
    for node in lay.nodes.values():
        assert f'data-node="{node.id}"' in page
    drawn = [f for f in flows if f["volume"]]
    for f in drawn:
        assert f'data-flow="{f["flow_id"]}"' in page
    # every flow, with or without a volume, in the table
    assert page.count("<tr><td>") == len(flows)
    assert "<script>" in page and "mousemove" in page


def test_the_sankey_page_is_a_report_artifact_beside_the_pdf(tmp_path: Path):
    payload = sample_payload("annual_water_report")
    header = sample_header("annual_water_report")
    job = RenderJob(payload, header, ["pdf", "xlsx"], str(tmp_path), "annual")
    result = render_job(job)
    assert result.errors == []
    art = result.artifacts[SANKEY_ARTIFACT]
    path = Path(art["path"])
    assert path.parent == Path(result.artifacts["pdf"]["path"]).parent
    page = path.read_text(encoding="utf-8")
    for f in payload["flows"]:
        if f["volume"]:
            assert f'data-flow="{f["flow_id"]}"' in page
    assert not re.search(r"https?:", page)
