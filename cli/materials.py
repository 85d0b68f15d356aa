"""``siteledger materials``: the materials and production domain - lot genealogy traces."""

from __future__ import annotations

import json
from collections.abc import Sized

import click
from rich.markup import escape
from rich.tree import Tree

from cli.output import count, make_console, number, when
from reports.materials.genealogy import (
    DEFAULT_MAX_DEPTH,
    Direction,
    GenealogyError,
    LotNotFound,
    Trace,
    TraceRow,
    lot_sites,
    open_warehouse,
    trace,
)
from siteledger.settings import Settings

console = make_console()

KIND_LABELS = {
    "material_lot": "material lot",
    "product_lot": "product lot",
    "unknown_lot": "lot (no receipt or batch recorded)",
    "shipment": "shipment",
    "job": "job",
}


@click.group()
def materials() -> None:
    """Materials and production: lot genealogy."""


def _many(items: Sized, one: str, many: str | None = None) -> str:
    return f"{count(len(items))} {one if len(items) == 1 else many or one + 's'}"


def _label(row: TraceRow) -> str:
    parts = [f"[bold]{escape(row.lot_id)}[/bold]", KIND_LABELS.get(row.kind, row.kind)]
    if row.relation:
        amount = f" {number(row.qty, 3).rstrip('0').rstrip('.')}" if row.qty is not None else ""
        unit = f" {escape(row.unit)}" if row.unit and row.qty is not None else ""
        parts.append(f"{escape(row.relation)}{amount}{unit}")
    if row.kind in ("material_lot", "product_lot"):
        what = row.product_id or row.material_id
        if what:
            parts.append(escape(what))
        if row.batch_id:
            parts.append(f"batch {escape(row.batch_id)}")
    if row.customer_id:
        parts.append(f"customer {escape(row.customer_id)}")
    if row.moved_at is not None:
        parts.append(when(row.moved_at))
    return "  ".join(parts)


def _tree(result: Trace) -> Tree:
    root = result.root
    tree = Tree(_label(root))
    branches = {root.lot_id: tree}
    for row in result[1:]:
        # rows come by depth: a node's parent is always placed before it
        branches[row.lot_id] = branches[row.parent or root.lot_id].add(_label(row))
    return tree


@materials.command("trace")
@click.argument("lot")
@click.option(
    "--site", "site_id", default=None, help="The lot's site (needed when several sites name it)."
)
@click.option(
    "--forward/--backward",
    "forward",
    default=True,
    help="Forward: what was made from the lot and where it went (default). "
    "Backward: what it was made from.",
)
@click.option(
    "--depth",
    "max_depth",
    type=click.IntRange(min=1),
    default=None,
    help="Generations to follow at most (default 50).",
)
@click.option(
    "--build", is_flag=True, help="Read the build database instead of the published warehouse."
)
@click.option("--json", "as_json", is_flag=True, help="Print the trace as one JSON object.")
@click.pass_context
def trace_command(
    ctx: click.Context,
    lot: str,
    site_id: str | None,
    forward: bool,
    max_depth: int | None,
    build: bool,
    as_json: bool,
) -> None:
    """Trace LOT through the lot genealogy: every lot, batch, shipment and customer it reached
    (forward) or came from (backward), as a tree; cycles in the edges are reported."""
    settings: Settings = ctx.obj["settings"]
    direction: Direction = "forward" if forward else "backward"
    try:
        with open_warehouse(settings, build=build) as con:
            if site_id is None:
                sites = lot_sites(con, lot)
                if not sites:
                    raise click.ClickException(f"no site's records name lot {lot}")
                if len(sites) > 1:
                    raise click.ClickException(
                        f"lot {lot} is named at sites {', '.join(sites)}: give --site"
                    )
                site_id = sites[0]
            result = trace(con, site_id, lot, direction, max_depth=max_depth or DEFAULT_MAX_DEPTH)
    except (GenealogyError, LotNotFound) as exc:
        raise click.ClickException(str(exc.args[0]) if exc.args else str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.as_dict(), default=str))
        return
    way = "Forward (where used)" if forward else "Backward (where from)"
    console.print(f"{way} trace of {escape(lot)} at site {escape(site_id)}")
    console.print(_tree(result))
    summary = result.summary()
    lines = [
        f"{_many(summary.batches, 'batch', 'batches')}: {', '.join(summary.batches) or '-'}",
        f"{_many(summary.product_lots, 'product lot')}, "
        f"{_many(summary.material_lots, 'material lot')}",
        f"{_many(summary.shipments, 'shipment')}, {_many(summary.jobs, 'job')}, "
        f"{_many(summary.customers, 'customer')}: {', '.join(summary.customers) or '-'}",
    ]
    for line in lines:
        console.print(escape(line))
    for finding in result.findings:
        console.print(f"[bold red]finding:[/bold red] {escape(finding)}")
