"""``siteledger materials``: the materials and production domain - lot genealogy traces,
certificates of analysis and recall reports."""

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
    """Materials and production: lot genealogy, certificates of analysis and recall reports."""


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


def _lot_document(
    ctx: click.Context, definition_id: str, lot: str, site_id: str | None, as_json: bool
) -> None:
    """Make (or find unchanged) one per-lot document of ``definition_id`` and say where it is;
    exit 1 when it is a draft (a failed lot's certificate, an incomplete trace)."""
    from reports.data import ReportDataError
    from reports.definitions import DefinitionError
    from reports.service import ReportGenerationError, generate
    from siteledger.state import StateStore

    settings: Settings = ctx.obj["settings"]
    settings.ensure_dirs()
    try:
        if site_id is None:
            with open_warehouse(settings) as con:
                sites = lot_sites(con, lot)
            if not sites:
                raise click.ClickException(f"no site's records name lot {lot}")
            if len(sites) > 1:
                raise click.ClickException(
                    f"lot {lot} is named at sites {', '.join(sites)}: give --site"
                )
            site_id = sites[0]
        store = StateStore(settings.state_store_url)
        try:
            outcomes = generate(
                settings,
                store,
                definition_ids=[definition_id],
                sites=[site_id],
                period_keys=[lot],
                workers=1,
            )
        finally:
            store.dispose()
    except (GenealogyError, ReportGenerationError, ReportDataError, DefinitionError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not outcomes:
        raise click.ClickException(f"site {site_id} has no record of lot {lot}")
    (outcome,) = outcomes
    record = outcome.record
    artifact = record.artifacts.get("pdf", {})
    if as_json:
        click.echo(
            json.dumps(
                {
                    "report_id": record.report_id,
                    "definition": record.definition_id,
                    "site": record.site_id,
                    "lot": record.period_key,
                    "version": record.version,
                    "status": record.status,
                    "action": outcome.action,
                    "content_hash": record.content_hash,
                    "pdf": artifact.get("path"),
                    "pdf_sha256": artifact.get("sha256"),
                    "errors": record.validation_errors,
                    "figures": record.figures,
                },
                default=str,
            )
        )
    else:
        made = "made" if outcome.action == "created" else "unchanged since"
        console.print(
            f"{escape(record.definition_id.replace('_', ' '))} of lot {escape(lot)} at "
            f"{escape(record.site_id)}: version {record.version} ({made}), "
            f"[bold]{record.status.upper()}[/bold]"
        )
        console.print(f"  {escape(str(artifact.get('path', '(no PDF)')))}")
        console.print(f"  report {escape(record.report_id)}, content hash {record.content_hash}")
        for error in record.validation_errors:
            console.print(f"  [bold red]not final:[/bold red] {escape(error)}")
    if record.status == "draft":
        ctx.exit(1)


@materials.command("coa")
@click.argument("lot")
@click.option("--site", "site_id", default=None, help="The lot's site (when several name it).")
@click.option("--json", "as_json", is_flag=True, help="Print the certificate's record as JSON.")
@click.pass_context
def coa_command(ctx: click.Context, lot: str, site_id: str | None, as_json: bool) -> None:
    """Make LOT's certificate of analysis (PDF), registered with its content hash: the product
    and lot, its dates, the specification, every test and result, the conclusion and the
    approver. Its testing must be complete; a lot that failed gets a draft (exit 1)."""
    _lot_document(ctx, "certificate_of_analysis", lot, site_id, as_json)


@materials.command("recall")
@click.argument("lot")
@click.option("--site", "site_id", default=None, help="The lot's site (when several name it).")
@click.option("--json", "as_json", is_flag=True, help="Print the report's record as JSON.")
@click.pass_context
def recall_command(ctx: click.Context, lot: str, site_id: str | None, as_json: bool) -> None:
    """Make the recall report of LOT (PDF): every batch, product lot and material lot made
    from it and every customer shipment and job it reached, from its forward trace. An
    incomplete trace (a cycle, the depth cap) makes a draft (exit 1)."""
    _lot_document(ctx, "materials_recall_report", lot, site_id, as_json)
