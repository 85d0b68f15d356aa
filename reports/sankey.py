"""The site's water flows as a Sankey diagram, laid out as a regulator reads a site.

Columns run sources → stores → tasks → destinations. Stores that feed stores (pit sump → raw
water dam → process water dam) and tasks that feed tasks get sub-columns in flow order. A flow
against that order (tailings water from the concentrator back to the tailings dam, return water
to a dam) is recirculation: a dashed line along a lane under the diagram, labelled with its
volume — drawn to scale, a loop as large as the plant feed would cover the forward flows. Where
flows between stores (or between tasks) form a cycle, the smallest flow of the cycle is the one
drawn as recirculation, so the main feed always runs forward.

Within a column the nodes are ordered by barycentre sweeps (each node placed at the
volume-weighted mean position of its neighbours, alternately from the left and the right) and
the order with the fewest band crossings is kept. Every label is written in full: wrapped to the
room beside or above its node, drawn after the bands on a white backing so no band covers it.

:func:`sankey_svg` draws the static chart (inline in the PDF); :func:`sankey_html` wraps the same
drawing in a self-contained HTML page (inline SVG, a few lines of inline script for tooltips and
highlighting, nothing fetched).
"""

from __future__ import annotations

import json
import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

KIND_GROUP = {"source": 0, "store": 1, "task": 2, "destination": 3}
FONT = "font-family:'DejaVu Sans',sans-serif"
FONT_SIZE = 7.0
CHAR_W = 0.62 * FONT_SIZE  # DejaVu Sans: about 0.6 em per character
LINE_H = 8.4
COLOURS = {"input": "#2e86ab", "output": "#e69138", "diversion": "#a64d79"}
INTERNAL = "#8a9bb0"
MAX_LOOP_LABELS = 6


def _t(text: Any) -> str:
    return escape(str(text), {'"': "&quot;"})


def display_unit(unit: str) -> str:
    return "ML" if unit == "ML" else unit.replace("m3", "m³")


def _fmt(volume: float, unit: str) -> str:
    return f"{volume / 1000.0:,.1f}" if unit == "ML" else f"{volume:,.0f}"


@dataclass
class Node:
    id: str
    name: str
    kind: str
    column: int = 0
    x: float = 0.0
    y: float = 0.0
    height: float = 0.0
    value: float = 0.0
    label_lines: list[str] = field(default_factory=list)
    label_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # x, y, width, height
    label_anchor: str = "start"


@dataclass
class Link:
    flow: dict[str, Any]
    source: str
    target: str
    volume: float
    recirculation: bool
    width: float = 0.0
    x0: float = 0.0
    x1: float = 0.0
    y0: float = 0.0  # centre of the band where it leaves its source
    y1: float = 0.0  # centre where it enters its target
    lane: float = 0.0  # recirculation only: the lane's y
    labelled: bool = True  # recirculation only: its label written under its lane


@dataclass
class Layout:
    width: float
    height: float
    nodes: dict[str, Node]
    links: list[Link]
    n_columns: int

    def column_of(self, node_id: str) -> int:
        return self.nodes[node_id].column

    def order(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = defaultdict(list)
        for node in sorted(self.nodes.values(), key=lambda n: (n.column, n.y)):
            out[node.column].append(node.id)
        return dict(out)

    def crossings(self) -> int:
        return count_crossings(self.links)


# -- columns --------------------------------------------------------------------------------------
def _reaches(edges: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in edges[node] - seen:
            seen.add(nxt)
            stack.append(nxt)
    return False


def assign_columns(links: list[dict[str, Any]]) -> tuple[dict[str, int], set[str]]:
    """Column of every node and the flow ids drawn as recirculation.

    Kinds in groups (sources, stores, tasks, destinations); inside the store and the task group,
    flows are taken largest first into an acyclic graph, a flow that would close a cycle is
    recirculation, and a node's sub-column is its longest path inside the group. A flow to an
    earlier group (a task back to a store) is recirculation too."""
    kind: dict[str, str] = {}
    for f in links:
        kind[f["source"]], kind[f["target"]] = f["source_kind"], f["target_kind"]
    group = {n: KIND_GROUP.get(k, 1) for n, k in kind.items()}
    recirculation: set[str] = set()
    inside: dict[str, set[str]] = defaultdict(set)
    for f in sorted(links, key=lambda f: (-f["volume"], f["flow_id"])):
        s, t = f["source"], f["target"]
        if group[t] < group[s] or s == t:
            recirculation.add(f["flow_id"])
        elif group[t] == group[s]:
            if group[s] in (0, 3) or _reaches(inside, t, s):
                recirculation.add(f["flow_id"])
            else:
                inside[s].add(t)
    depth: dict[str, int] = {}

    def longest(node: str) -> int:  # longest path to ``node`` inside its group (acyclic)
        if node not in depth:
            preds = [s for s, ts in inside.items() if node in ts]
            depth[node] = max((longest(p) + 1 for p in preds), default=0)
        return depth[node]

    width = {g: 1 for g in range(4)}
    for node in kind:
        width[group[node]] = max(width[group[node]], longest(node) + 1)
    present = sorted({group[n] for n in kind})
    offset, start = 0, {}
    for g in present:
        start[g] = offset
        offset += width[g]
    return {n: start[group[n]] + depth[n] for n in kind}, recirculation


# -- geometry -------------------------------------------------------------------------------------
def _wrap(text: str, chars: int) -> list[str]:
    # whole words; a word longer than the line is broken only where it must be
    return textwrap.wrap(text, max(chars, 6), break_on_hyphens=False) or [""]


def layout(
    flows: list[dict[str, Any]],
    unit: str = "m3",
    *,
    columns: dict[str, int] | None = None,
    order: dict[int, list[str]] | None = None,
    width: float = 720.0,
) -> Layout | None:
    """The diagram's geometry; ``columns`` and ``order`` override the layout's own (to measure
    another layout). None when no flow has a volume."""
    flows_ = [f for f in flows if f.get("volume") and f["volume"] > 0]
    if not flows_:
        return None
    cols, recirculation = assign_columns(flows_)
    if columns is not None:
        cols = dict(columns)
        recirculation = {f["flow_id"] for f in flows_ if cols[f["target"]] <= cols[f["source"]]}
    n_cols = max(cols.values()) + 1
    nodes: dict[str, Node] = {}
    inflow: dict[str, float] = defaultdict(float)
    outflow: dict[str, float] = defaultdict(float)
    for f in flows_:
        for end in ("source", "target"):
            nid = f[end]
            nodes.setdefault(nid, Node(nid, str(f[f"{end}_name"] or nid), f[f"{end}_kind"]))
        outflow[f["source"]] += f["volume"]
        inflow[f["target"]] += f["volume"]
    for node in nodes.values():
        node.column = cols[node.id]
        node.value = max(inflow[node.id], outflow[node.id])
    links = [
        Link(f, f["source"], f["target"], float(f["volume"]), f["flow_id"] in recirculation)
        for f in flows_
    ]
    margin_left, margin_right, node_w, pad_top = 128.0, 128.0, 8.0, 8.0
    span = width - margin_left - margin_right - node_w
    col_gap = span / max(n_cols - 1, 1)
    for node in nodes.values():
        node.x = margin_left + col_gap * node.column
        value = _fmt(node.value, unit)
        if node.column == 0:
            room = margin_left - 6
            node.label_anchor = "end"
        elif node.column == n_cols - 1:
            room = margin_right - 6
        else:  # above the node, in the room up to the next column
            room = col_gap - 6
        node.label_lines = [*_wrap(node.name, int(room / CHAR_W)), value]
    by_col: dict[int, list[str]] = defaultdict(list)
    for node in nodes.values():
        by_col[node.column].append(node.id)
    if order is None:
        order = _best_order(nodes, links, by_col, unit, n_cols, width)
    _place(nodes, links, order, n_cols, pad_top, node_w)
    lane = max(n.y + n.height for n in nodes.values())
    lane = max(lane, max(n.label_box[1] + n.label_box[3] for n in nodes.values())) + 10
    loops = sorted((k for k in links if k.recirculation), key=lambda k: -k.volume)
    for i, link in enumerate(loops):
        link.lane = lane + 4
        # the line and its label under it (clear of the line's vertical legs); past the
        # largest few, lines only (their text is in the tooltip and the interactive page)
        link.labelled = i < MAX_LOOP_LABELS
        lane += 16.0 if link.labelled else 4.0
    if len(loops) > MAX_LOOP_LABELS:
        lane += 12.0  # a line saying how many more there are
    return Layout(width, lane + 6, nodes, links, n_cols)


def _label_height(node: Node) -> float:
    return len(node.label_lines) * LINE_H + 2


def column_height_fixed(nodes: dict[str, Node], ids: list[str], gap: float) -> float:
    """The height a column's labels and gaps take whatever the scale."""
    return sum(_label_height(nodes[nid]) + gap for nid in ids)


def _place(
    nodes: dict[str, Node],
    links: list[Link],
    order: dict[int, list[str]],
    n_cols: int,
    pad_top: float,
    node_w: float,
) -> None:
    gap = 6.0
    # room for the bands beside what the labels and gaps of the fullest column take
    fixed = max(column_height_fixed(nodes, ids, gap) for ids in order.values())
    plot_h = max(330.0, 1.6 * fixed)

    def column_height(ids: list[str], scale: float) -> float:
        total = 0.0
        for nid in ids:
            node = nodes[nid]
            h = max(node.value * scale, 1.5)
            if node.column in (0, n_cols - 1):  # label beside: the slot holds the taller
                total += max(h, _label_height(node)) + gap
            else:  # label above
                total += _label_height(node) + h + gap
        return total

    # the largest scale at which every column fits the plot height (bisection)
    lo, hi = 0.0, plot_h / max(max(n.value for n in nodes.values()), 1e-9)
    for _ in range(40):
        mid = (lo + hi) / 2
        if max(column_height(ids, mid) for ids in order.values()) <= plot_h:
            lo = mid
        else:
            hi = mid
    scale = lo
    for ids in order.values():
        y = pad_top
        for nid in ids:
            node = nodes[nid]
            node.height = max(node.value * scale, 1.5)
            lh = _label_height(node)
            text_w = max(len(line) for line in node.label_lines) * CHAR_W + 4
            if node.column == 0:
                slot = max(node.height, lh)
                node.y = y + (slot - node.height) / 2
                node.label_box = (node.x - 3 - text_w, y + (slot - lh) / 2, text_w, lh)
                y += slot + gap
            elif node.column == n_cols - 1:
                slot = max(node.height, lh)
                node.y = y + (slot - node.height) / 2
                node.label_box = (node.x + node_w + 3, y + (slot - lh) / 2, text_w, lh)
                y += slot + gap
            else:
                node.label_box = (node.x - 1, y, text_w, lh)
                node.y = y + lh
                y += lh + node.height + gap
    # ports: bands leave a node in the order of their targets' heights (and enter in the order
    # of their sources'), so no two bands of one node cross at the node
    centre = {nid: n.y + n.height / 2 for nid, n in nodes.items()}
    total_scale = scale
    out_off: dict[str, float] = defaultdict(float)
    in_off: dict[str, float] = defaultdict(float)
    for link in links:
        link.width = max(link.volume * total_scale, 0.6)
    for link in sorted(links, key=lambda k: (k.recirculation, centre[k.target], k.flow["flow_id"])):
        s = nodes[link.source]
        link.x0 = s.x + node_w
        link.y0 = s.y + out_off[link.source] + link.width / 2
        out_off[link.source] += link.width
    for link in sorted(links, key=lambda k: (k.recirculation, centre[k.source], k.flow["flow_id"])):
        t = nodes[link.target]
        link.x1 = t.x
        link.y1 = t.y + in_off[link.target] + link.width / 2
        in_off[link.target] += link.width


def _best_order(
    nodes: dict[str, Node],
    links: list[Link],
    by_col: dict[int, list[str]],
    unit: str,
    n_cols: int,
    width: float,
) -> dict[int, list[str]]:
    """Barycentre sweeps from an order by size; the order with the fewest crossings wins."""
    order = {c: sorted(ids, key=lambda n: (-nodes[n].value, n)) for c, ids in by_col.items()}
    forward = [k for k in links if not k.recirculation]

    def crossings_of(candidate: dict[int, list[str]]) -> int:
        _place(nodes, links, candidate, n_cols, 8.0, 8.0)
        return count_crossings(links)

    best, best_n = {c: list(v) for c, v in order.items()}, crossings_of(order)
    for sweep in range(8):
        left_to_right = sweep % 2 == 0
        cols = sorted(order) if left_to_right else sorted(order, reverse=True)
        for c in cols:
            pos = {n: i / max(len(ids) - 1, 1) for ids in order.values() for i, n in enumerate(ids)}
            weight: dict[str, float] = defaultdict(float)
            total: dict[str, float] = defaultdict(float)
            for k in forward:
                for me, other in ((k.source, k.target), (k.target, k.source)):
                    oc = nodes[other].column
                    if nodes[me].column == c and ((oc < c) if left_to_right else (oc > c)):
                        weight[me] += k.volume
                        total[me] += k.volume * pos[other]
            current = {n: i for i, n in enumerate(order[c])}
            order[c] = sorted(
                order[c],
                key=lambda n: (
                    total[n] / weight[n] if weight[n] else current[n] / max(len(order[c]) - 1, 1),
                    current[n],
                ),
            )
        n = crossings_of(order)
        if n < best_n:
            best, best_n = {c: list(v) for c, v in order.items()}, n
    # a last pass of adjacent swaps inside each column, kept when they remove crossings
    improved, passes = True, 0
    while improved and passes < 4:
        improved, passes = False, passes + 1
        for c in sorted(best):
            for i in range(len(best[c]) - 1):
                trial = {k: list(v) for k, v in best.items()}
                trial[c][i], trial[c][i + 1] = trial[c][i + 1], trial[c][i]
                n = crossings_of(trial)
                if n < best_n:
                    best, best_n, improved = trial, n, True
    return best


def _y_at(link: Link, x: float) -> float:
    """The band centre's height at ``x``, the band taken as straight between its ends (two
    bands between the same columns cross exactly when their order swaps, whatever the curve)."""
    share = (x - link.x0) / (link.x1 - link.x0)
    return link.y0 + (link.y1 - link.y0) * share


def count_crossings(links: list[Link]) -> int:
    """Pairs of forward bands whose centre lines cross (recirculation runs under the diagram)."""
    forward = [k for k in links if not k.recirculation and k.x1 > k.x0]
    n = 0
    for i, a in enumerate(forward):
        for b in forward[i + 1 :]:
            left, right = max(a.x0, b.x0), min(a.x1, b.x1)
            if right - left < 1e-6:
                continue
            d0 = _y_at(a, left) - _y_at(b, left)
            d1 = _y_at(a, right) - _y_at(b, right)
            if d0 * d1 < -1e-9 and abs(d0) > 1e-6 and abs(d1) > 1e-6:
                n += 1
    return n


# -- drawing --------------------------------------------------------------------------------------
def _band_path(k: Link) -> str:
    xm = (k.x0 + k.x1) / 2
    top0, top1, w = k.y0 - k.width / 2, k.y1 - k.width / 2, k.width
    return (
        f"M{k.x0:.1f},{top0:.1f} C{xm:.1f},{top0:.1f} {xm:.1f},{top1:.1f} {k.x1:.1f},{top1:.1f} "
        f"L{k.x1:.1f},{top1 + w:.1f} C{xm:.1f},{top1 + w:.1f} {xm:.1f},{top0 + w:.1f} "
        f"{k.x0:.1f},{top0 + w:.1f} Z"
    )


def _loop_path(k: Link) -> str:
    r, x0, x1, y0, y1, yl = 4.0, k.x0, k.x1, k.y0, k.y1, k.lane
    return (
        f"M{x0:.1f},{y0:.1f} L{x0 + r:.1f},{y0:.1f} Q{x0 + 2 * r:.1f},{y0:.1f} "
        f"{x0 + 2 * r:.1f},{y0 + r:.1f} L{x0 + 2 * r:.1f},{yl - r:.1f} "
        f"Q{x0 + 2 * r:.1f},{yl:.1f} {x0 + r:.1f},{yl:.1f} L{x1 - r:.1f},{yl:.1f} "
        f"Q{x1 - 2 * r:.1f},{yl:.1f} {x1 - 2 * r:.1f},{yl - r:.1f} "
        f"L{x1 - 2 * r:.1f},{y1 + r:.1f} Q{x1 - 2 * r:.1f},{y1:.1f} {x1 - r:.1f},{y1:.1f} "
        f"L{x1 - 0.5:.1f},{y1:.1f}"
    )


def link_text(k: Link, unit: str) -> str:
    f = k.flow
    text = (
        f"{f['name']} ({f['source_name']} → {f['target_name']}): "
        f"{_fmt(k.volume, unit)} {display_unit(unit)}"
    )
    return text + (", recirculated" if k.recirculation else "")


def sankey_svg(flows: list[dict[str, Any]], unit: str = "m3", *, interactive: bool = False) -> str:
    """The diagram as an SVG element (empty string when no flow has a volume)."""
    lay = layout(flows, unit)
    if lay is None:
        return ""
    # inline in HTML the namespace is implied: the page then names no URL at all
    xmlns = "" if interactive else ' xmlns="http://www.w3.org/2000/svg"'
    parts = [
        f'<svg{xmlns} class="sankey" width="{lay.width:.0f}" '
        f'height="{lay.height:.0f}" viewBox="0 0 {lay.width:.0f} {lay.height:.0f}" '
        f'style="{FONT};font-size:{FONT_SIZE:g}px">',
        '<defs><marker id="sankey-arrow" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="5" '
        'markerHeight="5" orient="auto"><path d="M0,0 L6,3 L0,6 Z" fill="#5d6d82"/></marker>'
        "</defs>",
    ]
    ordered = sorted(lay.links, key=lambda k: (k.recirculation, -k.volume, k.flow["flow_id"]))
    for k in ordered:
        f = k.flow
        data = (
            f' data-flow="{_t(f["flow_id"])}" data-source="{_t(k.source)}" '
            f'data-target="{_t(k.target)}" data-text="{_t(link_text(k, unit))}"'
            if interactive
            else ""
        )
        title = f"<title>{_t(link_text(k, unit))}</title>"
        if not k.recirculation:
            colour = COLOURS.get(f["direction"], INTERNAL)
            parts.append(
                f'<path class="band" d="{_band_path(k)}" fill="{colour}" fill-opacity="0.45"'
                f"{data}>{title}</path>"
            )
        else:
            parts.append(
                f'<path class="recirculation" d="{_loop_path(k)}" fill="none" stroke="#5d6d82" '
                f'stroke-width="1.1" stroke-dasharray="3,2" marker-end="url(#sankey-arrow)"'
                f"{data}>{title}</path>"
            )
            if not k.labelled:
                continue
            label = (
                f"{f['name']} ({f['source_name']} → {f['target_name']}): "
                f"{_fmt(k.volume, unit)} {display_unit(unit)}, recirculated"
            )
            parts.append(
                f'<text class="loop-label" x="{(k.x0 + k.x1) / 2:.1f}" y="{k.lane + 8:.1f}" '
                f'text-anchor="middle" fill="#3d4b5c">{_t(label)}</text>'
            )
    unlabelled = [k for k in lay.links if k.recirculation and not k.labelled]
    if unlabelled:
        total = _fmt(sum(k.volume for k in unlabelled), unit)
        parts.append(
            f'<text class="loop-label" x="{lay.width / 2:.1f}" y="{lay.height - 8:.1f}" '
            f'text-anchor="middle" fill="#3d4b5c">and {len(unlabelled)} smaller recirculated '
            f"flows, {total} {_t(display_unit(unit))} in all</text>"
        )
    for node in lay.nodes.values():
        data = f' data-node="{_t(node.id)}"' if interactive else ""
        parts.append(
            f'<rect class="node" x="{node.x:.1f}" y="{node.y:.1f}" width="8" '
            f'height="{node.height:.1f}" fill="#3d4b5c"{data}>'
            f"<title>{_t(node.name)}: {_fmt(node.value, unit)} {display_unit(unit)}</title></rect>"
        )
    # labels last, on a white backing: never under a band
    for node in lay.nodes.values():
        bx, by, bw, bh = node.label_box
        tx = bx + bw - 2 if node.label_anchor == "end" else bx + 2
        lines = "".join(
            f'<tspan x="{tx:.1f}" y="{by + LINE_H * (i + 1) - 1.5:.1f}"'
            + (' fill="#555"' if i == len(node.label_lines) - 1 else ' font-weight="bold"')
            + f">{_t(line)}</tspan>"
            for i, line in enumerate(node.label_lines)
        )
        parts.append(
            f'<rect class="label-bg" x="{bx:.1f}" y="{by:.1f}" width="{bw:.1f}" '
            f'height="{bh:.1f}" fill="#ffffff" fill-opacity="0.82"/>'
            f'<text class="label" data-label="{_t(node.id)}" text-anchor="{node.label_anchor}">'
            f"{lines}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


_SCRIPT = """
(function () {
  var svg = document.querySelector('svg.sankey');
  var tip = document.getElementById('tip');
  if (!svg) { return; }
  var flows = svg.querySelectorAll('[data-flow]');
  function clear() {
    svg.classList.remove('focus');
    flows.forEach(function (e) { e.classList.remove('on'); });
    tip.style.display = 'none';
  }
  function show(evt, text) {
    tip.textContent = text;
    tip.style.display = 'block';
    tip.style.left = (evt.pageX + 12) + 'px';
    tip.style.top = (evt.pageY + 12) + 'px';
  }
  flows.forEach(function (e) {
    e.addEventListener('mousemove', function (evt) {
      svg.classList.add('focus'); e.classList.add('on'); show(evt, e.getAttribute('data-text'));
    });
    e.addEventListener('mouseleave', clear);
  });
  svg.querySelectorAll('[data-node]').forEach(function (n) {
    var id = n.getAttribute('data-node');
    n.addEventListener('mousemove', function (evt) {
      svg.classList.add('focus');
      flows.forEach(function (e) {
        if (e.getAttribute('data-source') === id || e.getAttribute('data-target') === id) {
          e.classList.add('on');
        }
      });
      show(evt, n.querySelector('title').textContent);
    });
    n.addEventListener('mouseleave', clear);
  });
})();
"""

_STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 13px; color: #1b1b1b;
  margin: 18px; }
h1 { font-size: 18px; margin: 0 0 4px 0; }
p.status { color: #b00000; font-weight: bold; }
p.note { color: #555; margin: 2px 0 10px 0; }
svg.sankey { width: 100%; max-width: 1100px; height: auto; }
svg.sankey.focus .band, svg.sankey.focus .recirculation { opacity: 0.15; }
svg.sankey.focus .band.on, svg.sankey.focus .recirculation.on { opacity: 1; }
svg.sankey [data-flow], svg.sankey [data-node] { cursor: pointer; }
#tip { position: absolute; display: none; background: #fff; border: 1px solid #8a9bb0;
  padding: 4px 6px; font-size: 12px; pointer-events: none; max-width: 360px; }
table { border-collapse: collapse; margin-top: 14px; } td, th { padding: 3px 8px;
  border-bottom: 1px solid #ddd; text-align: left; } td.n, th.n { text-align: right; }
"""


def sankey_html(
    flows: list[dict[str, Any]],
    unit: str = "m3",
    title: str = "Site water flows",
    status: str | None = None,
) -> str:
    """A self-contained HTML page: the same diagram, with tooltips and highlighting on hover,
    and every flow in a table. Nothing in it refers to a URL."""
    svg = (
        sankey_svg(flows, unit, interactive=True) or "<p>No flows with a volume in the period.</p>"
    )
    rows = "".join(
        f"<tr><td>{_t(f['name'])}</td><td>{_t(f['source_name'])}</td><td>{_t(f['target_name'])}"
        f'</td><td class="n">{_fmt(f["volume"] or 0.0, unit)}</td></tr>'
        for f in sorted(flows, key=lambda f: (-(f.get("volume") or 0.0), f["flow_id"]))
    )
    u = display_unit(unit)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_t(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_t(title)}</h1>"
        + (
            f'<p class="status">{_t(status.upper())}: not a final report.</p>'
            if status in ("draft", "rejected")
            else ""
        )
        + f'<p class="note">Volumes in {_t(u)} over the period. Columns: sources, stores, tasks, '
        "destinations. Dashed: recirculation (a flow back to an earlier column), not to scale. "
        "Point at a band or a node for its flows.</p>"
        f'{svg}<div id="tip"></div>'
        f'<table><thead><tr><th>Flow</th><th>From</th><th>To</th><th class="n">Volume ({_t(u)})'
        f"</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<script>{_SCRIPT}</script>"
        f'<script type="application/json" id="flows">{_json_flows(flows)}</script>'
        "</body></html>\n"
    )


def _json_flows(flows: list[dict[str, Any]]) -> str:
    keep = ("flow_id", "name", "source", "target", "source_name", "target_name", "volume")
    text = json.dumps([{k: f.get(k) for k in keep} for f in flows], ensure_ascii=False)
    # inside <script>: no "</" may close the element early
    return text.replace("</", "<\\/")
