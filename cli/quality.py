"""``siteledger quality``: VEE flags, quality scores, the audits that gate publishing.

Commands call the ``quality`` package and the warehouse; nothing here computes anything itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.output import Col, emit, json_option, make_console, nothing_matched
from siteledger.settings import Settings
from siteledger.state import StateStore

console = make_console()


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _store(settings: Settings) -> StateStore:
    settings.ensure_dirs()
    return StateStore(settings.state_store_url)


def _echo_failures(failures: list[dict[str, Any]]) -> None:
    for failure in failures:
        click.echo(f"audit failed: {failure['name']}: {failure['detail']}", err=True)
        for row in failure.get("rows", [])[:10]:
            click.echo(f"    {row}", err=True)


@click.group()
def quality() -> None:
    """Data quality: VEE flags, scores, Data Docs and the audits before publishing."""


@quality.command("score")
@click.option("--start-day", help="first site-local day to score (YYYY-MM-DD)")
@click.option("--end-day", help="last site-local day to score (YYYY-MM-DD)")
@click.option("--no-docs", is_flag=True, help="skip building the Data Docs")
@click.pass_context
def quality_score(
    ctx: click.Context, start_day: str | None, end_day: str | None, no_docs: bool
) -> None:
    """Score the build warehouse (after a dbt build) and write the quality marts into it."""
    from quality.scoring import score_build

    settings = _settings(ctx)
    if not (settings.build_db).exists():
        raise click.ClickException("no build warehouse yet: run 'siteledger run' first")
    result = score_build(settings, start_day, end_day, data_docs=not no_docs)
    console.print(
        f"{result.n_rows:,} score rows over {result.n_days} days in {result.seconds:.1f} s: "
        + ", ".join(f"{n:,} {s}" for s, n in sorted(result.by_status.items()))
    )
    if result.data_docs:
        click.echo(f"Data Docs: {result.data_docs}")


@quality.command("audit")
@click.pass_context
def quality_audit(ctx: click.Context) -> None:
    """Run the publish audits on the build warehouse now (publishes nothing)."""
    from quality.audit import audit_build
    from siteledger.dbt import manifest_path

    settings = _settings(ctx)
    build_db = settings.build_db
    if not build_db.exists():
        raise click.ClickException("no build warehouse yet: run 'siteledger run' first")
    checks = audit_build(build_db, manifest_path(settings))
    emit(
        [
            {"audit": c.name, "result": "pass" if c.passed else "FAIL", "detail": c.detail}
            for c in checks
        ],
        [Col("audit", kind="id"), Col("result", kind="word"), Col("detail")],
        title="Publish audits of the build warehouse",
        empty=nothing_matched("publish audits", {}),
        console=console,
    )
    _echo_failures([c.as_dict() for c in checks if not c.passed])
    if not all(c.passed for c in checks):
        ctx.exit(1)


AUDIT_COLUMNS = [
    Col("audit_id", "audit", "id"),
    Col("audited_at", "at (UTC)", "time"),
    Col(
        "outcome",
        kind="word",
        derive=lambda r: "passed" if r["outcome"] == "passed" else "REJECTED",
    ),
    Col("version_id", "version", "id"),
    Col("serving_version_id", "serving before", "id"),
    Col("failed_audits", "failed audits"),
]


@quality.command("audits")
@click.option("--limit", default=20, show_default=True, type=int)
@json_option
@click.pass_context
def quality_audits(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Recorded audits before publishing, newest first: published or rejected, and why."""
    settings = _settings(ctx)
    audits = _store(settings).publish_audits(limit)
    rows = [
        {
            "audit_id": audit.audit_id,
            "audited_at": audit.audited_at,
            "outcome": audit.outcome,
            "version_id": audit.version_id,
            "serving_version_id": audit.serving_version_id,
            "failed_audits": ", ".join(f["name"] for f in audit.failures),
            "failures": audit.failures,
        }
        for audit in audits
    ]
    emit(
        rows,
        AUDIT_COLUMNS,
        title="Audits before publishing",
        as_json=as_json,
        empty=nothing_matched("publish audits", {}, str(settings.home)),
        console=console,
    )
    if as_json:
        return
    # reasons as plain lines, never wrapped: they hold keys an operator copies
    for audit in audits:
        for failure in audit.failures:
            click.echo(f"{audit.audit_id} REJECTED {failure['name']}: {failure['detail']}")
            for row in failure.get("rows", [])[:10]:
                click.echo(f"    {row}")


def _published(settings: Settings) -> Path:
    path = settings.published_db
    if not path.exists():
        raise click.ClickException("nothing is published yet: run 'siteledger run' first")
    return path


@quality.command("scores")
@click.option("--site", "site_id", help="one site id")
@click.option("--scope", type=click.Choice(["meter", "node", "site"]), default="site")
@click.option("--day", help="one site-local day (YYYY-MM-DD)")
@click.option("--below", type=float, default=None, help="only rows scoring below this")
@json_option
@click.pass_context
def quality_scores(
    ctx: click.Context,
    site_id: str | None,
    scope: str,
    day: str | None,
    below: float | None,
    as_json: bool,
) -> None:
    """Quality scores from the published warehouse."""
    import duckdb

    clauses: list[str] = ["scope = ?"]
    params: list[Any] = [scope]
    if site_id:
        clauses.append("site_id = ?")
        params.append(site_id)
    if day:
        clauses.append("day = cast(? as date)")
        params.append(day)
    if below is not None:
        clauses.append("overall_score < ?")
        params.append(below)
    with duckdb.connect(str(_published(_settings(ctx))), read_only=True) as con:
        rows = con.execute(
            "select site_id, day, scope_id, completeness_score, validity_score, "  # noqa: S608
            "timeliness_score, consistency_score, redundancy_score, overall_score, status, "
            f"failing_expectations from fct_quality_scores_daily where {' and '.join(clauses)} "
            "order by site_id, day, scope_id",
            params,
        ).fetchall()
    keys = (
        "site_id",
        "day",
        "scope_id",
        "completeness_score",
        "validity_score",
        "timeliness_score",
        "consistency_score",
        "redundancy_score",
        "overall_score",
        "status",
        "failing_expectations",
    )
    emit(
        [dict(zip(keys, row, strict=True)) for row in rows],
        [
            Col("site_id", "site", "word"),
            Col("day", kind="day"),
            Col("scope_id", scope, "id"),
            Col("completeness_score", "complete", "num", 1),
            Col("validity_score", "valid", "num", 1),
            Col("timeliness_score", "timely", "num", 1),
            Col("consistency_score", "consistent", "num", 1),
            Col("redundancy_score", "redundant", "num", 1),
            Col("overall_score", "overall", "num", 1),
            Col("status", kind="word"),
            Col("failing_expectations", "failing expectations"),
        ],
        title=f"Quality scores by {scope} and day",
        as_json=as_json,
        empty=nothing_matched(
            "quality scores", {"scope": scope, "site": site_id, "day": day, "below": below}
        ),
        console=console,
    )


@quality.command("flags")
@click.option("--site", "site_id", help="one site id")
@click.option("--meter", "meter_id", help="one meter id")
@click.option("--day", help="one site-local day (YYYY-MM-DD)")
@click.option("--flag", help="one flag (spike, gap, flat_line, ...)")
@click.option("--limit", default=200, show_default=True, type=int)
@json_option
@click.pass_context
def quality_flags(
    ctx: click.Context,
    site_id: str | None,
    meter_id: str | None,
    day: str | None,
    flag: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """VEE flags per reading from the published warehouse (estimates beside them)."""
    import duckdb

    clauses, params = ["true"], []
    for column, value in (("site_id", site_id), ("meter_id", meter_id), ("flag", flag)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if day:
        clauses.append("day = cast(? as date)")
        params.append(day)
    with duckdb.connect(str(_published(_settings(ctx))), read_only=True) as con:
        rows = con.execute(
            "select site_id, meter_id, ts_utc, flag, severity, value, estimated_value, "  # noqa: S608
            f"estimation_method, detail from fct_reading_flags where {' and '.join(clauses)} "
            f"order by site_id, meter_id, ts_utc, flag limit {int(limit)}",
            params,
        ).fetchall()
    keys = (
        "site_id",
        "meter_id",
        "ts_utc",
        "flag",
        "severity",
        "value",
        "estimated_value",
        "estimation_method",
        "detail",
    )
    emit(
        [dict(zip(keys, row, strict=True)) for row in rows],
        [
            Col("site_id", "site", "word"),
            Col("meter_id", "meter", "id"),
            Col("ts_utc", "time (UTC)", "time"),
            Col("flag", kind="word"),
            Col("severity", kind="word"),
            Col("value", kind="word", derive=lambda r: _general(r["value"])),
            Col(
                "estimated_value",
                "estimate",
                "word",
                derive=lambda r: _general(r["estimated_value"]),
            ),
            Col("estimation_method", "method", "word"),
            Col("detail"),
        ],
        title="VEE flags",
        as_json=as_json,
        empty=nothing_matched(
            "VEE flags", {"site": site_id, "meter": meter_id, "day": day, "flag": flag}
        ),
        console=console,
    )


def _general(value: float | None) -> str:
    """A reading as recorded (shortest form, no rounding to a fixed number of decimals)."""
    return "" if value is None else f"{value:g}"


@quality.command("docs")
@click.pass_context
def quality_docs(ctx: click.Context) -> None:
    """Print where the Data Docs of the latest scoring run are."""
    from quality.scoring import data_docs_dir

    index = data_docs_dir(_settings(ctx)) / "index.html"
    if not index.exists():
        raise click.ClickException("no Data Docs yet: run 'siteledger run' or 'quality score'")
    click.echo(str(index))
