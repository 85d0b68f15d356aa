"""``siteledger analytics``: the forecast models and their backtests, retraining (through
Dagster, so the UI shows it), and the published forecasts, overflow risk and anomalies."""

from __future__ import annotations

from typing import Any

import click
import duckdb
import pandas as pd

from cli.output import Col, Kind, emit, json_option, make_console, nothing_matched
from siteledger.settings import Settings
from siteledger.state import StateStore

console = make_console()


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    settings.ensure_dirs()
    return settings


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


def _kind(frame: pd.DataFrame, column: str) -> Kind:
    kind = frame[column].dtype.kind
    if kind in "iu":
        return "int"
    if kind == "f":
        return "num"
    if kind == "M":
        return "text"
    return "id" if column.endswith("_id") else "word" if column in WORDS else "text"


def _cell(value: Any) -> Any:
    """A timestamp at midnight is a day."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date()
    return value


def _print(
    frame: pd.DataFrame,
    title: str,
    *,
    empty: str,
    as_json: bool = False,
    percent: tuple[str, ...] = (),
    headings: dict[str, str] | None = None,
) -> None:
    """A frame as a table (``percent`` columns are shares shown as %, ``headings`` rename
    columns) or as JSON lines keyed by the frame's own column names."""
    headings = headings or {}
    columns = [
        Col(
            column,
            headings.get(column, column),
            "num" if column in percent else _kind(frame, column),
            1 if column in percent else 2,
            100.0 if column in percent else 1.0,
        )
        for column in frame.columns
    ]
    rows = [
        {column: _cell(value) for column, value in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False)
    ]
    emit(rows, columns, title=title, as_json=as_json, empty=empty)


# short tokens kept on one line
WORDS = {"metric", "status", "pattern", "unit", "site", "trained", "next_retrain", "train_end"}

RISK_HEADINGS = {
    "p_above_80": "above 80 % full",
    "p_above_100": "spill",
    "p_below_20": "below 20 % full",
}


@click.group()
def analytics() -> None:
    """Forecast models, retraining, forecasts, overflow risk and anomalies."""


MODEL_KEYS = (
    *("model_id", "series_id", "site_id", "target", "model_type", "status", "reason"),
    *("train_start", "train_end", "n_obs", "backtest_mase", "backtest_mape"),
    *("backtest_within_10pct_share", "backtest_coverage_80", "backtest_coverage_95"),
    *("trained_at", "next_retrain_at", "is_current"),
)
MODEL_COLUMNS = [
    Col("series_id", "series", "id"),
    Col("model_type", "model", "word"),
    Col("status", kind="word"),
    Col("train_end", "train end", "day"),
    Col("backtest_mase", "MASE", "num", 2),
    Col("backtest_within_10pct_share", "±10 % days %", "num", 1, 100.0),
    Col("backtest_coverage_80", "80 % cover %", "num", 1, 100.0),
    Col("backtest_coverage_95", "95 % cover %", "num", 1, 100.0),
    Col("trained_at", "trained", "day"),
    Col("next_retrain_at", "next retrain", "day"),
]


@analytics.command("models")
@click.option("--site", "site_id", default=None, help="Only this site's models.")
@click.option("--all", "show_all", is_flag=True, help="Every training, not only the current.")
@json_option
@click.pass_context
def analytics_models(
    ctx: click.Context, site_id: str | None, show_all: bool, as_json: bool = False
) -> None:
    """The model registry: each series' model (the id ``analytics forecast`` takes), its
    backtest and when it is retrained."""
    from ml.registry import ModelRegistry

    settings = _settings(ctx)
    registry = ModelRegistry(StateStore(settings.state_store_url))
    frame = registry.frame()
    if not show_all and not frame.empty:
        frame = frame[frame["is_current"]]
    if site_id and not frame.empty:
        frame = frame[frame["site_id"] == site_id]
    if not frame.empty:
        frame = frame.sort_values(["series_id", "trained_at"])
    rows = [
        {key: _cell(getattr(row, key)) for key in MODEL_KEYS}
        for row in frame.itertuples(index=False)
    ]
    emit(
        rows,
        MODEL_COLUMNS,
        title="forecast models (rolling-origin backtests)",
        as_json=as_json,
        empty=nothing_matched(
            "forecast models", {"site": site_id, "trainings": "all" if show_all else "current"}
        )
        + ": 'siteledger run' trains them",
    )
    if not as_json:
        for row in rows:
            if row["status"] != "ok":
                console.print(f"{row['series_id']}: {row['status']}: {row['reason']}", markup=False)


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
@json_option
@click.pass_context
def analytics_risk(ctx: click.Context, site_id: str | None, as_json: bool) -> None:
    """Overflow and shortage probabilities of every store, as last published."""
    frame = _published(
        _settings(ctx),
        "select site_id, node_id, as_of, horizon_days, p_above_80, p_above_100, p_below_20, "
        "status from fct_overflow_risk where ? is null or site_id = ? "
        "order by site_id, node_id, horizon_days",
        [site_id, site_id],
    )
    _print(
        frame,
        "overflow and shortage risk, % chance",
        empty=nothing_matched("stores with a published risk", {"site": site_id}),
        as_json=as_json,
        percent=tuple(RISK_HEADINGS),
        headings=RISK_HEADINGS,
    )


@analytics.command("forecast")
@click.argument("series")
@click.option("--every", default=7, show_default=True, help="Show every Nth day.")
@json_option
@click.pass_context
def analytics_forecast(ctx: click.Context, series: str, every: int, as_json: bool) -> None:
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
    _print(
        frame,
        f"forecast of {series}",
        empty=nothing_matched("forecast days", {"series": series, "every": every}),
        as_json=as_json,
    )


@analytics.command("anomalies")
@click.option("--site", "site_id", default=None)
@click.option("--min-severity", default=1, show_default=True, type=click.IntRange(1, 5))
@json_option
@click.pass_context
def analytics_anomalies(
    ctx: click.Context, site_id: str | None, min_severity: int, as_json: bool
) -> None:
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
    _print(
        frame[keep],
        "anomalies",
        empty=nothing_matched("anomalies", {"site": site_id, "min severity": min_severity}),
        as_json=as_json,
    )
