"""Generate a custom report: template -> schema check -> figures -> render -> registry.

A custom report is registered like a shipped one (definition ``custom:<name>``, one row per
site and period, versions, content hash, artifact hashes), so ``siteledger reports list / show
/ deliver`` work on it. A period whose figures and template (file and assets: the template's
fingerprint) are unchanged since its latest version is not registered again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from reports.custom.data import build_payload, schema_problems, site_row, warehouse_schema
from reports.custom.dates import DateRange, resolve_period
from reports.custom.model import LoadedTemplate, TemplateError, load_template
from reports.custom.render import render_custom_job, render_html, render_pdf
from reports.data import canonical_json
from reports.registry import Registry, ReportRecord, new_report_id
from reports.render.worker import RenderJob, RenderResult
from siteledger.settings import Settings
from siteledger.state.store import StateStore, utcnow

LIBRARY = Path(__file__).resolve().parent / "library"
PREVIEW_DPI = 60


class CustomReportError(RuntimeError):
    pass


@dataclass
class CustomOutcome:
    site_id: str
    period_key: str
    action: str  # created | unchanged
    record: ReportRecord
    artifacts: dict[str, dict[str, Any]]
    errors: list[str] = field(default_factory=list)
    refused_urls: list[str] = field(default_factory=list)
    pdf_pages: int | None = None


def find_template(name: str, settings: Settings | None = None) -> Path:
    """A template by path, or by name in ``$SITELEDGER_HOME/reports/custom/`` then the library."""
    path = Path(name)
    if path.exists():
        return path
    if "/" not in name and "\\" not in name and name not in ("", ".", ".."):
        folders = ([settings.reports_dir / "custom"] if settings is not None else []) + [LIBRARY]
        for folder in folders:
            for candidate in (folder / name, folder / f"{name}.yaml", folder / f"{name}.json"):
                if candidate.exists():
                    return candidate
    raise CustomReportError(
        f"no template {name!r}: give a path, or a name from {LIBRARY} "
        f"({', '.join(library_names())})"
    )


def library_names() -> list[str]:
    return sorted(p.name for p in LIBRARY.iterdir() if p.is_dir())


def _content_hash(payload: dict[str, Any]) -> str:
    figures = {k: v for k, v in payload.items() if k != "warehouse_version"}
    return hashlib.sha256(canonical_json(figures)).hexdigest()


def _report_id(definition_id: str, site_id: str, period_key: str, version: int) -> str:
    report_id = new_report_id(definition_id, site_id, period_key, version)
    if len(report_id) <= 64:
        return report_id
    # the registry keeps ids in 64 characters: a long name, site or range is hashed
    digest = hashlib.sha256(f"{definition_id}|{site_id}|{period_key}".encode()).hexdigest()[:12]
    return new_report_id(definition_id[:30], digest, "", version).replace("..", ".")


def _figures(payload: dict[str, Any]) -> dict[str, Any]:
    tables = {}
    for p, page in enumerate(payload["pages"]):
        for e, item in enumerate(page["elements"]):
            if item["type"] == "table":
                tables[f"p{p}e{e}"] = {"rows": item["total_rows"]}
    return {"metrics": payload["metrics"], "tables": tables}


def prepare(
    settings: Settings,
    template: str | Path,
    period: str | None,
    today: dt.date | None = None,
    sites: list[str] | None = None,
) -> tuple[LoadedTemplate, list[tuple[dict[str, Any], DateRange]]]:
    """The checked template and one payload per site (``sites`` replaces the template's);
    raises :class:`TemplateError` or :class:`CustomReportError` saying what is wrong."""
    loaded = load_template(template)
    wanted = period or loaded.template.period
    if not wanted:
        raise CustomReportError(
            f"{loaded.path}: the template names no period: give one with --period "
            "(e.g. 2025-07, FY2026-Q1, last_month, 2025-07-01..2025-07-15)"
        )
    db = settings.published_db
    if not db.exists():
        raise CustomReportError(f"no published warehouse at {db}; run the main job first")
    today = today or dt.datetime.now(dt.UTC).date()
    out = []
    with duckdb.connect(str(db), read_only=True) as con:
        schema = warehouse_schema(con)
        problems = schema_problems(loaded, schema)
        if problems:
            raise TemplateError(problems)
        chosen = list(sites or loaded.template.facilities.sites)
        if "*" in chosen:
            chosen = [
                str(r[0])
                for r in con.execute("select site_id from dim_sites order by 1").fetchall()
            ]
        for site_id in chosen:
            try:
                site = site_row(con, site_id)
                fy = int(site.get("financial_year_start_month") or 7)
                rng = resolve_period(wanted, fy, today)
            except (ValueError, RuntimeError) as exc:
                raise CustomReportError(f"{loaded.path}: {exc}") from None
            out.append((build_payload(db, loaded, site_id, rng, con, schema), rng))
    return loaded, out


def generate(
    settings: Settings,
    store: StateStore,
    template: str | Path,
    period: str | None,
    *,
    out_dir: Path | None = None,
    generated_by: str = "siteledger CLI",
    today: dt.date | None = None,
    sites: list[str] | None = None,
) -> list[CustomOutcome]:
    """Render and register the template's report for each of its sites."""
    loaded, payloads = prepare(settings, template, period, today, sites)
    registry = Registry(store)
    definition_id = loaded.definition_id
    outcomes = []
    for payload, rng in payloads:
        site_id = payload["site"]["id"]
        chash = _content_hash(payload)
        versions = registry.versions(definition_id, site_id, rng.key)
        latest = versions[-1] if versions else None
        unchanged = (
            latest is not None
            and latest.content_hash == chash
            and latest.definition_hash == loaded.fingerprint
            and all(Path(a["path"]).exists() for a in latest.artifacts.values())
        )
        if unchanged and out_dir is None:
            assert latest is not None
            outcomes.append(CustomOutcome(site_id, rng.key, "unchanged", latest, latest.artifacts))
            continue
        if unchanged and latest is not None:
            # --out: the same version's files written again where asked, nothing registered
            version, report_id = latest.version, latest.report_id
        else:
            version = latest.version + 1 if latest is not None else 1
            report_id = _report_id(definition_id, site_id, rng.key, version)
        header = {
            "report_id": report_id,
            "version": version,
            "status": "validated",
            "validation_errors": [],
            "content_hash": chash,
            "generated_at": utcnow().replace(microsecond=0).isoformat(),
            "generated_by": generated_by,
            "branding": loaded.template.branding.model_dump(),
        }
        key = rng.key.replace("..", "_to_")
        folder = out_dir or (
            settings.reports_dir / site_id / "custom" / loaded.template.name / key / f"v{version}"
        )
        job = RenderJob(
            payload=payload,
            header=header,
            formats=list(loaded.template.formats),
            out_dir=str(folder),
            basename=f"{loaded.template.name}_{site_id}_{key}_v{version}",
        )
        result: RenderResult = render_custom_job(job, loaded.assets)
        if unchanged and latest is not None:
            outcomes.append(
                CustomOutcome(
                    site_id,
                    rng.key,
                    "unchanged",
                    latest,
                    result.artifacts,
                    result.errors,
                    result.refused_urls,
                    result.pdf_pages,
                )
            )
            continue
        record = ReportRecord(
            report_id=report_id,
            definition_id=definition_id,
            report_type="custom",
            regulator="internal",
            site_id=site_id,
            period_kind=rng.kind,
            period_key=rng.key,
            period_start=rng.start,
            period_end=rng.end,
            due_date=rng.end,
            version=version,
            unit="m3",
            status="draft" if result.errors else "validated",
            validation_errors=result.errors,
            requirements=[],
            content_hash=chash,
            definition_hash=loaded.fingerprint,
            warehouse_version=payload["warehouse_version"] or "",
            figures=_figures(payload),
            summary=payload["metrics"],
            artifacts=result.artifacts,
            diff=None,
            diff_against=None,
            generated_at=utcnow(),
            generated_by=generated_by,
        )
        registry.add(record)
        outcomes.append(
            CustomOutcome(
                site_id,
                rng.key,
                "created",
                record,
                result.artifacts,
                result.errors,
                result.refused_urls,
                result.pdf_pages,
            )
        )
    return outcomes


def pdf_to_png(pdf: Path, out_dir: Path, stem: str, dpi: int = PREVIEW_DPI) -> list[Path]:
    """One PNG per page: pdftoppm when it is on PATH, else pypdfium2 when it is installed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tool = shutil.which("pdftoppm")
    if tool is not None:
        subprocess.run(
            [tool, "-png", "-r", str(dpi), str(pdf), str(out_dir / stem)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return sorted(out_dir.glob(f"{stem}-*.png"))
    try:
        import pypdfium2  # type: ignore[import-not-found]
    except ImportError:
        raise CustomReportError(
            "a preview needs pdftoppm (poppler-utils) on PATH or the pypdfium2 package"
        ) from None
    paths = []
    document = pypdfium2.PdfDocument(str(pdf))
    for i, page in enumerate(document, start=1):
        path = out_dir / f"{stem}-{i}.png"
        page.render(scale=dpi / 72).to_pil().save(path)
        paths.append(path)
    return paths


def preview(
    settings: Settings,
    template: str | Path,
    period: str | None,
    out_dir: Path,
    today: dt.date | None = None,
    sites: list[str] | None = None,
) -> list[Path]:
    """PNG images of every page of the template's report for each site (nothing registered)."""
    loaded, payloads = prepare(settings, template, period, today, sites)
    pngs: list[Path] = []
    for payload, rng in payloads:
        header = {
            "report_id": f"preview of {loaded.definition_id}",
            "version": 0,
            "status": "preview",
            "validation_errors": [],
            "generated_at": utcnow().replace(microsecond=0).isoformat(),
            "branding": loaded.template.branding.model_dump(),
        }
        html = render_html(payload, header, loaded.assets)
        data, _, _ = render_pdf(html, loaded.assets)
        stem = f"{loaded.template.name}_{payload['site']['id']}_{rng.key.replace('..', '_to_')}"
        with tempfile.TemporaryDirectory() as tmp:
            pdf = Path(tmp) / "preview.pdf"
            pdf.write_bytes(data)
            for old in out_dir.glob(f"{stem}-*.png"):
                old.unlink()
            pngs += pdf_to_png(pdf, out_dir, stem)
    return pngs
