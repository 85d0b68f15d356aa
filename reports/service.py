"""Generate reports: published warehouse -> figures -> validation -> version -> render -> registry.

One call covers every definition, site and complete period (or the ones asked for). Figures are
read in this process (a few DuckDB queries per site, ~50 ms); rendering — WeasyPrint takes
~0.7-1.5 s per PDF — runs in a process pool across the cores. A period whose figures and
definition are unchanged since its latest version is not rendered again (idempotent); a changed
one gets version N+1, and when an earlier version was submitted, the diff of every figure against
it (a restatement). Prose (notes, labels, names) is not part of a version's identity: rewording
it makes no new version (:func:`reports.data.report_identity`).
"""

from __future__ import annotations

import datetime as dt
import getpass
import multiprocessing
import os
import socket
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports.data import (
    PublishedOrganisation,
    PublishedSite,
    build_report_payload,
    content_hash,
    exact_content_hash,
    legacy_content_hash,
    load_organisation,
    load_site,
    organisation_ids,
    site_ids,
)
from reports.definitions import ReportDefinition, load_definitions, template_dirs
from reports.energy import ENERGY_METRICS, metric_text, metric_unit
from reports.energy import figures as energy_figures
from reports.materials.catalogue import MATERIALS_METRICS
from reports.materials.render import metric_text as materials_text
from reports.materials.render import metric_unit as materials_unit
from reports.metering.catalogue import METERING_METRICS
from reports.metering.render import metric_text as metering_text
from reports.metering.render import metric_unit as metering_unit
from reports.periods import (
    Period,
    organisation_fy_start_month,
    parse_period,
    period_containing,
)
from reports.registry import Registry, ReportRecord, diff_figures, new_report_id
from reports.render.worker import RenderJob, RenderResult, render_job
from reports.validation import check, site_requirements
from siteledger.settings import Settings
from siteledger.state.store import StateStore, utcnow


class ReportGenerationError(RuntimeError):
    pass


@dataclass
class Outcome:
    """What happened to one definition x site x period."""

    definition_id: str
    site_id: str
    period_key: str
    action: str  # created | unchanged
    record: ReportRecord
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def default_actor(via: str = "siteledger CLI") -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} via {via}"


def figures_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The figures a restatement diff compares (volumes in m3, shares in %)."""
    if payload.get("domain") == "energy":
        return energy_figures(payload)
    if payload.get("domain") == "materials":
        from reports.materials import lots, monthly

        module = lots if payload["period"]["kind"] == "lot" else monthly
        return module.figures(payload)
    if payload.get("domain") == "metering":
        from reports.metering.monthly import figures as metering_figures

        return metering_figures(payload)
    return {
        "metrics": payload["metrics"],
        "categories": {
            f"{q['direction']}.{q['category']}": {
                k: q[k] for k in ("cat1", "cat2", "cat3", "cat_unknown", "total")
            }
            for q in payload["quality_table"]
        },
        "facilities": {
            f["node_id"]: {
                k: f[k]
                for k in (
                    "opening_storage",
                    "closing_storage",
                    "inflow",
                    "outflow",
                    "balance_error",
                )
            }
            for f in payload["facilities"]
        },
        "flows": {f["flow_id"]: f["volume"] for f in payload["flows"]},
    }


def _summary(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: payload["metrics"].get(k) for k in payload["definition"]["metrics"]}


def _site_file(settings: Settings, site_id: str) -> Any:
    """The site file of ``site_id`` (None when no valid one names it)."""
    from siteledger.site import SiteConfigError
    from siteledger.site import load_site as load_site_file

    for path in sorted(settings.sites_dir.glob("*.yaml")):
        try:
            site = load_site_file(path)
        except SiteConfigError:
            continue
        if site.site.id == site_id:
            return site
    return None


def _site_file_requirements(settings: Settings, site_id: str) -> list[Any]:
    site = _site_file(settings, site_id)
    return [] if site is None else list(site.requirements)


def _pool(workers: int) -> ProcessPoolExecutor:
    # forkserver: workers start from a clean process that has imported WeasyPrint once (~1 s),
    # never from a fork of a process holding DuckDB or SQLite handles or Dagster threads
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["reports.render.worker", "reports.render.html", "weasyprint"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def generate(
    settings: Settings,
    store: StateStore,
    *,
    definition_ids: list[str] | None = None,
    sites: list[str] | None = None,
    period_keys: list[str] | None = None,
    generated_by: str | None = None,
    workers: int | None = None,
) -> list[Outcome]:
    """Generate (or confirm unchanged) every report asked for; returns one outcome each."""
    db = settings.published_db
    definitions = load_definitions(settings.reports_dir)
    if definition_ids:
        unknown = set(definition_ids) - {d.id for d in definitions}
        if unknown:
            raise ReportGenerationError(f"unknown report definitions: {sorted(unknown)}")
        definitions = [d for d in definitions if d.id in definition_ids]
    if not db.exists():
        raise ReportGenerationError(f"no published warehouse at {db}; run the main job first")
    all_sites = site_ids(db)
    chosen = [s for s in all_sites if not sites or s in sites]
    # organisation reports: ``sites`` may name an organisation too
    org_definitions = [d for d in definitions if d.scope == "organisation"]
    all_orgs = organisation_ids(db) if org_definitions else []
    if sites and set(sites) - set(all_sites) - set(all_orgs):
        raise ReportGenerationError(
            "sites not in the published warehouse: "
            f"{sorted(set(sites) - set(all_sites) - set(all_orgs))}"
        )
    registry = Registry(store)
    actor = generated_by or default_actor()
    jobs: list[tuple[RenderJob, dict[str, Any]]] = []
    outcomes: list[Outcome] = []
    for site_id in chosen:
        data = load_site(db, site_id)
        site_file = _site_file(settings, site_id)
        site_reqs = [] if site_file is None else list(site_file.requirements)
        if data.materials is not None and site_file is not None:
            from reports.materials.names import apply_site_file

            apply_site_file(data.materials, site_file)
        if data.metering is not None and site_file is not None:
            from reports.metering.data import apply_site_file as apply_metering_site_file

            apply_metering_site_file(data.metering, site_file)
        regulators = [r for r in (data.site.get("regulators") or "").split(",") if r]
        for definition in definitions:
            if definition.scope != "site" or not definition.applies_to(site_id, regulators):
                continue
            if definition.domain == "energy" and data.energy is None:
                continue  # a site without energy data has no energy section: no energy report
            if definition.domain == "materials" and data.materials is None:
                continue  # nor one without materials records a materials report
            if definition.domain == "metering" and data.metering is None:
                continue  # nor one without a metering section a metering report
            if definition.domain == "water" and not data.nodes:
                continue  # a site without a water model (no nodes) files no water report
            for period in _periods(data, definition, period_keys):
                prepared = _prepare(settings, registry, data, definition, period, site_reqs, actor)
                if isinstance(prepared, Outcome):
                    outcomes.append(prepared)
                else:
                    jobs.append(prepared)
    for org_id in [o for o in all_orgs if not sites or o in sites]:
        org = load_organisation(db, org_id)
        for definition in org_definitions:
            if not definition.applies_to(org_id):
                continue
            for period in _periods(org, definition, period_keys):
                prepared = _prepare(settings, registry, org, definition, period, [], actor)
                if isinstance(prepared, Outcome):
                    outcomes.append(prepared)
                else:
                    jobs.append(prepared)
    outcomes += _render_and_register(registry, jobs, workers)
    return outcomes


def _periods(
    data: PublishedSite | PublishedOrganisation,
    definition: ReportDefinition,
    period_keys: list[str] | None,
) -> list[Period]:
    if definition.period == "lot":
        return _lots(data, definition, period_keys)
    complete = data.periods(definition)
    if not period_keys:
        return complete
    wanted = []
    for key in period_keys:
        try:
            period = parse_period(definition.period, key, data.fy_start_month(definition))
        except ValueError:
            continue  # a key of another period kind (e.g. 2025-07 for an annual definition)
        if period.key not in {p.key for p in complete}:
            raise ReportGenerationError(
                f"{definition.id}: period {period.key} of site {data.site['site_id']} is not "
                "complete in the published warehouse"
            )
        wanted.append(period)
    return wanted


def _lots(
    data: PublishedSite | PublishedOrganisation,
    definition: ReportDefinition,
    period_keys: list[str] | None,
) -> list[Period]:
    """The lots of a per-lot document: those asked for that the site has a record of (a key
    naming no lot of the site is another site's, or another kind's period), else every lot
    the document is made for unasked (a certificate of each lot whose testing is complete)."""
    from reports.materials.data import LotError

    materials = getattr(data, "materials", None)
    if materials is None:
        return []
    if not period_keys:
        return materials.periods("lot", definition.sections)
    wanted = []
    for key in period_keys:
        if materials.lot(key) is None:
            continue
        try:
            wanted.append(materials.lot_period(key, definition.sections))
        except LotError as exc:
            raise ReportGenerationError(f"{definition.id}: {exc}") from exc
    return wanted


def _prepare(
    settings: Settings,
    registry: Registry,
    data: PublishedSite | PublishedOrganisation,
    definition: ReportDefinition,
    period: Period,
    site_reqs: list[Any],
    actor: str,
) -> Outcome | tuple[RenderJob, dict[str, Any]]:
    site_id = data.site["site_id"]
    payload = build_report_payload(data, definition, period)
    # a site file's requirements bound water metrics: an energy report has none
    extra, warnings = site_requirements(
        definition, site_reqs if definition.domain == "water" else []
    )
    results, errors = check(definition, payload, extra)
    chash = content_hash(payload, results)
    versions = registry.versions(definition.id, site_id, period.key)
    latest = versions[-1] if versions else None
    if (
        latest is not None
        and latest.content_hash
        in (chash, exact_content_hash(payload, results), legacy_content_hash(payload))
        and latest.definition_hash == definition.fingerprint
        and latest.status != "rejected"
        and all(Path(a["path"]).exists() for a in latest.artifacts.values())
    ):
        return Outcome(definition.id, site_id, period.key, "unchanged", latest)
    payload["data_quality"]["notes"].extend(warnings)
    version = (latest.version + 1) if latest else 1
    submitted = [v for v in versions if v.status == "submitted" or v.submitted_at is not None]
    against = submitted[-1] if submitted else None
    figures = figures_of(payload)
    diff = diff_figures(against.figures, figures) if against else None
    report_id = new_report_id(definition.id, site_id, period.key, version)
    header = {
        "report_id": report_id,
        "version": version,
        "status": "draft" if errors else "validated",
        "validation_errors": errors,
        "requirements": results,
        "content_hash": chash,
        "generated_at": utcnow().replace(microsecond=0).isoformat(),
        "generated_by": actor,
        "due_date": definition.due_date(period.end).isoformat(),
        "branding": definition.branding.model_dump(),
        "diff": diff,
        "diff_against": against.report_id if against else None,
        "diff_against_version": against.version if against else None,
        "diff_against_submitted": (
            against.submitted_at.isoformat() if against and against.submitted_at else None
        ),
    }
    out_dir = settings.reports_dir / site_id / definition.id / period.key / f"v{version}"
    job = RenderJob(
        payload=payload,
        header=header,
        formats=list(definition.formats),
        out_dir=str(out_dir),
        basename=f"{definition.id}_{site_id}_{period.key}_v{version}",
        template_name=definition.template,
        template_dirs=[str(p) for p in template_dirs(definition)],
    )
    meta = {
        "definition": definition,
        "period": period,
        "figures": figures,
        "summary": _summary(payload),
        "warehouse_version": data.warehouse_version,
    }
    return job, meta


def _render_and_register(
    registry: Registry, jobs: list[tuple[RenderJob, dict[str, Any]]], workers: int | None
) -> list[Outcome]:
    if not jobs:
        return []
    n = workers or min(len(jobs), os.cpu_count() or 1, 4)
    if n <= 1 or len(jobs) == 1:
        results: list[RenderResult] = [render_job(job) for job, _ in jobs]
    else:
        with _pool(n) as pool:
            results = list(pool.map(render_job, [job for job, _ in jobs]))
    outcomes = []
    for (job, meta), result in zip(jobs, results, strict=True):
        header = job.header
        errors = list(header["validation_errors"]) + result.errors
        definition: ReportDefinition = meta["definition"]
        period: Period = meta["period"]
        record = ReportRecord(
            report_id=header["report_id"],
            definition_id=definition.id,
            report_type=definition.report_type,
            regulator=definition.regulator,
            site_id=job.payload["site"]["id"],
            period_kind=period.kind,
            period_key=period.key,
            period_start=period.start,
            period_end=period.end,
            due_date=definition.due_date(period.end),
            version=header["version"],
            unit=definition.unit,
            # a report some format of which could not be rendered is never validated
            status="draft" if errors else "validated",
            validation_errors=errors,
            requirements=header["requirements"],
            content_hash=header["content_hash"],
            definition_hash=definition.fingerprint,
            warehouse_version=meta["warehouse_version"],
            figures=meta["figures"],
            summary=meta["summary"],
            artifacts=result.artifacts,
            diff=header["diff"],
            diff_against=header["diff_against"],
            generated_at=utcnow(),
            generated_by=header["generated_by"],
        )
        registry.add(record)
        outcomes.append(
            Outcome(
                definition.id,
                record.site_id,
                period.key,
                "created",
                record,
                seconds=result.seconds,
                errors=result.errors,
            )
        )
    return outcomes


def generate_period(
    settings: Settings,
    store: StateStore,
    kind: str,
    period_start: dt.date,
    generated_by: str,
    workers: int | None = None,
) -> list[Outcome]:
    """Every report of every definition of ``kind`` for the period starting at ``period_start``."""
    definitions = [d for d in load_definitions(settings.reports_dir) if d.period == kind]
    if not definitions:
        return []
    fy_start_month = organisation_fy_start_month(settings.organisation_file)
    keys = sorted(
        {
            period_containing(d.period, period_start, d.fy_start_month(fy_start_month)).key
            for d in definitions
        }
    )
    return generate(
        settings,
        store,
        definition_ids=[d.id for d in definitions],
        period_keys=keys,
        generated_by=generated_by,
        workers=workers,
    )


def preview_markdown(record: ReportRecord, limit: int = 12) -> str:
    """The summary table of a report as Markdown (for the Dagster UI)."""
    from reports.metrics import METRICS, fmt, to_unit, unit_label

    unit = record.unit
    lines = [
        f"**{record.definition_id}** — {record.site_id} — {record.period_key} "
        f"v{record.version} — **{record.status}**",
        "",
        "| metric | value | unit |",
        "|---|---:|---|",
    ]
    for key, value in list(record.summary.items())[:limit]:
        if key in METERING_METRICS and key not in METRICS and key not in ENERGY_METRICS:
            label = METERING_METRICS[key][0]
            lines.append(f"| {label} | {metering_text(key, value)} | {metering_unit(key)} |")
            continue
        if key in MATERIALS_METRICS:  # the catalogues share no key
            label = MATERIALS_METRICS[key][0]
            lines.append(f"| {label} | {materials_text(key, value)} | {materials_unit(key)} |")
            continue
        if key in ENERGY_METRICS and key not in METRICS:
            lines.append(
                f"| {ENERGY_METRICS[key][0]} | {metric_text(key, value)} | {metric_unit(key)} |"
            )
            continue
        metric = METRICS[key]
        lines.append(
            f"| {metric.label} | {fmt(to_unit(metric, value, unit), metric.kind, unit)} | "
            f"{unit_label(metric, unit)} |"
        )
    for error in record.validation_errors:
        lines.append(f"\n- validation error: {error}")
    return "\n".join(lines)
