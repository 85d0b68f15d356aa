"""``siteledger run``: the chain as Dagster runs it, shown as it goes and summarised from the
runs' events and metadata. The order of the jobs is :func:`orchestration.runner.run_chain`'s."""

import contextlib
import io
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from cli.output import Col, count, emit
from siteledger.settings import Settings

IMPORT_SUMMARY = [
    Col("layout", kind="word"),
    Col("status", kind="word"),
    *(Col(key, kind="int") for key in ("files", "rows", "imported", "skipped", "quarantined")),
]
# the id names the definition, site, period and version; it is what 'reports show' takes
REPORT_OUTCOMES = [
    Col("id", kind="id"),
    Col(
        "status",
        kind="word",
        derive=lambda r: r["status"] + ("" if r["action"] == "created" else " (unchanged)"),
    ),
    Col("validation", derive=lambda r: "; ".join(r["errors"])),
]

_STEP_LABELS = {
    "raw__readings": "importing landing files into the raw lake",
    "raw__device_readings": "importing spooled device readings",
    "raw__site_config": "exporting the site files",
    "water_models": "dbt build: water balance models and their tests",
    "marts__fct_quality_scores_daily": "quality: VEE scores and Great Expectations suites",
    "warehouse__build": "auditing the build",
    "analytics": "analytics: forecasts, overflow risk, scenarios, anomalies",
    "air_quality_analytics": "air quality: dust-suppression effect, PM10 forecast",
    "warehouse__published": "publishing the warehouse",
}


def _meta(metadata: dict[str, Any]) -> dict[str, Any]:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


class _Progress:
    """A status line naming the step a run is in, read from the run's event log."""

    def __init__(self, console: Console, instance: Any) -> None:
        self.console, self.instance = console, instance
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status: Any = None

    def start(self, job_name: str, run_id: str, label: str) -> None:
        self.stop()
        self._stop.clear()
        self._status = self.console.status(f"{job_name} {label} ...")
        self._status.start()
        self._thread = threading.Thread(
            target=self._follow, args=(job_name, run_id, label), daemon=True
        )
        self._thread.start()

    def _follow(self, job_name: str, run_id: str, label: str) -> None:
        from dagster import DagsterEventType

        t0 = time.perf_counter()
        while not self._stop.wait(0.5):
            try:
                records = self.instance.all_logs(run_id, of_type=DagsterEventType.STEP_START)
            except Exception:  # noqa: S112 — the display never stops a run
                continue
            step = records[-1].step_key if records else None
            doing = _STEP_LABELS.get(step or "", step or "starting")
            self._status.update(
                f"{job_name} {label}: {doing} ... ({time.perf_counter() - t0:.0f} s)"
            )

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
            self._thread = None
        if self._status:
            self._status.stop()
            self._status = None


class RunReport:
    """Renders each finished run: tables from its materialisations, errors from its failures."""

    def __init__(self, console: Console, settings: Settings) -> None:
        self.console, self.settings = console, settings
        self.reports: list[dict[str, Any]] = []
        self.report_seconds = 0.0

    def done(self, run: Any) -> None:
        result = run.result
        latest: dict[str, dict[str, Any]] = {}
        for event in result.get_asset_materialization_events():
            latest[event.asset_key.to_user_string()] = _meta(event.materialization.metadata)
        if "raw/readings" in latest:
            self._imports(latest["raw/readings"])
        if "raw/device_readings" in latest:
            device = latest["raw/device_readings"]
            if device.get("segments"):
                self.console.print(
                    f"device spool: {device['segments']} segments, "
                    f"{count(device['readings_imported'])} readings into the raw lake"
                )
        summary = next((m["dbt_build"] for m in latest.values() if "dbt_build" in m), None)
        seconds = self._step_seconds(result, "water_models")
        if summary is not None and seconds is not None:
            window = f" {run.window[0]}..{run.window[1]}" if run.window else ""
            self.console.print(f"dbt build{window} done in {seconds:.1f} s ({summary})")
        deadlines = latest.get("reports/report_deadlines")
        if deadlines is not None:
            due = deadlines.get("dagster/row_count", 0)
            self.console.print(
                f"reports due within 48 h or overdue, not submitted: {count(due)}"
                + ("  (siteledger reports due)" if due else "")
            )
        alerts = latest.get("alerts/alert_evaluation")
        if alerts is not None:
            opened = ", ".join(f"{n} {sev}" for sev, n in sorted(alerts["open_alerts"].items()))
            self.console.print(
                f"alerts: {alerts['rules']} rules judged {count(alerts['observations'])} "
                f"observations; "
                f"open: {opened or 'none'}; {alerts['notifications']} notifications sent"
                + ("  (siteledger alerts list)" if opened else "")
            )
        scores = latest.get("marts/fct_quality_scores_daily")
        if scores is not None:
            statuses = ", ".join(
                f"{count(n)} {status}" for status, n in sorted(scores["status_counts"].items())
            )
            self.console.print(
                f"quality scores: {count(scores['dagster/row_count'])} rows over "
                f"{scores['days_scored']} days in {scores['seconds']:.1f} s "
                f"({statuses or 'no closed days'})"
            )
        forecasts = latest.get("marts/fct_forecast_status")
        if forecasts is not None:
            registry = latest.get("marts/fct_model_registry", {})
            risk = latest.get("marts/fct_overflow_risk", {})
            anomalies = latest.get("marts/fct_anomalies", {})
            statuses = ", ".join(f"{n} {st}" for st, n in sorted(forecasts["status"].items()))
            self.console.print(
                f"analytics: forecasts {statuses or 'none'} "
                f"({registry.get('trained_this_run', 0)} trainings this run); "
                f"overflow risk {risk.get('dagster/row_count', 0)} rows; "
                f"{anomalies.get('dagster/row_count', 0)} anomalies  (siteledger analytics models)"
            )
            for problem in forecasts.get("problems", []):
                self.console.print(f"  analytics settings: {problem}")
        effect = latest.get("marts/fct_dust_suppression_effect")
        if effect is not None:
            skill = latest.get("marts/fct_air_quality_forecast_skill", {}).get("skill", {})
            shown = ", ".join(f"{v:+.2f} at {h}" for h, v in skill.items())
            self.console.print(
                f"air quality: dust-suppression effect "
                f"{', '.join(f'{n} {st}' for st, n in sorted(effect.get('status', {}).items()))}"
                f"; PM10 forecast skill against persistence {shown or 'not measured'}"
            )
        published = latest.get("warehouse/published")
        if published is not None:
            tables = published["tables"]
            self.console.print(
                f"published warehouse version {published['version_id']}: {len(tables)} tables, "
                f"{count(sum(tables.values()))} rows"
            )
            print_monthly_balance(self.console, self.settings.published_db)
        for key, meta in latest.items():
            if key.startswith(("reports/compliance_report_", "reports/energy_report_")):
                self.reports += meta["reports"]
                self.report_seconds += run.seconds
        if not result.success:
            self._failed(run)

    @staticmethod
    def _step_seconds(result: Any, step_key: str) -> float | None:
        for event in result.get_step_success_events():
            if event.step_key == step_key:
                return event.event_specific_data.duration_ms / 1000
        return None

    def _imports(self, meta: dict[str, Any]) -> None:
        for site_id, site in meta.get("sites", {}).items():
            self.console.print(
                f"{site_id}: {site['files']} files, {count(site['readings'])} readings into the "
                f"raw lake in {meta.get('seconds', 0):.1f} s"
            )
        emit(
            meta.get("import_jobs", []),
            IMPORT_SUMMARY,
            title="Import jobs",
            empty="no files in the landing folder to import",
            console=self.console,
        )
        for problem in meta.get("problems", []):
            self.console.print(
                f"  {problem['status']}: {problem['file']} — {problem['reason']}", markup=False
            )

    def print_reports(self) -> None:
        if not self.reports:
            return
        created = [r for r in self.reports if r["action"] == "created"]
        emit(
            self.reports,
            REPORT_OUTCOMES,
            title=f"Reports ({count(len(created))} generated, "
            f"{count(len(self.reports) - len(created))} unchanged, {self.report_seconds:.1f} s)",
            empty="no report to render",
            console=self.console,
        )

    def _failed(self, run: Any) -> None:
        result = run.result
        failed_audits = [
            e
            for e in result.get_asset_check_evaluations()
            if not e.passed and e.asset_key.to_user_string() == "warehouse/build"
        ]
        if failed_audits:
            serving = ""
            for evaluation in failed_audits:
                meta = _meta(evaluation.metadata)
                serving = meta.get("serving_version_id") or serving
                click.echo(f"audit failed: {evaluation.check_name}: {meta['detail']}", err=True)
                for row in meta.get("rows", [])[:10]:
                    click.echo(f"    {row}", err=True)
            raise click.ClickException(
                "the build failed its audits and was not published; version "
                f"{serving or '(nothing published yet)'} still serves readers "
                "(see 'siteledger quality audits')"
            )
        messages = run.failures()
        for step, text in messages:
            click.echo(f"{run.job_name} step {step} failed:\n{text[-6000:]}", err=True)
        step, text = messages[0] if messages else ("(run)", "the run failed")
        hint = ""
        if "out of sync" in text:
            # an upgrade added columns to an incremental model this home has built before
            hint = "; the models' columns changed: run 'siteledger run --full-refresh' once"
        raise click.ClickException(
            f"{run.job_name} failed in step {step} (run {result.run_id}); the published "
            f"warehouse was left as it was{hint}"
        )


def run_main_job(
    console: Console,
    settings: Settings,
    start_day: str | None,
    end_day: str | None,
    full_refresh: bool = False,
) -> None:
    """Run the chain through Dagster and render it; raises ClickException when a run failed."""
    from orchestration.runner import instance_for, run_chain

    # dbt's own log goes to the run's compute logs and, in a terminal, would bury the summary:
    # this process's stdout is silenced for the run and the summary goes to the real one
    out = sys.stdout
    console = Console(file=out, highlight=False, width=None if out.isatty() else console.width)
    instance = instance_for(settings)
    progress = _Progress(console, instance)
    report = RunReport(console, settings)

    def done(run: Any) -> None:
        progress.stop()
        report.done(run)

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            chain = run_chain(
                settings,
                start_day,
                end_day,
                full_refresh,
                instance=instance,
                on_start=progress.start,
                on_done=done,
            )
    finally:
        progress.stop()
    for note in chain.notes:
        console.print(f"note: {note}")
    report.print_reports()
    console.print(
        f"{len(chain.runs)} Dagster run(s) recorded in {settings.dagster_home} "
        f"(siteledger --home {settings.home} ui)",
        markup=False,
    )


def print_monthly_balance(console: Console, published: Path) -> None:
    import duckdb

    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(
            "select site_id, strftime(month_start, '%Y-%m'), n_days - n_days_incomplete, "
            "inputs_m3, outputs_m3, "
            "storage_change_m3, closure_error_m3, closure_error_pct, closure_status, "
            "input_measured_pct, water_intensity_m3_per_t "
            "from fct_site_balance_monthly where n_days_incomplete < n_days "
            "order by site_id, month_start"
        ).fetchall()
    labels = {"within_threshold": "closed", "exceeds_threshold": "EXCEEDS"}
    keys = (
        *("site_id", "month", "days", "inputs_m3", "outputs_m3", "storage_change_m3"),
        *("closure_error_m3", "closure_error_pct", "closure_status", "input_measured_pct"),
        "water_intensity_m3_per_t",
    )
    emit(
        (dict(zip(keys, row, strict=True)) for row in rows),
        [
            Col("site_id", "site", "word"),
            Col("month", kind="word"),
            Col("days", kind="int"),
            Col("inputs_m3", "inputs", "num"),
            Col("outputs_m3", "outputs", "num"),
            Col("storage_change_m3", "Δ storage", "num"),
            Col("closure_error_m3", "closure", "num"),
            Col("closure_error_pct", "closure %", "num", 2),
            Col(
                "closure_status",
                "status",
                "word",
                derive=lambda r: labels.get(r["closure_status"], r["closure_status"]),
            ),
            Col("input_measured_pct", "measured %", "num", 1),
            Col("water_intensity_m3_per_t", "m3/t ore", "num", 3),
        ],
        title="Site water balance by month (m3)",
        empty=f"no complete month in {published}",
        console=console,
    )
