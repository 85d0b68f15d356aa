"""``siteledger alerts``: list, inspect, acknowledge, resolve and silence alerts; check the rules;
send a test notification; evaluate the rules now (through Dagster, so the UI shows it)."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import math
import re
from typing import Any

import click
from rich.console import Console

from cli.output import Col, count, emit, json_option, make_console, nothing_matched, number
from siteledger.settings import Settings
from siteledger.state import StateStore

console: Console = make_console()
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MATCHER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)(.*)$")


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    settings.ensure_dirs()
    return settings


def _alerts(settings: Settings):  # type: ignore[no-untyped-def]
    from alerts.state import AlertStore

    return AlertStore(StateStore(settings.state_store_url))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") if value else ""


def _labels(labels: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(labels.items()))


def duration(text: str) -> dt.timedelta:
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise click.BadParameter(f"{text!r}: give a duration like 30m, 4h, 2d or 1w")
    return dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@click.group()
def alerts() -> None:
    """Alerts: their rules, lifecycle (acknowledge, resolve, silence) and channels."""


@alerts.command("list")
@click.option(
    "--state",
    type=click.Choice(["open", "pending", "firing", "resolved", "all"]),
    default="open",
    show_default=True,
)
@click.option("--severity", type=click.Choice(["info", "warning", "critical"]))
@click.option("--site", help="only alerts about this site")
@click.option("--rule", "rule_id", help="only alerts of this rule")
@click.option(
    "--match",
    "matches",
    multiple=True,
    help="label=value: only alerts whose scope has it, e.g. customer_id=c1 or meter_id=m4 "
    "(repeat: all must hold)",
)
@click.option("--limit", type=int, default=200, show_default=True)
@json_option
@click.pass_context
def alerts_list(
    ctx: click.Context,
    state: str,
    severity: str | None,
    site: str | None,
    rule_id: str | None,
    matches: tuple[str, ...],
    limit: int,
    as_json: bool,
) -> None:
    """Alerts, newest first (open ones by default)."""
    wanted = {}
    for text in matches:
        label, sep, value = text.partition("=")
        if not sep or not label:
            raise click.BadParameter(f"{text!r} is not label=value", param_hint="--match")
        wanted[label.strip()] = value.strip()
    store = _alerts(_settings(ctx))
    events = store.events(
        state=None if state == "all" else state,
        severity=severity,
        site=site,
        rule_id=rule_id,
        limit=None if wanted else limit,
    )
    if wanted:  # a scope is whatever the labels name: a customer, a meter, a task
        events = [e for e in events if all(str(e.labels.get(k)) == v for k, v in wanted.items())][
            :limit
        ]
    filters = {
        "state": state,
        "severity": severity,
        "site": site,
        "rule": rule_id,
        "match": ", ".join(matches) or None,
    }
    emit(
        (e.as_dict() for e in events),
        [
            Col("event_id", "id", "id"),
            Col("state", kind="word"),
            Col("severity", "sev", "word"),
            Col("rule_id", "rule", "word"),
            Col("labels", "scope", derive=lambda r: _labels(r["labels"])),
            Col("value", derive=lambda r: _value(r["value"])),
            Col("last_observed_at", "data time"),
            Col("since", "since", "time", derive=lambda r: r["fired_at"] or r["opened_at"]),
            Col("acked_by", "ack", "word"),
        ],
        title=f"Alerts ({count(len(events))}, {state})",
        as_json=as_json,
        empty=nothing_matched("alerts", filters),
    )


def _value(value: float | None) -> str:
    """An observed value to four significant figures, thousands separated."""
    if value is None:
        return ""
    digits = max(0, 3 - math.floor(math.log10(abs(value)))) if value else 0
    text = number(value, digits)
    return text.rstrip("0").rstrip(".") if "." in text else text


@alerts.command("show")
@click.argument("event_id")
@click.pass_context
def alerts_show(ctx: click.Context, event_id: str) -> None:
    """One alert and every transition and notification attempt of it."""
    from alerts.state import AlertStateError

    store = _alerts(_settings(ctx))
    try:
        event = store.get(event_id)
    except AlertStateError as exc:
        raise _fail(exc) from exc
    for key, value in event.as_dict().items():
        if value not in (None, "", {}, []):
            console.print(f"[bold]{key:>22}[/bold]  {value}")
    emit(
        (h.as_dict() for h in store.history(event_id=event.event_id)),
        [
            Col("at", kind="time"),
            Col("kind", kind="word"),
            Col("from_state", "from", "word"),
            Col("to_state", "to", "word"),
            Col("actor", kind="word"),
            Col(
                "detail",
                derive=lambda r: json.dumps(r["detail"], default=str) if r["detail"] else "",
            ),
        ],
        title="History",
        empty=f"no history recorded for {event.event_id}",
    )


def _actor(by: str | None) -> str:
    return by or getpass.getuser()


def _act(ctx: click.Context, action: str, event_id: str, note: str, by: str | None) -> None:
    """Acknowledge or resolve one alert (``action`` is the store's method) and say so."""
    from alerts.state import AlertStateError

    store = _alerts(_settings(ctx))
    try:
        event = getattr(store, action)(event_id, _actor(by), note, _now())
    except (AlertStateError, ValueError) as exc:
        raise _fail(exc) from exc
    done = {"ack": "acknowledged", "resolve": "resolved"}[action]
    click.echo(f"{done} {event.event_id} ({event.rule_id} {_labels(event.labels)})")


@alerts.command("ack")
@click.argument("event_id")
@click.option("--note", default="", help="why, and what is being done")
@click.option("--by", help="who acknowledges (default: the login name)")
@click.pass_context
def alerts_ack(ctx: click.Context, event_id: str, note: str, by: str | None) -> None:
    """Acknowledge an alert: no more repeats or escalation (until the rule's ack timeout)."""
    _act(ctx, "ack", event_id, note, by)


@alerts.command("resolve")
@click.argument("event_id")
@click.option("--note", default="", help="how it was resolved")
@click.option("--by", help="who resolves (default: the login name)")
@click.pass_context
def alerts_resolve(ctx: click.Context, event_id: str, note: str, by: str | None) -> None:
    """Resolve an alert by hand; a later breach opens a new one."""
    _act(ctx, "resolve", event_id, note, by)


def _matchers(texts: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for text in texts:
        match = _MATCHER.match(text)
        if not match:
            raise click.BadParameter(
                f"{text!r}: give label=value, label!=value, label=~regex or label!~regex"
            )
        out.append({"label": match.group(1), "op": match.group(2), "value": match.group(3)})
    return out


@alerts.command("silence")
@click.option(
    "--match",
    "matchers",
    multiple=True,
    required=True,
    help="label=value, label!=value, label=~regex, label!~regex (rule_id, severity and category "
    "match too); all must hold",
)
@click.option("--for", "for_", default="2h", show_default=True, help="how long: 30m, 4h, 2d")
@click.option("--comment", required=True, help="why")
@click.option("--by", help="who silences (default: the login name)")
@click.pass_context
def alerts_silence(
    ctx: click.Context, matchers: tuple[str, ...], for_: str, comment: str, by: str | None
) -> None:
    """Hold back notifications of matching alerts for a while (their lifecycle goes on)."""
    from alerts.state import AlertStateError

    store = _alerts(_settings(ctx))
    now = _now()
    try:
        silence = store.silence(_matchers(matchers), now, now + duration(for_), _actor(by), comment)
    except (AlertStateError, ValueError) as exc:
        if isinstance(exc, click.BadParameter):
            raise
        raise _fail(exc) from exc
    click.echo(f"silence {silence.silence_id} until {_when(silence.ends_at)} UTC")


@alerts.command("unsilence")
@click.argument("silence_id")
@click.option("--by", help="who ends it (default: the login name)")
@click.pass_context
def alerts_unsilence(ctx: click.Context, silence_id: str, by: str | None) -> None:
    """End a silence now."""
    from alerts.state import AlertStateError

    store = _alerts(_settings(ctx))
    try:
        store.unsilence(silence_id, _actor(by))
    except AlertStateError as exc:
        raise _fail(exc) from exc
    click.echo(f"silence {silence_id} ended")


@alerts.command("silences")
@click.option("--all", "show_all", is_flag=True, help="expired ones too")
@json_option
@click.pass_context
def alerts_silences(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """Silences in force (or all)."""
    store = _alerts(_settings(ctx))
    emit(
        (
            {
                "silence_id": s.silence_id,
                "matchers": s.matchers,
                "starts_at": s.starts_at,
                "ends_at": s.ends_at,
                "created_by": s.created_by,
                "comment": s.comment,
            }
            for s in store.silences(active_only=not show_all, now=_now())
        ),
        [
            Col("silence_id", "id", "id"),
            Col(
                "matchers",
                derive=lambda r: " ".join(
                    f"{m['label']}{m['op']}{m['value']}" for m in r["matchers"]
                ),
            ),
            Col("starts_at", "from", "time"),
            Col("ends_at", "until", "time"),
            Col("created_by", "by", "word"),
            Col("comment"),
        ],
        title="Silences",
        as_json=as_json,
        empty=nothing_matched("silences", {"in force": None if show_all else "now"}),
    )


@alerts.command("rules")
@click.option("--site", help="the rules in force for this site")
@click.option("--check", is_flag=True, help="only validate the rule files; exit 1 on a problem")
@json_option
@click.pass_context
def alerts_rules(ctx: click.Context, site: str | None, check: bool, as_json: bool) -> None:
    """The rules in force (packs, site files, the deployment's), and any problems in them."""
    from alerts.service import home_rules

    ruleset = home_rules(_settings(ctx))
    for problem in ruleset.problems:
        click.echo(str(problem), err=True)
    if check:
        if ruleset.problems:
            raise click.ClickException(f"{len(ruleset.problems)} problem(s) in the rule files")
        click.echo(f"{len(ruleset.all_rules)} rules, {len(ruleset.channels)} channels: valid")
        return
    rules = ruleset.rules_for(site) if site else ruleset.all_rules
    emit(
        (
            {
                "id": r.id,
                "category": r.category,
                "severity": r.policy().severity,
                "source": r.source,
                "labels": list(r.labels),
                "condition": _condition(r),
                "for_count": r.policy().for_count,
                "channels": list(r.policy().channels),
            }
            for r in rules
        ),
        [
            Col("id", kind="id"),
            Col("category", kind="word"),
            Col("severity", kind="word"),
            Col("source", kind="word"),
            Col("labels", "scope", derive=lambda r: ",".join(r["labels"])),
            Col("condition"),
            Col("for_count", "for", "int"),
            Col("channels", derive=lambda r: ",".join(r["channels"])),
        ],
        title=f"Alert rules ({len(rules)}{', ' + site if site else ''})",
        as_json=as_json,
        empty=nothing_matched("alert rules", {"site": site}),
    )


def _condition(rule: Any) -> str:
    condition = rule.condition.model_dump(exclude_none=True, mode="json")
    text = " ".join(f"{k} {v}" for k, v in condition.items())
    return f"{rule.value_column} {text}" if "expression" not in condition else text


@alerts.command("test-notify")
@click.argument("channel")
@click.pass_context
def alerts_test_notify(ctx: click.Context, channel: str) -> None:
    """Send a test message to a configured channel and show every attempt."""
    from alerts.notify import send_test_message
    from alerts.service import home_rules

    settings = _settings(ctx)
    ruleset = home_rules(settings)
    try:
        attempts = send_test_message(ruleset, channel, _now())
    except ValueError as exc:
        raise _fail(exc) from exc
    for a in attempts:
        state = "ok" if a.ok else f"failed: {a.error}"
        click.echo(f"attempt {a.attempt} -> {a.kind} {a.target}: {state}")
    if not any(a.ok for a in attempts):
        raise click.ClickException(f"the test message did not reach {channel}")


@alerts.command("evaluate")
@click.pass_context
def alerts_evaluate(ctx: click.Context) -> None:
    """Evaluate every rule now and send what is due (the alert_evaluation_job, through Dagster)."""
    from orchestration.runner import run_job

    run = run_job(_settings(ctx), "alert_evaluation_job")
    for event in run.result.get_asset_materialization_events():
        meta = event.materialization.metadata
        summary = {k: getattr(v, "value", v) for k, v in meta.items()}
        click.echo(json.dumps(summary, default=str, indent=1))
    if not run.success:
        raise click.ClickException("the alert evaluation failed; see the run in the Dagster UI")
