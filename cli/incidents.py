"""``siteledger incidents``: the environmental incidents register (spills, overflows, breaches,
discharges) - record, list, update, resolve, import a YAML or CSV file.

Commands call :mod:`siteledger.state.incidents` and :mod:`ingestion.incidents`; after every
change the register is exported for dbt (``lake/incidents/recorded.parquet``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from cli.output import Col, count, emit, json_option, make_console, nothing_matched
from siteledger.settings import Settings
from siteledger.site import SiteConfig, SiteConfigError, load_site
from siteledger.state import StateStore
from siteledger.state.incidents import (
    Incident,
    export_incidents,
    get_incident,
    list_incidents,
    record_incident,
    site_problems,
    update_incident,
)

console = make_console()
TYPES = ("spill", "overflow", "breach", "discharge")
SEVERITIES = ("low", "medium", "high", "critical")
STATUSES = ("active", "contained", "resolved")


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _store(settings: Settings) -> StateStore:
    settings.ensure_dirs()
    return StateStore(settings.state_store_url)


def _sites(settings: Settings) -> dict[str, SiteConfig]:
    sites = {}
    for path in sorted(settings.sites_dir.glob("*.yaml")):
        try:
            site = load_site(path)
        except SiteConfigError as exc:
            raise click.ClickException(f"{path} is not a valid site file:\n{exc}") from exc
        sites[site.site.id] = site
    if not sites:
        raise click.ClickException(f"no site files in {settings.sites_dir}")
    return sites


def _invalid(exc: ValidationError) -> click.ClickException:
    reasons = [
        f"{'.'.join(str(p) for p in e['loc']) or 'incident'}: "
        f"{e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors(include_url=False)
    ]
    return click.ClickException("; ".join(reasons))


def _show(incident: dict[str, Any]) -> None:
    for key, value in incident.items():
        console.print(f"{key:>22}: {'' if value is None else value}", markup=False)


@click.group()
def incidents() -> None:
    """Environmental incidents register: record, list, update, resolve, import."""


@incidents.command("add")
@click.option("--site", "site_id", required=True, help="site id")
@click.option("--type", "incident_type", required=True, type=click.Choice(TYPES))
@click.option("--node", "node_id", help="node where it happened")
@click.option("--flow", "flow_id", help="flow where it happened")
@click.option("--started", "started_at", required=True, help="start, ISO 8601 (naive: site time)")
@click.option("--ended", "ended_at", help="end, ISO 8601 (naive: site time)")
@click.option("--volume-m3", type=float, help="volume released, if known")
@click.option("--severity", type=click.Choice(SEVERITIES), default="medium", show_default=True)
@click.option("--status", type=click.Choice(STATUSES), default="active", show_default=True)
@click.option("--reported-on", help="date reported to the authority (YYYY-MM-DD)")
@click.option("--authority-reference", help="the authority's reference")
@click.option("--description", default="", help="what happened")
@click.option("--id", "incident_id", help="incident id (default: derived from what it is)")
@click.pass_context
def incidents_add(ctx: click.Context, **fields: Any) -> None:
    """Record an incident (prints its id)."""
    settings = _settings(ctx)
    sites = _sites(settings)
    fields["reported_to_authority"] = fields.get("reported_on") is not None
    try:
        incident = Incident.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        raise _invalid(exc) from exc
    problems = site_problems(incident, sites)
    if problems:
        raise click.ClickException("; ".join(problems))
    store = _store(settings)
    try:
        incident_id, _ = record_incident(
            store, incident.localised(sites[incident.site_id]), "cli", replace=False
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    export_incidents(settings, store)
    console.print(f"recorded {incident_id}")


INCIDENT_COLUMNS = [
    Col("incident_id", "id", "id"),
    Col("site_id", "site", "word"),
    Col("incident_type", "type", "word"),
    Col("node_id", "node", "word"),
    Col("flow_id", "flow", "word"),
    Col("started_at", "started (UTC)", "time"),
    Col("ended_at", "ended (UTC)", "time"),
    Col("volume_m3", "m3", "num", 1),
    Col("severity", kind="word"),
    Col("status", kind="word"),
    Col("reported_on", "reported", "day"),
]


@incidents.command("list")
@click.option("--site", "site_id", help="only this site")
@click.option("--status", type=click.Choice(STATUSES), help="only this status")
@json_option
@click.pass_context
def incidents_list(
    ctx: click.Context, site_id: str | None, status: str | None, as_json: bool
) -> None:
    """List recorded incidents, oldest first."""
    rows = list_incidents(_store(_settings(ctx)), site_id, status)
    emit(
        rows,
        INCIDENT_COLUMNS,
        title=f"Environmental incidents ({count(len(rows))})",
        as_json=as_json,
        empty=nothing_matched("incidents", {"site": site_id, "status": status}),
    )


def _change(ctx: click.Context, incident_id: str, changes: dict[str, Any]) -> None:
    settings = _settings(ctx)
    store = _store(settings)
    sites = _sites(settings)
    current = get_incident(store, incident_id)
    if current is None:
        raise click.ClickException(f"no incident {incident_id!r}")
    site = sites.get(current["site_id"])
    if site is not None:
        for key in ("started_at", "ended_at"):
            if changes.get(key) is not None:
                moment = Incident.model_validate(
                    {**_identity(current), "started_at": changes[key]}
                ).localised(site)
                changes[key] = moment.started_at
    if changes.get("reported_on") is not None:
        changes["reported_to_authority"] = True
    try:
        updated = update_incident(store, incident_id, **changes)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    export_incidents(settings, store)
    _show(updated)


def _identity(incident: dict[str, Any]) -> dict[str, Any]:
    keys = ("site_id", "incident_type", "node_id", "flow_id")
    return {k: incident[k] for k in keys}


@incidents.command("update")
@click.argument("incident_id")
@click.option("--ended", "ended_at", help="end, ISO 8601 (naive: site time)")
@click.option("--volume-m3", type=float)
@click.option("--severity", type=click.Choice(SEVERITIES))
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--reported-on", help="date reported to the authority (YYYY-MM-DD)")
@click.option("--authority-reference")
@click.option("--description")
@click.pass_context
def incidents_update(ctx: click.Context, incident_id: str, **changes: Any) -> None:
    """Change fields of a recorded incident."""
    _change(ctx, incident_id, changes)


@incidents.command("resolve")
@click.argument("incident_id")
@click.option("--ended", "ended_at", required=True, help="end, ISO 8601 (naive: site time)")
@click.option("--description", help="replaces the description")
@click.pass_context
def incidents_resolve(
    ctx: click.Context, incident_id: str, ended_at: str, description: str | None
) -> None:
    """Mark an incident resolved, with the time it ended."""
    changes = {"ended_at": ended_at, "status": "resolved", "description": description}
    _change(ctx, incident_id, changes)


@incidents.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def incidents_import(ctx: click.Context, path: Path) -> None:
    """Record the incidents of a YAML (``incidents:`` list) or CSV file; bad rows are
    quarantined with their reason; importing the same file again changes nothing."""
    from ingestion.incidents import import_incident_file

    settings = _settings(ctx)
    store = _store(settings)
    result = import_incident_file(settings, store, list(_sites(settings).values()), path)
    console.print(
        f"{result.file_name}: {result.status}; {len(result.added)} added, "
        f"{len(result.updated)} updated, {len(result.unchanged)} unchanged, "
        f"{result.failed} quarantined",
        markup=False,
    )
    for problem in result.problems:
        click.echo(problem, err=True)
    if result.status == "quarantined":
        sys.exit(1)
