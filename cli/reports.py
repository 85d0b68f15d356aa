"""``siteledger reports``: generate, list, inspect, submit, reject and deliver reports."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import click

from cli.output import Col, count, emit, json_option, make_console, nothing_matched, when
from cli.run import REPORT_OUTCOMES
from siteledger.settings import Settings
from siteledger.state import StateStore

console = make_console()


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _registry(settings: Settings):  # type: ignore[no-untyped-def]
    from reports.registry import Registry

    settings.ensure_dirs()
    return Registry(StateStore(settings.state_store_url))


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


def _print_outcomes(outcomes, elapsed: float) -> None:  # type: ignore[no-untyped-def]
    created = [o for o in outcomes if o.action == "created"]
    # the rows of the run's report metadata, so both print alike
    rows = [
        {
            "id": o.record.report_id,
            "status": o.record.status,
            "action": o.action,
            "errors": o.record.validation_errors,
        }
        for o in outcomes
    ]
    emit(
        rows,
        REPORT_OUTCOMES,
        title=f"Compliance reports ({count(len(created))} generated, "
        f"{count(len(outcomes) - len(created))} unchanged, {elapsed:.1f} s)",
        empty="no report to generate: no complete period in the published warehouse matched",
        console=console,
    )


@click.group()
def reports() -> None:
    """Compliance reports: definitions, generation, registry, submission and delivery."""


@reports.command("definitions")
@json_option
@click.pass_context
def reports_definitions(ctx: click.Context, as_json: bool) -> None:
    """List the report definitions (shipped and $SITELEDGER_HOME/reports/definitions)."""
    from reports.definitions import DefinitionError, load_definitions

    settings = _settings(ctx)
    try:
        definitions = load_definitions(settings.reports_dir)
    except DefinitionError as exc:
        for problem in exc.problems:
            click.echo(f"{exc.path}: {problem}", err=True)
        raise click.ClickException(f"{exc.path} is not a valid report definition") from exc
    emit(
        (
            {
                "id": d.id,
                "title": d.title,
                "regulator": d.regulator,
                "period": d.period,
                "unit": d.unit,
                "formats": list(d.formats),
                "due_days_after_period_end": d.due.days_after_period_end,
                "source_path": str(d.source_path),
            }
            for d in definitions
        ),
        [
            Col("id", kind="id"),
            Col("title"),
            Col("regulator"),
            Col("period", kind="word"),
            Col("unit", kind="word"),
            Col("formats", derive=lambda r: ", ".join(r["formats"])),
            Col("due", kind="word", derive=lambda r: f"+{r['due_days_after_period_end']} d"),
            Col("source_path", "source"),
        ],
        title="Report definitions",
        as_json=as_json,
        empty=nothing_matched("report definitions", {}, str(settings.reports_dir)),
    )


@reports.command("generate")
@click.option("--definition", "-d", "definition_ids", multiple=True, help="Only this definition.")
@click.option("--site", "sites", multiple=True, help="Only this site id.")
@click.option(
    "--period",
    "periods",
    multiple=True,
    help="Only this period (2026-W10, 2025-07, FY2026-Q1, FY2026), or lot (a per-lot document).",
)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32))
@click.option("--by", "generated_by", default=None, help="Who generates (default user@host).")
@click.pass_context
def reports_generate(
    ctx: click.Context,
    definition_ids: tuple[str, ...],
    sites: tuple[str, ...],
    periods: tuple[str, ...],
    workers: int,
    generated_by: str | None,
) -> None:
    """Generate reports from the published warehouse (unchanged ones are not re-rendered)."""
    from reports.data import ReportDataError
    from reports.definitions import DefinitionError
    from reports.service import ReportGenerationError, generate

    settings = _settings(ctx)
    settings.ensure_dirs()
    store = StateStore(settings.state_store_url)
    t0 = time.perf_counter()
    try:
        outcomes = generate(
            settings,
            store,
            definition_ids=list(definition_ids) or None,
            sites=list(sites) or None,
            period_keys=list(periods) or None,
            generated_by=generated_by,
            workers=workers,
        )
    except (ReportGenerationError, ReportDataError, DefinitionError) as exc:
        raise _fail(exc) from exc
    _print_outcomes(outcomes, time.perf_counter() - t0)
    click.echo(f"artifacts: {settings.reports_dir}")


@reports.command("list")
@click.option("--site", default=None)
@click.option("--status", default=None, help="draft, validated, submitted, rejected, superseded.")
@click.option("--definition", "definition_id", default=None)
@click.option("--all-versions", is_flag=True, help="Every version, not only the latest.")
@json_option
@click.pass_context
def reports_list(
    ctx: click.Context,
    site: str | None,
    status: str | None,
    definition_id: str | None,
    all_versions: bool,
    as_json: bool,
) -> None:
    """List reports in the registry."""
    rows = _registry(_settings(ctx)).list(
        site_id=site, status=status, definition_id=definition_id, latest_only=not all_versions
    )
    filters = {
        "site": site,
        "status": status,
        "definition": definition_id,
        "versions": "all" if all_versions else "latest",
    }
    emit(
        ({key: getattr(r, key) for key in REPORT_KEYS} for r in rows),
        REPORT_COLUMNS,
        title=f"Reports ({count(len(rows))})",
        as_json=as_json,
        empty=nothing_matched("reports", filters),
    )


# the id names the definition, site, period and version: the table does not repeat them
REPORT_COLUMNS = [
    Col("report_id", "id", "id"),
    Col("status", kind="word"),
    Col("due_date", "due", "day"),
    Col("generated_at", "generated", "time"),
    Col(
        "submitted_at",
        "submitted",
        derive=lambda r: (
            f"{when(r['submitted_at'])} {r['submitted_by']}" if r["submitted_at"] else ""
        ),
    ),
    Col("errors", kind="int", derive=lambda r: len(r["validation_errors"])),
]
REPORT_KEYS = (
    *("report_id", "definition_id", "site_id", "period_key", "period_start", "period_end"),
    *("version", "status", "status_note", "due_date", "generated_at", "generated_by"),
    *("submitted_at", "submitted_by", "validation_errors", "warehouse_version"),
)


@reports.command("show")
@click.argument("report_id")
@click.pass_context
def reports_show(ctx: click.Context, report_id: str) -> None:
    """One report: status, validation errors, artifacts, restatement diff, delivery attempts."""
    from reports.registry import RegistryError

    registry = _registry(_settings(ctx))
    try:
        r = registry.find(report_id)
    except RegistryError as exc:
        raise _fail(exc) from exc
    click.echo(f"{r.report_id}\n  {r.definition_id} / {r.site_id} / {r.period_key} v{r.version}")
    click.echo(f"  status {r.status}" + (f" ({r.status_note})" if r.status_note else ""))
    click.echo(
        f"  due {r.due_date:%Y-%m-%d}; generated {r.generated_at:%Y-%m-%d %H:%M} by "
        f"{r.generated_by}"
    )
    if r.submitted_at:
        click.echo(f"  submitted {r.submitted_at:%Y-%m-%d %H:%M} by {r.submitted_by}")
    click.echo(f"  warehouse version {r.warehouse_version}; content hash {r.content_hash}")
    for error in r.validation_errors:
        click.echo(f"  validation error: {error}")
    for fmt, art in sorted(r.artifacts.items()):
        click.echo(
            f"  {fmt:<5} {art['path']}  sha256 {art['sha256'][:16]}  {count(art['bytes'])} B"
        )
    if r.diff is not None:
        click.echo(f"  restates {r.diff_against}: {len(r.diff)} figure(s) changed")
        for change in r.diff[:40]:
            click.echo(f"    {change['figure']}: {change['old']} -> {change['new']}")
    for a in registry.attempts(r.report_id):
        click.echo(
            f"  delivery {a.channel} #{a.attempt} {a.status} {a.at:%Y-%m-%d %H:%M:%S} "
            f"{a.target}" + (f" — {a.error}" if a.error else "")
        )


def _deliver(settings: Settings, registry, record, attempts: int) -> bool:  # type: ignore[no-untyped-def]
    from reports.definitions import load_definitions
    from reports.delivery import S3Target, SmtpTarget, deliver

    if S3Target.from_env() is None and SmtpTarget.from_env() is None:
        click.echo(
            "delivery: no S3 bucket or SMTP host configured (SITELEDGER_S3_BUCKET, "
            "SITELEDGER_SMTP_HOST); nothing sent"
        )
        return True
    recipients = next(
        (
            d.recipients
            for d in load_definitions(settings.reports_dir)
            if d.id == record.definition_id
        ),
        [],
    )
    ok = True
    for outcome in deliver(registry, record, recipients, attempts=attempts):
        if outcome.ok:
            click.echo(f"delivery {outcome.channel}: ok after {outcome.attempts} attempt(s)")
        else:
            ok = False
            click.echo(
                f"delivery {outcome.channel}: FAILED after {outcome.attempts} attempts: "
                f"{outcome.error} (the report is kept; retry with 'siteledger reports deliver "
                f"{record.report_id}')",
                err=True,
            )
    return ok


@reports.command("submit")
@click.argument("report_id")
@click.option("--by", "by", default=None, help="Who submits (default user@host).")
@click.option("--no-deliver", is_flag=True, help="Only record the submission.")
@click.option("--attempts", default=4, show_default=True, type=click.IntRange(1, 20))
@click.pass_context
def reports_submit(
    ctx: click.Context, report_id: str, by: str | None, no_deliver: bool, attempts: int
) -> None:
    """Mark a validated report submitted, then deliver it (S3 and/or e-mail)."""
    from reports.registry import RegistryError
    from reports.service import default_actor

    settings = _settings(ctx)
    registry = _registry(settings)
    try:
        record = registry.find(report_id)
        record = registry.set_status(record.report_id, "submitted", by or default_actor())
    except RegistryError as exc:
        raise _fail(exc) from exc
    click.echo(
        f"submitted {record.report_id} at {record.submitted_at:%Y-%m-%d %H:%M:%S} by "
        f"{record.submitted_by}"
    )
    if not no_deliver and not _deliver(settings, registry, record, attempts):
        sys.exit(2)


@reports.command("reject")
@click.argument("report_id")
@click.option("--reason", required=True)
@click.option("--by", "by", default=None)
@click.pass_context
def reports_reject(ctx: click.Context, report_id: str, reason: str, by: str | None) -> None:
    """Mark a report rejected (by the regulator or an officer), with the reason."""
    from reports.registry import RegistryError
    from reports.service import default_actor

    registry = _registry(_settings(ctx))
    try:
        record = registry.find(report_id)
        registry.set_status(
            record.report_id,
            "rejected",
            by or default_actor(),
            note=f"{reason} ({by or default_actor()})",
        )
    except RegistryError as exc:
        raise _fail(exc) from exc
    click.echo(f"rejected {record.report_id}: {reason}")


@reports.command("deliver")
@click.argument("report_id")
@click.option("--attempts", default=4, show_default=True, type=click.IntRange(1, 20))
@click.pass_context
def reports_deliver(ctx: click.Context, report_id: str, attempts: int) -> None:
    """(Re)deliver a report's files over the configured channels."""
    from reports.registry import RegistryError

    settings = _settings(ctx)
    registry = _registry(settings)
    try:
        record = registry.find(report_id)
    except RegistryError as exc:
        raise _fail(exc) from exc
    if not _deliver(settings, registry, record, attempts):
        sys.exit(2)


@reports.command("due")
@click.option("--hours", default=48, show_default=True, type=click.IntRange(1, 24 * 400))
@click.option("--now", "now_text", default=None, help="Evaluate at this UTC time (ISO).")
@json_option
@click.pass_context
def reports_due(ctx: click.Context, hours: int, now_text: str | None, as_json: bool) -> None:
    """Reports due within HOURS, or overdue however long ago, that are not submitted; exit 1
    when there are any."""
    from reports.deadlines import due_in_home

    settings = _settings(ctx)
    registry = _registry(settings)
    try:
        now = dt.datetime.fromisoformat(now_text) if now_text else dt.datetime.now(dt.UTC)
    except ValueError as exc:
        raise click.BadParameter(
            f"{now_text!r} is not a time like 2025-10-27T06:00", param_hint="--now"
        ) from exc
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    due = due_in_home(
        settings.reports_dir,
        settings.published_db,
        settings.organisation_file,
        registry,
        now,
        dt.timedelta(hours=hours),
    )
    if as_json:
        emit(
            (
                {
                    "definition_id": d.definition_id,
                    "site_id": d.site_id,
                    "period_key": d.period_key,
                    "due_date": d.due_date,
                    "overdue": d.overdue,
                    "hours_left": round(d.hours_left, 2),
                    "days_overdue": d.days_overdue,
                    "status": d.latest_status,
                    "report_id": d.latest_report_id,
                }
                for d in due
            ),
            [],
            title=None,
            as_json=True,
            empty=f"no unsubmitted report is overdue or due within {hours} h",
        )
    else:
        for deadline in due:
            click.echo(deadline.describe())
        if not due:
            click.echo(
                f"no unsubmitted report is overdue or due within {hours} h of "
                f"{now:%Y-%m-%d %H:%M} UTC"
            )
    sys.exit(1 if due else 0)


def reports_folder(settings: Settings) -> Path:
    return settings.reports_dir
