"""The alert sensors and schedule, evaluated against a real Dagster instance with real runs:
a failed asset check in a real ``materialize`` raises one alert and one notification, retries
and repeats raise nothing new, a pass resolves it; failed runs alert once per original run; the
dead-man's switch; the evaluation sensor and schedule ask for the evaluation job."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    DagsterInstance,
    Definitions,
    MaterializeResult,
    RunRequest,
    asset,
    asset_check,
    build_schedule_context,
    build_sensor_context,
    materialize,
)

from alerts.state import AlertStore
from orchestration.alerts.jobs import alert_evaluation_schedule
from orchestration.alerts.platform import overdue_rows
from orchestration.alerts.sensors import (
    alert_evaluation_sensor,
    build_platform_alerts_sensor,
    platform_alerts_sensor,
)
from orchestration.keys import PUBLISHED
from orchestration.resources import SiteledgerHome
from siteledger.settings import Settings
from siteledger.state import StateStore
from tests.alerts.servers import HttpReceiver
from tests.alerts.test_channels import WEBHOOK_SECRET, verify_standard_webhook

pytestmark = [pytest.mark.integration]

STATE = {"check_passes": False, "fail_run": False}


@asset(key=AssetKey(["test", "levels"]))
def levels() -> MaterializeResult:
    if STATE["fail_run"]:
        raise RuntimeError("the level feed is down")
    return MaterializeResult(metadata={"rows": 3})


@asset_check(asset=levels, name="levels_are_plausible", blocking=False)
def levels_are_plausible() -> AssetCheckResult:
    return AssetCheckResult(
        passed=STATE["check_passes"],
        severity=AssetCheckSeverity.ERROR,
        description="3 levels above the dam's crest",
    )


@asset(key=AssetKey(["test", "other"]))
def other() -> None:
    return None


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_HOOK_SECRET", WEBHOOK_SECRET)
    STATE.update(check_passes=False, fail_run=False)
    with HttpReceiver() as hook:
        settings = Settings(home=tmp_path / "home")
        settings.ensure_dirs()
        (settings.home / "alerts").mkdir()
        (settings.home / "alerts" / "channels.yaml").write_text(
            "channels:\n"
            f"  hook: {{kind: webhook, url: '{hook.url}', secret_env: TEST_HOOK_SECRET}}\n"
            "defaults:\n  channels: [hook]\n"
        )
        yield settings, hook


def _instance(settings: Settings) -> DagsterInstance:
    """A SQLite instance like a home's (run-sharded event log), not an in-memory one."""
    folder = settings.home / "dagster"
    folder.mkdir(exist_ok=True)
    return DagsterInstance.local_temp(str(folder))


def _tick(sensor, instance: DagsterInstance, settings: Settings, cursor: str | None):  # type: ignore[no-untyped-def]
    repository = Definitions(assets=[levels, other], asset_checks=[levels_are_plausible])
    with build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"siteledger": SiteledgerHome(home=str(settings.home))},
        repository_def=repository.get_repository_def(),
    ) as context:
        result = sensor(context)
        return result, context.cursor


def _alerts(hook: HttpReceiver) -> list[tuple[str, str, str]]:
    out = []
    for request in hook.requests:
        verify_standard_webhook(
            WEBHOOK_SECRET, request.headers, request.body, dt.datetime.now(dt.UTC).timestamp()
        )
        out += [
            (a["rule_id"], a["status"], a["labels"]["subject"])
            for a in request.json()["data"]["alerts"]
        ]
    return out


def test_a_failed_check_raises_one_alert_and_one_notification_and_a_pass_resolves_it(home):  # type: ignore[no-untyped-def]
    settings, hook = home
    subject = "test/levels:levels_are_plausible"
    with _instance(settings) as instance:
        materialize([levels, levels_are_plausible], instance=instance)
        reason, cursor = _tick(platform_alerts_sensor, instance, settings, None)
        assert "1 check results" in str(reason.skip_message)
        assert _alerts(hook) == [("asset_check_failed", "firing", subject)]
        # the same check failing again (a retry, the next run) is the same alert: nothing new
        materialize([levels, levels_are_plausible], instance=instance)
        _, cursor = _tick(platform_alerts_sensor, instance, settings, cursor)
        assert len(hook.requests) == 1
        # a tick with nothing new sends nothing either
        _, cursor = _tick(platform_alerts_sensor, instance, settings, cursor)
        assert len(hook.requests) == 1
        # the check passes: the alert resolves, one resolution message
        STATE["check_passes"] = True
        materialize([levels, levels_are_plausible], instance=instance)
        _, cursor = _tick(platform_alerts_sensor, instance, settings, cursor)
        assert _alerts(hook)[1:] == [("asset_check_failed", "resolved", subject)]
    store = StateStore(settings.state_store_url)
    (event,) = AlertStore(store).events()
    assert (event.rule_id, event.state, event.severity) == (
        "asset_check_failed",
        "resolved",
        "critical",
    )
    store.dispose()


def test_a_failed_run_alerts_once_and_a_sensor_scoped_elsewhere_stays_quiet(home):  # type: ignore[no-untyped-def]
    settings, hook = home
    STATE.update(check_passes=True, fail_run=True)
    scoped = build_platform_alerts_sensor(AssetSelection.assets(other), name="scoped_sensor")
    with _instance(settings) as instance:
        result = materialize([levels], instance=instance, raise_on_error=False)
        assert not result.success
        _tick(scoped, instance, settings, None)
        assert hook.requests == []
        _tick(platform_alerts_sensor, instance, settings, None)
    ((rule, status, subject),) = _alerts(hook)
    assert (rule, status) == ("run_failed", "firing")
    assert subject.startswith("__ephemeral_asset_job__:" + result.run_id[:8])


def test_the_dead_mans_switch_says_when_the_nightly_job_is_late(home):  # type: ignore[no-untyped-def]
    from alerts.service import evaluate_home
    from alerts.sources import platform_frame

    settings, hook = home
    with _instance(settings) as instance:
        now = dt.datetime.now(dt.UTC)
        job = {"__ephemeral_asset_job__": dt.timedelta(hours=26)}
        assert overdue_rows(instance, now, job, {}) == []  # never ran: a new deployment
        materialize([other], instance=instance)
        (fresh,) = overdue_rows(instance, now, job, {})
        assert fresh["overdue"] == 0.0
        (late,) = overdue_rows(instance, now + dt.timedelta(hours=27), job, {})
        assert late["overdue"] == 1.0 and "expected within 1 day, 2:00:00" in late["detail"]
    store = StateStore(settings.state_store_url)
    evaluate_home(
        settings,
        store,
        now + dt.timedelta(hours=27),
        pushed={"platform_events": platform_frame([late])},
        only_sources=["platform_events"],
    )
    assert _alerts(hook) == [("job_or_sensor_overdue", "firing", "__ephemeral_asset_job__")]
    store.dispose()


def test_the_evaluation_sensor_and_schedule_ask_for_the_evaluation_job(home):  # type: ignore[no-untyped-def]

    @asset(key=PUBLISHED)
    def published_stand_in() -> None:
        return None

    with (
        DagsterInstance.ephemeral() as instance,
        build_sensor_context(instance=instance) as context,
    ):
        assert alert_evaluation_sensor(context).skip_message  # nothing published yet
        materialize([published_stand_in], instance=instance)
        request = alert_evaluation_sensor(context)
        assert isinstance(request, RunRequest)
        assert alert_evaluation_sensor.job_name == "alert_evaluation_job"
        assert request.run_key.startswith("materialized-")
        assert request.tags["dagster/priority"] == "5"
        # the same publish is not evaluated twice; the next one is
        assert alert_evaluation_sensor(context).skip_message
        materialize([published_stand_in], instance=instance)
        again = alert_evaluation_sensor(context)
        assert isinstance(again, RunRequest) and again.run_key != request.run_key
    schedule_context = build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 1, 1, 0, 15, tzinfo=dt.UTC)
    )
    (run,) = alert_evaluation_schedule.evaluate_tick(schedule_context).run_requests or []
    assert isinstance(run, RunRequest)
    assert alert_evaluation_schedule.job_name == "alert_evaluation_job"
    assert alert_evaluation_schedule.cron_schedule == "*/15 * * * *"
