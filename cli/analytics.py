"""``siteledger analytics``: the forecast models and their backtests, retraining (through
Dagster, so the UI shows it), and the published forecasts, overflow risk and anomalies."""

from __future__ import annotations

import sys
from typing import Any

import click
import duckdb
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from siteledger.settings import Settings
from siteledger.state import StateStore

console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    settings.ensure_dirs()
    return settings


def _fmt(value: Any, scale: float = 1.0, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat(" ")
    if isinstance(value, (int, np.integer)) and scale == 1.0:
        return str(int(value))
    if isinstance(value, (int, float, np.number)):
        return f"{float(value) * scale:.{digits}f}"
    return str(value)


def _published(settings: Settings, query: str, params: list[Any]) -> pd.DataFrame:
    if not settings.published_db.exists():
        raise click.ClickException("nothing published yet: run 'siteledger run' first")
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        try:
            return con.execute(query, params).df()
        except duckdb.CatalogException as exc:
            raise click.ClickException(
                "the published warehouse has no analytics yet: run 'siteledger run'"
            ) from exc


def _print(frame: pd.DataFrame, title: str, percent: tuple[str, ...] = ()) -> None:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(column, justify="right" if frame[column].dtype.kind in "fi" else "left")
    for row in frame.itertuples(index=False):
        table.add_row(
            *[
                _fmt(value, 100.0, 1) if column in percent else _fmt(value)
                for column, value in zip(frame.columns, row, strict=True)
            ]
        )
    console.print(table)


RISK_HEADINGS = {
    "p_above_80": "above 80 % full",
    "p_above_100": "spill",
    "p_below_20": "below 20 % full",
}


@click.group()
def analytics() -> None:
    """Forecast models, retraining, forecasts, overflow risk and anomalies."""


@analytics.command("models")
@click.option("--site", "site_id", default=None, help="Only this site's models.")
@click.option("--all", "show_all", is_flag=True, help="Every training, not only the current.")
@click.pass_context
def analytics_models(ctx: click.Context, site_id: str | None, show_all: bool) -> None:
    """The model registry: each series' model, its backtest and when it is retrained."""
    from ml.registry import ModelRegistry

    settings = _settings(ctx)
    registry = ModelRegistry(StateStore(settings.state_store_url))
    frame = registry.frame()
    if not show_all and not frame.empty:
        frame = frame[frame["is_current"]]
    if site_id:
        frame = frame[frame["site_id"] == site_id]
    if frame.empty:
        console.print("no models trained yet: 'siteledger run' trains them")
        return
    parts = frame["series_id"].str.split("/", expand=True)
    frame = frame.assign(
        site=parts[0],
        scope_id=parts[2],
        metric=parts[3],
        trained=pd.to_datetime(frame["trained_at"]).dt.strftime("%Y-%m-%d"),
        next_retrain=pd.to_datetime(frame["next_retrain_at"]).dt.strftime("%Y-%m-%d"),
    ).sort_values(["site", "scope_id", "metric", "trained"])
    shown = frame[
        [
            "site",
            "scope_id",
            "metric",
            "status",
            "train_end",
            "backtest_mase",
            "backtest_within_10pct_share",
            "backtest_coverage_80",
            "backtest_coverage_95",
            "trained",
            "next_retrain",
        ]
    ].rename(
        columns={
            "scope_id": "store / site",
            "backtest_mase": "MASE",
            "backtest_within_10pct_share": "±10 % days %",
            "backtest_coverage_80": "80 % cover %",
            "backtest_coverage_95": "95 % cover %",
        }
    )
    _print(
        shown,
        "forecast models (rolling-origin backtests)",
        percent=("±10 % days %", "80 % cover %", "95 % cover %"),
    )
    failing = frame[frame["status"] != "ok"]
    for row in failing.itertuples(index=False):
        console.print(f"{row.series_id}: {row.status}: {row.reason}")


@analytics.command("check")
@click.pass_context
def analytics_check(ctx: click.Context) -> None:
    """Validate the home's analytics.yaml and scenario files; every problem as file:line."""
    from ml.service import load_home_scenarios
    from ml.settings import SETTINGS_FILE, SiteConfigError, load_analytics_settings

    settings = _settings(ctx)
    problems: list[str] = []
    try:
        cfg = load_analytics_settings(settings.home)
    except SiteConfigError as exc:
        problems.extend(str(p) for p in exc.problems)
    else:
        scenarios, scenario_problems = load_home_scenarios(settings, cfg)
        problems.extend(scenario_problems)
        targets = ", ".join(f"{t.name} ({t.horizon_days} d)" for t in cfg.forecasts.targets)
        click.echo(f"forecast targets: {targets}")
        click.echo(f"scenarios: {', '.join(s.id for s in scenarios) or '(none)'}")
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in the analytics settings")
    path = settings.home / SETTINGS_FILE
    click.echo(f"{path}: ok" if path.exists() else f"no {SETTINGS_FILE}: the defaults apply")


@analytics.command("retrain")
@click.pass_context
def analytics_retrain(ctx: click.Context) -> None:
    """Retrain every forecast model now and publish (the model_retrain_job, through Dagster)."""
    from orchestration.runner import run_job

    run = run_job(_settings(ctx), "model_retrain_job")
    if not run.success:
        for step, text in run.failures():
            click.echo(f"model_retrain_job step {step} failed:\n{text[-6000:]}", err=True)
        raise click.ClickException("the retrain failed; see the run in the Dagster UI")
    ctx.invoke(analytics_models)


@analytics.command("risk")
@click.option("--site", "site_id", default=None)
@click.pass_context
def analytics_risk(ctx: click.Context, site_id: str | None) -> None:
    """Overflow and shortage probabilities of every store, as last published."""
    frame = _published(
        _settings(ctx),
        "select site_id, node_id, as_of, horizon_days, p_above_80, p_above_100, p_below_20, "
        "status from fct_overflow_risk where ? is null or site_id = ? "
        "order by site_id, node_id, horizon_days",
        [site_id, site_id],
    )
    frame = frame.rename(columns=RISK_HEADINGS)
    _print(frame, "overflow and shortage risk, % chance", percent=tuple(RISK_HEADINGS.values()))


@analytics.command("forecast")
@click.argument("series")
@click.option("--every", default=7, show_default=True, help="Show every Nth day.")
@click.pass_context
def analytics_forecast(ctx: click.Context, series: str, every: int) -> None:
    """The published forecast of SERIES (a series id, or a store or site id)."""
    frame = _published(
        _settings(ctx),
        "select series_id, day, horizon_day, mean, lo80, hi80, lo95, hi95, unit "
        "from fct_forecast_daily where series_id = ? or scope_id = ? "
        "order by series_id, day",
        [series, series],
    )
    if frame.empty:
        raise click.ClickException(f"no published forecast for {series!r}")
    frame = frame[(frame["horizon_day"] - 1) % max(every, 1) == 0]
    _print(frame, f"forecast of {series}")


@analytics.command("anomalies")
@click.option("--site", "site_id", default=None)
@click.option("--min-severity", default=1, show_default=True, type=click.IntRange(1, 5))
@click.pass_context
def analytics_anomalies(ctx: click.Context, site_id: str | None, min_severity: int) -> None:
    """Published anomalies, most severe first."""
    frame = _published(
        _settings(ctx),
        "select * from fct_anomalies where (? is null or site_id = ?) and severity >= ? "
        "order by severity desc, day desc limit 200",
        [site_id, site_id, min_severity],
    )
    keep = [
        c
        for c in (
            "series_id",
            "day",
            "value",
            "expected",
            "deviation_sigma",
            "pattern",
            "severity",
            "suggested_cause",
        )
        if c in frame.columns
    ]
    _print(frame[keep], "anomalies")
