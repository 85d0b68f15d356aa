"""One evaluation of the alert rules: read each rule's new rows, judge them, move the alerts'
lifecycle, and send what is due — one digest per channel.

Order of work:

1. the rules of every site (packs, then the site's own, then the deployment's), grouped by
   source so a mart is read once per evaluation;
2. per rule, the rows after each scope's watermark (the first evaluation reads the rule's
   look-back before the source's latest time), judged by the rule's condition;
3. the observations applied to the lifecycle in the state store, in time order per scope;
4. the notifications due (new, repeated, escalated, resolved; silenced ones held back) grouped
   into one digest per channel and sent, every attempt recorded.

A rule whose source cannot be read follows its error policy and the others go on: one broken
rule or channel never stops an evaluation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from alerts import watermarks
from alerts.channels import send_digest
from alerts.notify import build_channel
from alerts.rules import Rule, RuleEvaluationError, RuleSet
from alerts.sources import (
    CONTEXT_COLUMNS,
    LIVE_SOURCES,
    PUSHED_SOURCES,
    SourceError,
    SourceRequest,
    open_published,
    read_mart,
    source_columns,
    table_columns,
)
from alerts.state import AlertStore
from alerts.types import Attempt, Digest, LifecyclePolicy, Observation, fingerprint, severity_rank
from siteledger.settings import Settings
from siteledger.state.store import StateStore, utcnow

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """What one evaluation did, for the CLI, the Dagster asset's metadata and the tests."""

    evaluated_at: dt.datetime
    rules: int = 0
    observations: int = 0
    transitions: list[Any] = field(default_factory=list)
    notifications: int = 0
    failed_notifications: int = 0
    digests: list[Digest] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        states: dict[str, int] = defaultdict(int)
        for t in self.transitions:
            states[str(t.to_state)] += 1
        return {
            "rules": self.rules,
            "observations": self.observations,
            "transitions": dict(states),
            "notifications": self.notifications,
            "failed_notifications": self.failed_notifications,
            "errors": dict(self.errors),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def _time_text(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is None and value == value.normalize():
            return value.date().isoformat()  # a DATE column, read by pandas as a timestamp
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _plain(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


PLATFORM_SCOPE = "__platform__"  # the rules over pushed sources are not a site's


def rule_plan(
    ruleset: RuleSet, site_ids: Sequence[str]
) -> list[tuple[Rule, tuple[str, ...] | None]]:
    """Each distinct rule in force with the sites it applies to (None: a rule over a source
    without sites, such as the orchestrator's events)."""
    plan: dict[int, tuple[Rule, list[str]]] = {}
    for site_id in site_ids:
        for rule in ruleset.rules_for(site_id):
            if rule.source not in PUSHED_SOURCES:
                plan.setdefault(id(rule), (rule, []))[1].append(site_id)
    out: list[tuple[Rule, tuple[str, ...] | None]] = [
        (rule, tuple(sites)) for rule, sites in plan.values()
    ]
    out += [(r, None) for r in ruleset.rules_for(PLATFORM_SCOPE) if r.source in PUSHED_SOURCES]
    return out


class Engine:
    """Evaluates a rule set against a deployment's published warehouse and live state."""

    def __init__(
        self,
        settings: Settings,
        store: StateStore,
        ruleset: RuleSet,
        *,
        env: Mapping[str, str] | None = None,
        sleep: Any = time.sleep,
    ):
        self.settings = settings
        self.store = store
        self.alerts = AlertStore(store)
        self.ruleset = ruleset
        self.env = env
        self.sleep = sleep
        self._columns: dict[str, set[str]] = {}  # a mart's columns, for one evaluation
        watermarks.ensure_table(store)

    # -- reading -------------------------------------------------------------------------------
    def _site_ids(self, con: duckdb.DuckDBPyConnection | None) -> list[str]:
        sites: set[str] = set()
        if con is not None:
            with contextlib.suppress(duckdb.Error):
                sites |= {r[0] for r in con.execute("select site_id from dim_sites").fetchall()}
        if self.settings.sites_dir.exists():
            sites |= {p.stem for p in self.settings.sites_dir.glob("*.yaml")}
        return sorted(sites)

    def _frame(
        self,
        rule: Rule,
        con: duckdb.DuckDBPyConnection | None,
        marks: Mapping[str, str],
        now: dt.datetime,
        pushed: Mapping[str, pd.DataFrame],
        cache: dict[tuple[str, str], pd.DataFrame],
    ) -> pd.DataFrame:
        columns = rule.columns
        if rule.source in pushed:
            frame = pushed[rule.source]
        elif rule.source in PUSHED_SOURCES:
            frame = pd.DataFrame(columns=list(columns))
        elif rule.source in LIVE_SOURCES:
            key = (rule.source, "")
            if key not in cache:
                try:
                    cache[key] = LIVE_SOURCES[rule.source](self.settings, self.store, now)
                except Exception as exc:  # a live source's failure is the rule's error
                    raise SourceError(f"cannot read {rule.source}: {exc}") from exc
            frame = cache[key]
        else:
            if con is None:
                raise SourceError("nothing is published yet")
            since = min(marks.values()) if marks else None
            if rule.source not in self._columns:
                self._columns[rule.source] = table_columns(con, rule.source)
            present = self._columns[rule.source]
            context = tuple(c for c in CONTEXT_COLUMNS if c in present and c not in columns)
            if rule.snapshot and rule.time in present:
                raise SourceError(
                    f"{rule.source} has a column {rule.time!r}: a snapshot rule's time names "
                    "the column its rows are given (the evaluation's time), not one of the table"
                )
            request = SourceRequest(
                rule.source,
                rule.time,
                columns + context,
                since,
                rule.lookback,
                tuple(rule.labels),
                rule.history_rows,
                now.isoformat(timespec="seconds") if rule.snapshot else None,
            )
            key = (rule.source, repr(request))
            if key not in cache:
                cache[key] = read_mart(con, request)
            frame = cache[key]
        source_columns(frame, columns, rule.source)
        return frame

    # -- judging -------------------------------------------------------------------------------
    def _observations(
        self,
        rule: Rule,
        sites: tuple[str, ...] | None,
        frame: pd.DataFrame,
        marks: Mapping[str, str],
        now: dt.datetime,
    ) -> tuple[list[Observation], dict[tuple[str, str], str]]:
        if sites is not None and "site_id" in frame.columns:
            frame = frame[frame["site_id"].isin(sites)]
        if frame.empty:
            return [], {}
        frame = frame.sort_values([*rule.labels, rule.time], kind="stable").reset_index(drop=True)
        judged = rule.assess(frame)
        if judged.empty:
            return [], {}
        rows = frame.loc[judged.index]
        twins = rows.duplicated([*rule.labels, rule.time], keep=False)
        if twins.any():
            first = rows[twins].iloc[0]
            scope = ", ".join(f"{label}={first[label]}" for label in rule.labels)
            raise RuleEvaluationError(
                f"rule {rule.id}: {rule.source} has {int(twins.sum())} rows that share a scope "
                f"and a time (e.g. {scope} at {first[rule.time]}): one observation per scope "
                "and time is needed; add the column that tells them apart to labels"
            )
        label_values = rows[list(rule.labels)].astype(str).to_numpy()
        times = [_time_text(v) for v in rows[rule.time].tolist()]
        breached = judged["breached"].tolist()
        values = judged["value"].tolist()
        thresholds = judged["threshold"].tolist()
        detail_columns = [c for c in rows.columns if c not in rule.labels and c != rule.time]
        details = rows[detail_columns].to_dict("records") if detail_columns else None
        observations: list[Observation] = []
        new_marks: dict[tuple[str, str], str] = {}
        fingerprints: dict[tuple[str, ...], str] = {}
        for i, label_row in enumerate(label_values):
            key = tuple(label_row)
            fp = fingerprints.get(key)
            if fp is None:
                fp = fingerprints[key] = fingerprint(
                    rule.id, dict(zip(rule.labels, key, strict=True))
                )
            observed = times[i]
            mark = new_marks.get((rule.id, fp)) or marks.get(fp)
            if mark is not None and observed <= mark:
                continue
            labels = dict(zip(rule.labels, key, strict=True))
            state = breached[i]
            flag = None if state is None or state is pd.NA else bool(state)
            value = _plain(values[i])
            threshold = None if thresholds[i] is None else str(thresholds[i])
            extra = {k: _detail(v) for k, v in (details[i] if details else {}).items()}
            observations.append(
                Observation(
                    rule_id=rule.id,
                    labels=labels,
                    breached=flag,
                    observed_at=observed,
                    evaluated_at=now,
                    value=value,
                    threshold=threshold,
                    summary=rule.render_summary(value, threshold, labels, observed, extra)
                    if flag
                    else "",
                    details=extra,
                )
            )
            new_marks[(rule.id, fp)] = observed
        return observations, new_marks

    # -- the whole evaluation ------------------------------------------------------------------
    def evaluate(
        self,
        now: dt.datetime | None = None,
        *,
        pushed: Mapping[str, pd.DataFrame] | None = None,
        only_sources: Iterable[str] | None = None,
        send: bool = True,
    ) -> Evaluation:
        now = now or utcnow()
        result = Evaluation(evaluated_at=now)
        self._columns = {}
        started = time.perf_counter()
        pushed = dict(pushed or {})
        wanted = set(only_sources) if only_sources is not None else None
        try:
            con = open_published(self.settings.published_db)
        except SourceError:
            con = None
        try:
            plan = [
                (rule, sites)
                for rule, sites in rule_plan(self.ruleset, self._site_ids(con))
                if wanted is None or rule.source in wanted
            ]
            result.rules = len(plan)
            marks = watermarks.load(self.store, [r.id for r, _ in plan])
            cache: dict[tuple[str, str], pd.DataFrame] = {}
            batch: list[tuple[LifecyclePolicy, Observation, dict[str, Any]]] = []
            new_marks: dict[tuple[str, str], str] = {}
            for rule, sites in plan:
                policy = rule.policy()
                try:
                    frame = self._frame(rule, con, marks[rule.id], now, pushed, cache)
                    observations, rule_marks = self._observations(
                        rule, sites, frame, marks[rule.id], now
                    )
                except (SourceError, RuleEvaluationError) as exc:
                    result.errors[rule.id] = str(exc)
                    log.warning("alert rule %s: %s", rule.id, exc)
                    result.transitions += self.alerts.error(rule.id, policy, None, str(exc), now)
                    continue
                extra = {
                    "category": rule.category,
                    "description": rule.description,
                    "action": rule.action,
                    "unit": rule.unit,
                }
                batch.extend((policy, o, extra) for o in observations)
                new_marks.update(rule_marks)
        finally:
            if con is not None:
                con.close()
        result.seconds["judge"] = time.perf_counter() - started
        step = time.perf_counter()
        result.observations = len(batch)
        result.transitions += self.alerts.observe(batch)
        watermarks.advance(self.store, new_marks)
        result.seconds["lifecycle"] = time.perf_counter() - step
        if send:
            step = time.perf_counter()
            self.notify(now, result, {rule.id: rule.policy() for rule, _ in plan})
            result.seconds["notify"] = time.perf_counter() - step
        result.seconds["total"] = time.perf_counter() - started
        return result

    # -- sending -------------------------------------------------------------------------------
    def policies(self) -> dict[str, LifecyclePolicy]:
        """Every rule's policy (a rule in force for a site over one switched off or replaced)."""
        out = {rule.id: rule.policy() for rule in self.ruleset.all_rules}
        for rule, _ in rule_plan(self.ruleset, self.ruleset.site_ids):
            out[rule.id] = rule.policy()
        return out

    def notify(
        self,
        now: dt.datetime,
        result: Evaluation | None = None,
        policies: Mapping[str, LifecyclePolicy] | None = None,
    ) -> Evaluation:
        """Send every notification due now: one digest per channel."""
        result = result or Evaluation(evaluated_at=now)
        known = dict(self.policies())
        known.update(policies or {})
        due = self.alerts.due_notifications(now, known)
        by_channel: dict[str, list[Any]] = defaultdict(list)
        for item in due:
            for channel in item.channels:
                config = self.ruleset.channels.get(channel)
                if config is not None and not _channel_takes(config, item.message):
                    continue
                by_channel[channel].append(item)
        for name, items in sorted(by_channel.items()):
            messages = sorted(
                (i.message for i in items),
                key=lambda m: (m.status == "resolved", -severity_rank(m.severity), m.rule_id),
            )
            digest = Digest(
                digest_id=f"msg_{uuid.uuid4().hex}",
                channel=name,
                created_at=now,
                messages=tuple(messages),
            )
            attempts = self._send(name, digest)
            result.digests.append(digest)
            result.attempts += attempts
            ok = any(a.ok for a in attempts)
            result.notifications += 1 if ok else 0
            result.failed_notifications += 0 if ok else 1
            self.alerts.record_notifications(((item, name, attempts) for item in items), now)
        return result

    def _send(self, name: str, digest: Digest) -> list[Attempt]:
        config = self.ruleset.channels.get(name)
        try:
            if config is None:
                raise ValueError(f"no channel named {name!r} is configured")
            channel = build_channel(name, config, self.env)
        except ValueError as exc:
            return [
                Attempt(
                    digest_id=digest.digest_id,
                    channel=name,
                    kind=getattr(config, "kind", "unknown"),
                    target=name,
                    attempt=1,
                    ok=False,
                    at=utcnow(),
                    error=str(exc),
                    event_ids=tuple(m.event_id for m in digest.messages),
                )
            ]
        return send_digest(channel, digest, sleep=self.sleep)


def _channel_takes(config: Any, message: Any) -> bool:
    """A channel's own filters: its lowest severity, and whether it takes resolutions."""
    if message.status == "resolved" and not getattr(config, "resolved", True):
        return False
    floor = getattr(config, "min_severity", None)
    return floor is None or severity_rank(message.severity) >= severity_rank(floor)


def _detail(value: Any) -> Any:
    if isinstance(value, (pd.Timestamp, dt.date, dt.datetime)):
        return _time_text(value)
    if value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
