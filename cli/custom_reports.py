"""``siteledger reports custom`` and ``siteledger reports preview``: a report from a custom
template (``docs/custom-reports.md``), registered like the shipped ones, or a PNG of each page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cli.reports import reports
from siteledger.settings import Settings
from siteledger.state import StateStore

_PERIOD_HELP = (
    "2025-07, FY2026-Q1, FY2026, 2026-W10, 2025-07-01..2025-07-15, last_month, last_quarter, "
    "last_financial_year ... (default: the template's period)"
)


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _today(text: str | None) -> dt.date | None:
    try:
        return None if text is None else dt.date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _errors() -> tuple[type[Exception], ...]:
    from reports.custom.data import CustomDataError
    from reports.custom.model import TemplateError
    from reports.custom.service import CustomReportError

    return (TemplateError, CustomReportError, CustomDataError)


def _template_command(name: str, out_help: str) -> Callable[[Callable[..., None]], click.Command]:
    """A ``reports`` subcommand on a custom TEMPLATE with --period, --site, --out, --today."""

    def wrap(fn: Callable[..., None]) -> click.Command:
        decorators: tuple[Callable[[Any], Any], ...] = (
            click.argument("template"),
            click.option("--period", "period", default=None, help=_PERIOD_HELP),
            click.option("--site", "sites", multiple=True, help="Only this site (repeatable)."),
            click.option(
                "--out",
                "out_dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help=out_help,
            ),
            click.option(
                "--today", "today", default=None, help="Resolve last_month etc. from this date."
            ),
            click.pass_context,
        )
        for decorate in reversed(decorators):
            fn = decorate(fn)
        return reports.command(name)(fn)

    return wrap


@_template_command("custom", "Write the files here (default: the home's reports folder).")
def reports_custom(
    ctx: click.Context,
    template: str,
    period: str | None,
    sites: tuple[str, ...],
    out_dir: Path | None,
    today: str | None,
) -> None:
    """Render the custom report TEMPLATE (a path, or a name from the template library) to PDF
    and Excel, and register it (``custom:<name>``)."""
    from reports.custom.service import find_template, generate
    from reports.service import default_actor

    settings = _settings(ctx)
    settings.ensure_dirs()
    try:
        path = find_template(template, settings)
        outcomes = generate(
            settings,
            StateStore(settings.state_store_url),
            path,
            period,
            out_dir=out_dir,
            generated_by=default_actor(),
            today=_today(today),
            sites=list(sites) or None,
        )
    except _errors() as exc:
        raise click.ClickException(str(exc)) from None
    failed = False
    for o in outcomes:
        click.echo(
            f"{o.record.report_id}  {o.site_id}  {o.period_key}  v{o.record.version}  {o.action}"
            f"  {o.record.status}"
        )
        for fmt, artifact in sorted(o.artifacts.items()):
            click.echo(f"  {fmt}: {artifact['path']}  sha256 {artifact['sha256'][:16]}")
        for error in o.errors:
            failed = True
            click.echo(f"  error: {error}")
        if o.refused_urls:
            click.echo(f"  refused to fetch: {', '.join(o.refused_urls[:5])}")
    if failed:
        raise SystemExit(1)


@_template_command("preview", "Folder for the PNG files (default: ./preview).")
def reports_preview(
    ctx: click.Context,
    template: str,
    period: str | None,
    sites: tuple[str, ...],
    out_dir: Path | None,
    today: str | None,
) -> None:
    """A PNG of every page of the custom report TEMPLATE, for a quick look (nothing is
    registered); prints the files' paths."""
    from reports.custom.service import find_template, preview

    settings = _settings(ctx)
    try:
        path = find_template(template, settings)
        pngs = preview(
            settings,
            path,
            period,
            out_dir or Path("preview"),
            today=_today(today),
            sites=list(sites) or None,
        )
    except _errors() as exc:
        raise click.ClickException(str(exc)) from None
    for png in pngs:
        click.echo(str(png))
