"""Alert rules: the rule and channel configuration, the loader, and the assessment of a source's
rows against a rule.

Rules come from three places, loaded in this order, a later rule replacing an earlier one of the
same id for the sites it applies to: the packs shipped in ``alerts/rules/*.yaml``, each site
file's ``alerts: {rules: [...]}`` (for that site alone), and the deployment's
``$SITELEDGER_HOME/alerts/*.yaml`` (rules, channels and defaults). ``{id: x, enabled: false}``
switches an earlier rule off. docs/alerts.md is the reference for every field.

Every problem is a :class:`~siteledger.site.loader.ConfigProblem` (``file:line: key.path:
reason``). :func:`load_rules` never raises for a bad file: it loads what is valid and lists the
rest in :attr:`RuleSet.problems`, so one bad deployment file does not stop the other rules. A
rule with a problem is not loaded at all (a rule that loads is one the engine can run).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from jinja2 import Template
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from alerts.expressions import CompiledExpression, ExpressionError, compile_expression
from alerts.templates import TemplateError, compile_summary, render_summary
from alerts.types import (
    CATEGORIES,
    ErrorPolicy,
    Escalation,
    LifecyclePolicy,
    NoDataPolicy,
    Severity,
)
from siteledger.site.loader import (
    ConfigProblem,
    SiteConfigError,
    YamlDocument,
    parse_yaml_mapping,
    read_config_text,
    validation_problems,
)

PACK_DIR = Path(__file__).with_name("rules")
MAX_RULES_FILE_BYTES = 1024 * 1024  # the shipped packs together are ~20 kB
MAX_RULES_YAML_NODES = 100_000
MAX_RULES_PER_FILE = 1_000
DAY_S = 86_400
MIN_DURATION_S = 60
MAX_DURATION_S = 90 * DAY_S
MAX_LOOKBACK_S = 3_660 * DAY_S  # ten years (a month against a year earlier needs 13 months)

Layer = Literal["pack", "site", "deployment"]
_SECTIONS: dict[str, tuple[str, ...]] = {
    "pack": ("rules",),
    "site": ("rules",),
    "deployment": ("rules", "channels", "defaults"),
}


class RuleConfigError(SiteConfigError):
    """A rules file (or rule text) that cannot be used; ``problems`` lists every reason."""


class RuleEvaluationError(ValueError):
    """A source's rows cannot be assessed against a rule (a column is missing or not numeric)."""


def _show(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _hint(value: str, choices: Collection[str]) -> str:
    match = get_close_matches(value, sorted(choices), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _pattern(regex: str, what: str) -> Callable[[str], str]:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{_show(value)} is not {what}")
        return value

    return check


RuleId = Annotated[
    str,
    AfterValidator(
        _pattern(
            r"[a-z][a-z0-9_]{0,63}",
            "a rule id: lower-case letters, digits and '_', starting with a letter, at most 64",
        )
    ),
]
Column = Annotated[
    str,
    AfterValidator(
        _pattern(
            r"[A-Za-z_][A-Za-z0-9_]{0,127}",
            "a column name: letters, digits and '_', not starting with a digit",
        )
    ),
]
_channel_name = _pattern(
    r"[A-Za-z][A-Za-z0-9_\-]{0,63}",
    "a channel name: letters, digits, '_' and '-', starting with a letter, at most 64",
)
ChannelName = Annotated[str, AfterValidator(_channel_name)]
_SITE_ID = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"  # siteledger.site.models.Identifier
SiteId = Annotated[
    str, AfterValidator(_pattern(_SITE_ID, "a site id (as in a site file's site.id)"))
]


def _env_name(value: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", value):
        return value
    if "://" in value or "/" in value or "@" in value:
        raise ValueError(
            "give the NAME of an environment variable that holds this value "
            "(e.g. SITELEDGER_SLACK_OPS_URL), never the value itself"
        )
    raise ValueError(f"{_show(value)} is not an environment variable name: letters, digits and '_'")


EnvName = Annotated[str, AfterValidator(_env_name)]


def _http_url(value: str) -> str:
    if len(value) > 2048 or any(c.isspace() for c in value):
        raise ValueError("not a URL: too long or contains spaces")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{_show(value)} is not an http:// or https:// URL")
    if parts.username or parts.password:
        raise ValueError("the URL holds credentials: give them through username_env / password_env")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
EmailAddress = Annotated[
    str, AfterValidator(_pattern(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]+", "an e-mail address"))
]
PhoneNumber = Annotated[
    str,
    AfterValidator(
        _pattern(r"\+?[0-9]{6,15}", "a phone number: digits, optionally after '+' (E.164)")
    ),
]

# -- durations ---------------------------------------------------------------------------------

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": DAY_S, "w": 7 * DAY_S}
_DURATION = re.compile(r"(?:\d{1,9}[smhdw])+")
_DURATION_PART = re.compile(r"(\d{1,9})([smhdw])")


def format_duration(seconds: float) -> str:
    """``14400`` -> ``4h``: the largest unit that divides the duration."""
    whole = int(seconds)
    for unit in ("w", "d", "h", "m"):
        if whole and whole % _UNIT_SECONDS[unit] == 0:
            return f"{whole // _UNIT_SECONDS[unit]}{unit}"
    return f"{whole}s"


def parse_duration(
    value: object, minimum: int = MIN_DURATION_S, maximum: int = MAX_DURATION_S
) -> dt.timedelta:
    """A duration written as ``30s``, ``15m``, ``4h``, ``2d``, ``1w`` (or parts: ``1h30m``),
    between ``minimum`` and ``maximum`` seconds; raises ValueError saying what is wrong."""
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        text = format_duration(seconds)
    elif isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"a duration is text such as 4h, got {type(value).__name__}")
    elif isinstance(value, int | float):
        raise ValueError(f"{value} has no unit: write a duration as in 30s, 15m, 4h, 2d or 1w")
    else:
        text = value.strip()
        if text.startswith("-"):
            raise ValueError(f"{_show(value)}: a duration cannot be negative")
        if not _DURATION.fullmatch(text):
            raise ValueError(
                f"{_show(value)} is not a duration: write a whole number and a unit "
                "(s, m, h, d or w), as in 30s, 15m, 4h, 2d or 1w"
            )
        seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))
    if seconds < minimum:
        raise ValueError(f"{text} is shorter than the minimum, {format_duration(minimum)}")
    if seconds > maximum:
        raise ValueError(f"{text} is longer than the maximum, {format_duration(maximum)}")
    return dt.timedelta(seconds=seconds)


Duration = Annotated[dt.timedelta, BeforeValidator(parse_duration)]
Lookback = Annotated[
    dt.timedelta, BeforeValidator(functools.partial(parse_duration, maximum=MAX_LOOKBACK_S))
]

# -- numbers as rule texts state them ----------------------------------------------------------


def _number(value: float) -> str:
    """``80.0`` -> ``80``, ``5.25`` -> ``5.25``, NaN -> ``n/a``."""
    if math.isnan(value):
        return "n/a"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def _per_row_texts(
    arrays: Sequence[np.ndarray], render: Callable[[Sequence[float]], str]
) -> pd.Categorical:
    """``render`` of each row's values, formatted once per distinct combination (a threshold
    column holds few distinct values; formatting 3.6 M rows one by one takes seconds)."""
    n = len(arrays[0])
    key = np.zeros(n, dtype=np.int64)
    decoders = []
    for array in arrays:
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
        key = key * (len(uniques) + 1) + (codes + 1)
        decoders.append(np.concatenate([[np.nan], np.asarray(uniques, dtype=np.float64)]))
    key_codes, distinct = pd.factorize(key)
    texts = []
    for combined in distinct:
        values = []
        remainder = int(combined)
        for decoder in reversed(decoders):
            values.append(float(decoder[remainder % len(decoder)]))
            remainder //= len(decoder)
        texts.append(render(values[::-1]))
    # two combinations can read alike (80 and 80.0000000001): categories must be distinct
    labels, text_codes = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    return pd.Categorical.from_codes(text_codes[key_codes], categories=list(labels))


def _scope_codes(frame: pd.DataFrame, labels: Sequence[str]) -> np.ndarray:
    """One integer per row naming its scope (its labels' values), in order of first appearance."""
    key = np.zeros(len(frame), dtype=np.int64)
    for label in labels:
        codes, uniques = pd.factorize(frame[label], use_na_sentinel=False)
        key = key * (len(uniques) + 1) + codes
        if len(labels) > 1:  # keep the key small however many labels there are
            key = pd.factorize(key)[0]
    return key


def _earlier(values: np.ndarray, scopes: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the value ``window`` rows earlier in its scope (in frame order) and
    whether there is such a row."""
    n = len(values)
    in_order = n < 2 or bool(np.all(scopes[1:] >= scopes[:-1]))
    order = np.arange(n) if in_order else np.argsort(scopes, kind="stable")
    ordered_scopes = scopes[order]
    ordered_values = values[order]
    has = np.zeros(n, dtype=bool)
    earlier = np.full(n, np.nan)
    if n > window:
        has[window:] = ordered_scopes[window:] == ordered_scopes[:-window]
        earlier[window:] = np.where(has[window:], ordered_values[:-window], np.nan)
    result_has = np.empty(n, dtype=bool)
    result_earlier = np.empty(n)
    result_has[order] = has
    result_earlier[order] = earlier
    return result_earlier, result_has


def _earlier_mean(values: np.ndarray, scopes: np.ndarray, window: int) -> np.ndarray:
    """For each row, the mean of the ``window`` rows before it in its scope (in frame order);
    NaN when there are fewer, or one of them is null."""
    series = pd.Series(values, dtype=np.float64)
    grouped = series.groupby(scopes, sort=False)
    means = grouped.transform(lambda s: s.shift(1).rolling(window, min_periods=window).mean())
    return means.to_numpy(dtype=np.float64)


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, populate_by_name=True, allow_inf_nan=False
    )


# -- conditions --------------------------------------------------------------------------------


class Limit(_Model):
    """A threshold: a number, or a column read per row (``{column: store_high_pct}``), with a
    ``default`` for rows where the column is null and ``negate`` for the low end of a band."""

    value: float | None = None
    column: Column | None = None
    default: float | None = None
    negate: bool = False

    @model_validator(mode="before")
    @classmethod
    def _number_or_column(cls, data: Any) -> Any:
        if isinstance(data, Limit | dict):
            return data
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"value": data}
        if isinstance(data, str):
            try:
                float(data)
            except ValueError:
                pass
            else:
                raise ValueError(
                    f"{_show(data)} is text to YAML: write a plain number (5000, not 5e3; "
                    "5.0e+3 is a number)"
                )
        raise ValueError(f"expected a number or {{column: name}}, got {_show(data)}")

    @model_validator(mode="after")
    def _one_source(self) -> Limit:
        if (self.value is None) == (self.column is None):
            raise ValueError("a limit is a number or {column: name}")
        if self.column is None and (self.default is not None or self.negate):
            raise ValueError("default and negate go with a column")
        return self

    @property
    def source_text(self) -> str:
        if self.column is None:
            assert self.value is not None
            return _number(self.value)
        return f"-{self.column}" if self.negate else self.column

    def values(self, columns: Mapping[str, np.ndarray]) -> np.ndarray | float:
        if self.column is None:
            assert self.value is not None
            return self.value
        values = columns[self.column]
        if self.default is not None:
            values = np.where(np.isnan(values), self.default, values)
        return -values if self.negate else values


def _band(value: Any) -> Any:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"a band is two limits, [low, high]; got {_show(value)}")
    return value


Band = Annotated[list[Limit], BeforeValidator(_band)]


class RateOfChange(_Model):
    """The change of the metric since the row ``window`` observations earlier in the same
    scope; ``relative`` makes it a percentage of that earlier value."""

    window: int = Field(1, ge=1, le=1000)
    above: float | None = None
    below: float | None = None
    relative: bool = False
    # earlier: the observation ``window`` earlier; mean: the mean of the ``window`` observations
    # before (a month against the mean of the three before it)
    baseline: Literal["earlier", "mean"] = "earlier"

    @model_validator(mode="after")
    def _bounds(self) -> RateOfChange:
        if self.above is None and self.below is None:
            raise ValueError("rate_of_change needs above, below or both")
        if self.above is not None and self.below is not None and self.below >= self.above:
            raise ValueError(f"below ({self.below:g}) must be less than above ({self.above:g})")
        return self


CONDITION_KINDS = (
    "above",
    "below",
    "outside",
    "inside",
    "rate_of_change",
    "expression",
    "one_of",
)

OneOfValue = Annotated[str, Field(min_length=1, max_length=200)]


class Condition(_Model):
    """Exactly one of the kinds in :data:`CONDITION_KINDS`."""

    above: Limit | None = None
    below: Limit | None = None
    outside: Band | None = None
    inside: Band | None = None
    rate_of_change: RateOfChange | None = None
    expression: str | None = Field(None, max_length=10_000)
    # the metric is a text column (a status, an event type): breached when it is one of these
    one_of: list[OneOfValue] | None = Field(None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [kind for kind in CONDITION_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            found = f"; got {' and '.join(given)}" if given else ""
            raise ValueError(f"a condition is exactly one of {', '.join(CONDITION_KINDS)}{found}")
        band = self.outside or self.inside
        if band is not None:
            low, high = band
            if low.value is not None and high.value is not None and low.value > high.value:
                raise ValueError(f"the band's low end {low.value:g} is above its high end")
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in CONDITION_KINDS if getattr(self, kind) is not None)

    @property
    def limits(self) -> list[Limit]:
        if self.above is not None:
            return [self.above]
        if self.below is not None:
            return [self.below]
        return list(self.outside or self.inside or [])


class EscalationSpec(_Model):
    """After ``after_occurrences`` breaching evaluations, ``after_repeats`` notifications or
    ``after`` unacknowledged, notify ``channels`` too and raise the severity to ``severity``."""

    after_occurrences: int | None = Field(None, ge=1, le=100_000)
    after_repeats: int | None = Field(None, ge=1, le=10_000)
    after: Duration | None = None
    channels: list[ChannelName] = Field(default_factory=list, max_length=20)
    severity: Severity | None = None

    @model_validator(mode="after")
    def _does_something(self) -> EscalationSpec:
        if self.after_occurrences is None and self.after_repeats is None and self.after is None:
            raise ValueError("an escalation needs after_occurrences, after_repeats or after")
        if not self.channels and self.severity is None:
            raise ValueError("an escalation needs channels, a severity or both")
        return self

    def to_escalation(self) -> Escalation:
        return Escalation(
            after_occurrences=self.after_occurrences,
            after_repeats=self.after_repeats,
            after=self.after,
            channels=tuple(self.channels),
            severity=self.severity,
        )


MatchValue = Annotated[str, Field(max_length=200)] | int | float | bool


@dataclass(frozen=True)
class RuleOrigin:
    """Where a rule was read: its layer, file, key path and line (and site, for a site file)."""

    layer: Layer
    file: str
    path: str
    line: int | None = None
    site_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}"


# -- the rule ----------------------------------------------------------------------------------


class Rule(_Model):
    """One alert rule; docs/alerts.md describes every field."""

    id: RuleId
    summary: str = Field(max_length=1000)
    description: str | None = Field(None, max_length=10_000)
    action: str | None = Field(None, max_length=2_000)
    category: str = Field(max_length=80)
    source: Column
    time: Column
    labels: list[Column] = Field(min_length=1, max_length=16)
    metric: Column | None = None
    metrics: list[Column] | None = Field(None, min_length=1, max_length=32)
    unit: str | None = Field(None, max_length=32)
    condition: Condition
    where: str | None = Field(None, max_length=10_000)
    match: dict[Column, MatchValue] | None = Field(None, min_length=1, max_length=8)
    for_: int = Field(1, ge=1, le=10_000, alias="for")
    keep_firing_for: int = Field(1, ge=1, le=10_000)
    auto_resolve: bool = True
    no_data: NoDataPolicy = "keep_last"
    on_error: ErrorPolicy = "keep_last"
    severity: Severity = "warning"
    channels: list[ChannelName] | None = Field(None, max_length=20)
    repeat_interval: Duration = dt.timedelta(hours=4)
    ack_timeout: Duration | None = None
    escalation: EscalationSpec | None = None
    notify_resolved: bool = True
    lookback: Lookback = dt.timedelta(days=35)
    # the source is a current-state table (no history): every evaluation reads all its rows and
    # observes them at the evaluation's time, written into the column ``time`` names
    snapshot: bool = False
    # rows at the source's latest time are not observations yet (that period may be in
    # progress: a month judged on its third day); they are judged once a later time arrives
    skip_latest: bool = False
    sites: list[SiteId] | None = Field(None, min_length=1, max_length=1_000)
    enabled: bool = True

    _template: Template | None = PrivateAttr(None)
    _expression: CompiledExpression | None = PrivateAttr(None)
    _where: CompiledExpression | None = PrivateAttr(None)
    _origin: RuleOrigin | None = PrivateAttr(None)

    @field_validator("summary")
    @classmethod
    def _summary_compiles(cls, value: str) -> str:
        try:
            compile_summary(value)
        except TemplateError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value in CATEGORIES or re.fullmatch(r"domain:[a-z][a-z0-9_]{0,63}", value):
            return value
        raise ValueError(
            f"unknown category {_show(value)}{_hint(value, CATEGORIES)}; one of "
            f"{', '.join(CATEGORIES)}, or a domain's own as domain:<name>"
        )

    @model_validator(mode="after")
    def _compile(self, info: ValidationInfo) -> Rule:
        """Cross-field checks, located at the key they concern; a loader passes a list as
        ``context={"problems": [...]}`` to receive (key path, reason) pairs instead of one
        error at the rule."""
        problems: list[tuple[str, str]] = []
        kind = self.condition.kind
        if kind != "expression" and self.metric is None:
            problems.append(("metric", f"a condition {kind!r} reads the metric: set metric"))
        for key in ("labels", "metrics"):
            names = getattr(self, key) or []
            for i, name in enumerate(names):
                if name in names[:i]:
                    problems.append((f"{key}[{i}]", f"{name!r} is listed twice"))
        if self.time in self.labels:
            problems.append(("time", f"{self.time!r} is also a label"))
        if self.snapshot and kind == "rate_of_change":
            problems.append(
                ("snapshot", "a snapshot has no history to compare with: no rate_of_change")
            )
        if self.snapshot and self.skip_latest:
            problems.append(("skip_latest", "every row of a snapshot is at the latest time"))
        if kind == "one_of" and self.metric in (self.metrics or []):
            problems.append(
                ("metrics", f"{self.metric!r} is text for one_of: expressions cannot read it")
            )
        declared = self.declared_names
        if self.condition.expression is not None:
            try:
                self._expression = compile_expression(self.condition.expression, declared)
            except ExpressionError as exc:
                problems.append(("condition.expression", _expression_problem(exc)))
        if self.where is not None:
            try:
                self._where = compile_expression(self.where, declared)
            except ExpressionError as exc:
                problems.append(("where", _expression_problem(exc)))
        self._template = compile_summary(self.summary)
        if problems:
            sink = info.context.get("problems") if isinstance(info.context, dict) else None
            if sink is None:
                raise ValueError("; ".join(f"{path}: {reason}" for path, reason in problems))
            sink.extend(problems)
        return self

    # -- what the engine needs to know ---------------------------------------------------------
    @property
    def declared_names(self) -> tuple[str, ...]:
        """The names an expression (``condition.expression``, ``where``) may use."""
        if self.metrics is not None:
            return tuple(self.metrics)
        return (self.metric,) if self.metric is not None else ()

    @property
    def value_column(self) -> str:
        """The column reported as an observation's value (for a rate, the rate is)."""
        return self.metric if self.metric is not None else self.declared_names[0]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column of the source that :meth:`assess` reads, labels and time first."""
        names = [*self.labels, self.time, *(self.match or {}), *self._numeric_columns]
        if self.condition.one_of is not None and self.metric is not None:
            names.append(self.metric)
        return tuple(dict.fromkeys(names))

    @property
    def _numeric_columns(self) -> list[str]:
        if self.condition.one_of is not None:
            return list(dict.fromkeys(n for n in self.declared_names if n != self.metric))
        names = [self.value_column, *self.declared_names]
        names += [limit.column for limit in self.condition.limits if limit.column is not None]
        return list(dict.fromkeys(names))

    @property
    def history_rows(self) -> int:
        """Observations before the first one assessed that a rate of change needs (0 else)."""
        rate = self.condition.rate_of_change
        return rate.window if rate is not None else 0

    @property
    def origin(self) -> RuleOrigin | None:
        return self._origin

    def policy(self) -> LifecyclePolicy:
        """The rule's lifecycle policy. Channels are the rule's own; a rule from
        :meth:`RuleSet.rules_for` has the defaults' when it named none."""
        return LifecyclePolicy(
            severity=self.severity,
            for_count=self.for_,
            keep_firing_count=self.keep_firing_for,
            auto_resolve=self.auto_resolve,
            no_data=self.no_data,
            on_error=self.on_error,
            repeat_interval=self.repeat_interval,
            ack_timeout=self.ack_timeout,
            escalation=self.escalation.to_escalation() if self.escalation else None,
            channels=tuple(self.channels or ()),
            notify_resolved=self.notify_resolved,
        )

    def render_summary(
        self,
        value: float | None,
        threshold: str | None,
        labels: Mapping[str, Any],
        observed_at: Any,
        details: Mapping[str, Any] | None = None,
    ) -> str:
        """The summary for one observation; a template that fails (a null value fed to
        ``round``, a missing key) gives a plain summary instead, so rendering never raises."""
        variables = {
            "value": value,
            "threshold": threshold,
            "unit": self.unit or "",
            "labels": dict(labels),
            "observed_at": observed_at,
            "details": dict(details or {}),
            "rule": {
                "id": self.id,
                "severity": self.severity,
                "category": self.category,
                "source": self.source,
                "metric": self.value_column,
            },
        }
        try:
            text = render_summary(self._template or compile_summary(self.summary), variables)
        except Exception:  # any template failure falls back to the plain summary, as documented
            text = ""
        if text:
            return text
        scope = ", ".join(f"{k}={v}" for k, v in labels.items())
        unit = "" if not self.unit else self.unit if self.unit == "%" else f" {self.unit}"
        shown = "no data" if value is None else f"{self.value_column} {value:g}{unit}"
        limit = f" (limit {threshold})" if threshold else ""
        return f"{self.id}: {shown}{limit} at {scope or 'all'}"

    # -- assessment ------------------------------------------------------------------------------
    def assess(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Each row of one source (labels, time, metrics, threshold columns; sorted by labels
        then time) assessed: a frame on the rows' index with ``breached`` (nullable boolean, NA
        for no data), ``value`` and ``threshold`` (the limit as stated). Rows that are not
        observations are left out: those ``match`` does not select, ``where`` false or null, and
        for a rate of change the first ``window`` rows of each scope. Raises
        :class:`RuleEvaluationError` for a missing or non-numeric column."""
        missing = [name for name in self.columns if name not in frame.columns]
        if missing:
            raise RuleEvaluationError(
                f"rule {self.id}: {self.source} has no column {', '.join(map(repr, missing))}"
            )
        numeric = {name: _numeric(frame[name], name, self.source) for name in self._numeric_columns}
        keep = np.ones(len(frame), dtype=bool)
        for name, wanted in (self.match or {}).items():
            try:
                equal = frame[name] == wanted
            except TypeError as exc:
                raise RuleEvaluationError(
                    f"rule {self.id}: cannot compare {self.source}.{name} with {wanted!r}: {exc}"
                ) from None
            keep &= np.asarray(pd.Series(equal).fillna(False), dtype=bool)
        if self._where is not None:
            keep &= self._where.evaluate_arrays({n: numeric[n] for n in self._where.names}) == 1.0
        if self.skip_latest and len(frame):
            times = frame[self.time]
            keep &= np.asarray((times != times.max()).fillna(False), dtype=bool)
        rows = np.arange(len(frame))
        if not keep.all():
            rows = rows[keep]
            numeric = {name: values[keep] for name, values in numeric.items()}
        condition = self.condition
        with np.errstate(all="ignore"):
            if condition.rate_of_change is not None:
                return self._assess_rate(frame, rows, numeric[self.value_column])
            if condition.one_of is not None:
                return self._assess_one_of(frame, rows, condition.one_of)
            value = numeric[self.value_column]
            if condition.expression is not None:
                assert self._expression is not None
                result = self._expression.evaluate_arrays(
                    {n: numeric[n] for n in self._expression.names}
                )
                return _result(frame.index[rows], result, value, condition.expression)
            limits = condition.limits
            bounds = [np.broadcast_to(limit.values(numeric), value.shape) for limit in limits]
            if condition.above is not None:
                hit = value > bounds[0]
            elif condition.below is not None:
                hit = value < bounds[0]
            elif condition.outside is not None:
                hit = (value < bounds[0]) | (value > bounds[1])
            else:
                hit = (value >= bounds[0]) & (value <= bounds[1])
            unknown = np.isnan(value)
            for bound in bounds:
                unknown = unknown | np.isnan(bound)
            result = np.where(unknown, np.nan, hit)
            return _result(frame.index[rows], result, value, _limit_texts(limits, bounds))

    def _assess_one_of(
        self, frame: pd.DataFrame, rows: np.ndarray, values: list[str]
    ) -> pd.DataFrame:
        assert self.metric is not None
        text = frame[self.metric].iloc[rows]
        unknown = text.isna().to_numpy()
        hit = text.astype(str).isin(values).to_numpy()
        result = np.where(unknown, np.nan, hit.astype(np.float64))
        return _result(
            frame.index[rows], result, np.full(len(rows), np.nan), f"one of {', '.join(values)}"
        )

    def _assess_rate(
        self, frame: pd.DataFrame, rows: np.ndarray, value: np.ndarray
    ) -> pd.DataFrame:
        rate_spec = self.condition.rate_of_change
        assert rate_spec is not None
        window = rate_spec.window
        kept = frame.iloc[rows]
        scopes = _scope_codes(kept, self.labels)
        earlier, has_earlier = _earlier(value, scopes, window)
        if rate_spec.baseline == "mean":
            earlier = _earlier_mean(value, scopes, window)
        change = value - earlier
        if rate_spec.relative:
            change = np.where(earlier == 0, np.nan, change / np.abs(earlier) * 100.0)
        hit = np.zeros(len(change), dtype=bool)
        if rate_spec.above is not None:
            hit |= change > rate_spec.above
        if rate_spec.below is not None:
            hit |= change < rate_spec.below
        result = np.where(np.isnan(change), np.nan, hit)
        return _result(
            kept.index[has_earlier],
            result[has_earlier],
            change[has_earlier],
            _rate_text(rate_spec),
        )


def _expression_problem(exc: ExpressionError) -> str:
    message = str(exc)
    if message.startswith("unknown name") and "declared:" in message:
        message += "; an expression uses only names listed in metrics (or the metric)"
    return message


def _numeric(series: pd.Series, name: str, source: str) -> np.ndarray:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_object_dtype(dtype):
        try:
            numbers = pd.to_numeric(series, errors="raise")
            return np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
        except (ValueError, TypeError) as exc:
            raise RuleEvaluationError(
                f"column {name!r} of {source} is not numeric: {exc}"
            ) from None
    raise RuleEvaluationError(f"column {name!r} of {source} holds {dtype}, not numbers")


def _result(
    index: pd.Index, breached: np.ndarray, value: np.ndarray, threshold: str | pd.Categorical
) -> pd.DataFrame:
    unknown = np.isnan(breached)
    flags = pd.arrays.BooleanArray(breached == 1.0, unknown)
    if isinstance(threshold, str):
        threshold = pd.Categorical.from_codes(np.zeros(len(index), dtype=np.int8), [threshold])
    return pd.DataFrame(
        {"breached": flags, "value": np.asarray(value, dtype=np.float64), "threshold": threshold},
        index=index,
    )


def _limit_texts(limits: list[Limit], bounds: list[np.ndarray]) -> str | pd.Categorical:
    """The limit as the rule states it: ``5``, ``-5..5``, per row ``80 (store_high_pct)``."""
    if len(limits) == 1:
        (limit,) = limits
        if limit.column is None:
            return limit.source_text
        return _per_row_texts(bounds, lambda v: f"{_number(v[0])} ({limit.source_text})")
    low, high = limits
    if low.column is None and high.column is None:
        return f"{low.source_text}..{high.source_text}"
    if low.column == high.column and low.negate and not high.negate:
        source = f"±{high.column}"
    else:
        source = f"{low.source_text}..{high.source_text}"
    return _per_row_texts(bounds, lambda v: f"{_number(v[0])}..{_number(v[1])} ({source})")


def _rate_text(rate: RateOfChange) -> str:
    unit = " %" if rate.relative else ""
    against = f" against the mean of the {rate.window} before" if rate.baseline == "mean" else ""
    if rate.above is not None and rate.below is not None:
        band = f"{_number(rate.below)}..{_number(rate.above)}{unit}"
    elif rate.above is not None:
        band = f"> {_number(rate.above)}{unit}"
    else:
        assert rate.below is not None
        band = f"< {_number(rate.below)}{unit}"
    if against:
        return f"{band}{against}"
    rows = "observation" if rate.window == 1 else "observations"
    return f"{band} over {rate.window} {rows}"


class RuleSwitch(_Model):
    """``{id: x, enabled: false}``: switches off the rule of that id an earlier layer gave
    (for ``sites`` only, when given)."""

    id: RuleId
    enabled: Literal[False]
    sites: list[SiteId] | None = Field(None, min_length=1, max_length=1_000)

    _origin: RuleOrigin | None = PrivateAttr(None)

    @property
    def origin(self) -> RuleOrigin | None:
        return self._origin


# -- channels ----------------------------------------------------------------------------------

# keys that would put a secret in the file, and where the secret goes instead
_SECRET_KEYS = {
    "password": "password_env",
    "username": "username_env",
    "secret": "secret_env",
    "token": "an environment variable",
    "api_key": "an environment variable",
}


class _Channel(_Model):
    min_severity: Severity = "info"
    resolved: bool = False

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            secret_keys = dict(_SECRET_KEYS)
            if cls is SlackChannel:
                secret_keys["url"] = "url_env"
            for key, instead in secret_keys.items():
                if key in data and key not in cls.model_fields:
                    raise ValueError(
                        f"{key!r} would put a secret in the file: keep it in an environment "
                        f"variable and name that variable in {instead}"
                    )
        return data


class EmailChannel(_Channel):
    """E-mail through the deployment's SMTP server (its settings are the platform's)."""

    kind: Literal["email"]
    to: list[EmailAddress] = Field(min_length=1, max_length=50)


class SlackChannel(_Channel):
    """A Slack incoming webhook; its URL is a secret, so only its variable's name is here."""

    kind: Literal["slack"]
    url_env: EnvName


class SmsFields(_Model):
    """The gateway's names for the form or JSON fields."""

    to: str = Field("To", min_length=1, max_length=64)
    sender: str = Field("From", min_length=1, max_length=64)
    body: str = Field("Body", min_length=1, max_length=64)


class SmsChannel(_Channel):
    """An SMS gateway taking a form or JSON POST (Twilio-style), with basic authentication."""

    kind: Literal["sms"]
    url: HttpUrl
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    to: list[PhoneNumber] = Field(min_length=1, max_length=50)
    sender: str = Field(min_length=1, max_length=32)
    fields: SmsFields = Field(default_factory=SmsFields)
    content_type: Literal["form", "json"] = "form"
    min_severity: Severity = "critical"


class WebhookChannel(_Channel):
    """A JSON POST, always signed (Standard Webhooks) with the secret ``secret_env`` names: a
    receiver can then tell our alerts from anyone's POST."""

    kind: Literal["webhook"]
    url: HttpUrl
    secret_env: EnvName
    resolved: bool = True


ChannelConfig = EmailChannel | SlackChannel | SmsChannel | WebhookChannel
CHANNEL_KINDS: dict[str, type[_Channel]] = {
    "email": EmailChannel,
    "slack": SlackChannel,
    "sms": SmsChannel,
    "webhook": WebhookChannel,
}


class Defaults(_Model):
    """What a rule that does not say takes: ``channels``."""

    channels: list[ChannelName] = Field(default_factory=list, max_length=20)


# -- files -------------------------------------------------------------------------------------


@dataclass
class RuleFile:
    """What one file gave: rules and switches in file order, channels, defaults, problems."""

    file: str
    layer: Layer
    site_id: str | None = None
    entries: list[Rule | RuleSwitch] = field(default_factory=list)
    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    defaults: Defaults | None = None
    problems: list[ConfigProblem] = field(default_factory=list)
    document: YamlDocument | None = None

    @property
    def rules(self) -> list[Rule]:
        return [entry for entry in self.entries if isinstance(entry, Rule)]

    def problem(self, path: str, message: str) -> None:
        if self.document is not None:
            self.problems.append(self.document.problem(path, message))
        else:
            self.problems.append(ConfigProblem(self.file, path, message))


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _kind_of(value: Any) -> str:
    return "an empty value" if value is None else type(value).__name__


def _read_section(result: RuleFile, section: Any, prefix: str) -> None:
    """Fill ``result`` from a mapping of rules (and, for a deployment, channels and defaults)."""
    assert result.document is not None
    doc = result.document
    allowed = _SECTIONS[result.layer]
    if not isinstance(section, dict):
        result.problem(
            prefix, f"expected a mapping with {', '.join(allowed)}, got {_kind_of(section)}"
        )
        return
    for key in section:
        if key not in allowed:
            where = {
                "pack": "a rule pack holds rules only",
                "site": "a site file's alerts hold rules only (channels are the deployment's)",
                "deployment": "a rules file holds rules, channels and defaults",
            }[result.layer]
            result.problem(_join(prefix, str(key)), f"unknown key; {where}")
    channels = section.get("channels")
    if channels is not None and "channels" in allowed:
        _read_channels(result, channels, _join(prefix, "channels"))
    defaults = section.get("defaults")
    if defaults is not None and "defaults" in allowed:
        try:
            result.defaults = Defaults.model_validate(defaults)
        except ValidationError as exc:
            result.problems += validation_problems(exc, doc, _join(prefix, "defaults"))
    rules = section.get("rules")
    if rules is not None:
        _read_rules(result, rules, _join(prefix, "rules"))


def _read_rules(result: RuleFile, items: Any, prefix: str) -> None:
    assert result.document is not None
    doc = result.document
    if not isinstance(items, list):
        result.problem(prefix, f"expected a list of rules, got {_kind_of(items)}")
        return
    if len(items) > MAX_RULES_PER_FILE:
        result.problem(prefix, f"{len(items)} rules; the limit is {MAX_RULES_PER_FILE} a file")
        return
    first_at: dict[str, int] = {}
    for i, item in enumerate(items):
        path = f"{prefix}[{i}]"
        if not isinstance(item, dict):
            result.problem(path, f"a rule is a mapping (id, summary, ...), got {_kind_of(item)}")
            continue
        rule_id = item.get("id")
        if isinstance(rule_id, str):
            if rule_id in first_at:
                result.problem(
                    f"{path}.id",
                    f"duplicate rule id {rule_id!r} (first at {prefix}[{first_at[rule_id]}])",
                )
                continue
            first_at[rule_id] = i
        if result.layer == "site" and "sites" in item:
            result.problem(f"{path}.sites", "a site file's rules apply to its own site only")
            continue
        if item.get("enabled") is False and set(item) <= {"id", "enabled", "sites"}:
            try:
                switch = RuleSwitch.model_validate(item)
            except ValidationError as exc:
                result.problems += validation_problems(exc, doc, path)
                continue
            switch._origin = RuleOrigin(
                result.layer, result.file, path, doc.line(path), result.site_id
            )
            result.entries.append(switch)
            continue
        found: list[tuple[str, str]] = []
        try:
            rule = Rule.model_validate(item, context={"problems": found})
        except ValidationError as exc:
            result.problems += validation_problems(exc, doc, path)
            continue
        if found:
            result.problems += [doc.problem(_join(path, sub), reason) for sub, reason in found]
            continue
        rule._origin = RuleOrigin(result.layer, result.file, path, doc.line(path), result.site_id)
        result.entries.append(rule)


def _read_channels(result: RuleFile, channels: Any, prefix: str) -> None:
    assert result.document is not None
    doc = result.document
    if not isinstance(channels, dict):
        result.problem(
            prefix, f"expected a mapping of channel name to channel, got {_kind_of(channels)}"
        )
        return
    for name, body in channels.items():
        path = f"{prefix}.{name}"
        if not isinstance(name, str):
            result.problem(path, f"a channel name is text, got {_kind_of(name)}")
            continue
        try:
            _channel_name(name)
        except ValueError as exc:
            result.problem(path, str(exc))
            continue
        if not isinstance(body, dict):
            result.problem(path, f"a channel is a mapping with a kind, got {_kind_of(body)}")
            continue
        kind = body.get("kind")
        model = CHANNEL_KINDS.get(kind) if isinstance(kind, str) else None
        if model is None:
            result.problem(
                f"{path}.kind",
                f"kind {_show(kind)} is not one of {', '.join(CHANNEL_KINDS)}"
                + (_hint(kind, CHANNEL_KINDS) if isinstance(kind, str) else ""),
            )
            continue
        try:
            channel = model.model_validate(body)
        except ValidationError as exc:
            result.problems += validation_problems(exc, doc, path)
            continue
        assert isinstance(channel, EmailChannel | SlackChannel | SmsChannel | WebhookChannel)
        result.channels[name] = channel


def _read_text(text: str, file: str, layer: Layer, site_id: str | None = None) -> RuleFile:
    result = RuleFile(file, layer, site_id)
    try:
        result.document = parse_yaml_mapping(text, file, max_nodes=MAX_RULES_YAML_NODES)
    except SiteConfigError as exc:
        result.problems += exc.problems
        return result
    _read_section(result, result.document.data, "")
    return result


def _read_file(path: Path, layer: Layer) -> RuleFile:
    try:
        text = read_config_text(path, MAX_RULES_FILE_BYTES)
    except SiteConfigError as exc:
        return RuleFile(str(path), layer, problems=list(exc.problems))
    return _read_text(text, str(path), layer)


def _read_site_file(path: Path) -> RuleFile | None:
    """The rules of a site file's ``alerts``, or None when it has none. A file that cannot be
    read as YAML is a problem here too: its alert rules are not loaded."""
    name = str(path)
    try:
        doc = parse_yaml_mapping(read_config_text(path), name)
    except SiteConfigError as exc:
        return RuleFile(name, "site", problems=list(exc.problems))
    section = doc.data.get("alerts")
    if section is None:
        return None
    site = doc.data.get("site")
    site_id = site.get("id") if isinstance(site, dict) else None
    result = RuleFile(name, "site", document=doc)
    if not isinstance(site_id, str) or not re.fullmatch(_SITE_ID, site_id):
        result.problem("site.id", "the site's id is needed to apply its alert rules")
        return result
    result.site_id = site_id
    _read_section(result, section, "alerts")
    return result


def _check_channel_references(result: RuleFile, known: Collection[str]) -> None:
    """Drop (with a problem at the reference) every rule naming a channel not in ``known``."""
    kept: list[Rule | RuleSwitch] = []
    for entry in result.entries:
        if isinstance(entry, Rule) and entry.origin is not None:
            refs = [(f"channels[{j}]", name) for j, name in enumerate(entry.channels or [])]
            if entry.escalation is not None:
                refs += [
                    (f"escalation.channels[{j}]", name)
                    for j, name in enumerate(entry.escalation.channels)
                ]
            unknown = [(sub, name) for sub, name in refs if name not in known]
            for sub, name in unknown:
                result.problem(f"{entry.origin.path}.{sub}", _unknown_channel(name, known))
            if unknown:
                continue
        kept.append(entry)
    result.entries = kept


def _unknown_channel(name: str, known: Collection[str]) -> str:
    listed = ", ".join(sorted(known)) if known else "none is configured"
    return f"unknown channel {name!r}{_hint(name, known)}; channels: {listed}"


# -- the whole set -----------------------------------------------------------------------------


@dataclass
class RuleSet:
    """Every rule, channel and default loaded, and every problem found on the way."""

    packs: list[RuleFile]
    sites: dict[str, RuleFile]
    deployment: list[RuleFile]
    channels: dict[str, ChannelConfig]
    defaults: Defaults
    problems: list[ConfigProblem]

    @property
    def files(self) -> list[RuleFile]:
        return [*self.packs, *self.sites.values(), *self.deployment]

    @property
    def all_rules(self) -> list[Rule]:
        """Every rule loaded, in precedence order (packs, site files, deployment), including
        those a later layer replaces or switches off; :meth:`rules_for` gives the effective
        ones."""
        return [rule for rule_file in self.files for rule in rule_file.rules]

    @property
    def site_ids(self) -> list[str]:
        """The sites whose files had alert rules."""
        return list(self.sites)

    def rules_for(self, site_id: str) -> list[Rule]:
        """The rules that apply to ``site_id``: later layers replace earlier rules of the same
        id, ``sites`` restricts a rule, switched-off and disabled rules are left out, and a rule
        naming no channels has the defaults'."""
        chosen: dict[str, Rule | None] = {}
        layers = [
            *self.packs,
            *([self.sites[site_id]] if site_id in self.sites else []),
            *self.deployment,
        ]
        for rule_file in layers:
            for entry in rule_file.entries:
                if entry.sites is not None and site_id not in entry.sites:
                    continue
                chosen[entry.id] = entry if isinstance(entry, Rule) and entry.enabled else None
        rules = []
        for rule in chosen.values():
            if rule is None:
                continue
            if rule.channels is None:
                rule = rule.model_copy(update={"channels": list(self.defaults.channels)})
            rules.append(rule)
        return rules


def pack_files() -> list[Path]:
    """The rule packs shipped with the platform."""
    return sorted(PACK_DIR.glob("*.yaml"))


def deployment_files(home: Path) -> list[Path]:
    """The deployment's rules files: ``$SITELEDGER_HOME/alerts/*.yaml`` (and ``*.yml``)."""
    folder = Path(home) / "alerts"
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")], key=lambda p: p.name)


def load_rules(home: Path | None, site_files: Sequence[Path]) -> RuleSet:
    """Load the packs, the site files' ``alerts`` and the deployment's rules files under
    ``home`` (none when None). Never raises for a bad file: problems are listed in
    :attr:`RuleSet.problems` and what is valid is loaded."""
    packs = [_read_file(path, "pack") for path in pack_files()]
    problems: list[ConfigProblem] = []
    sites: dict[str, RuleFile] = {}
    unplaced: list[RuleFile] = []
    for path in site_files:
        site = _read_site_file(Path(path))
        if site is None:
            continue
        if site.site_id is None:
            unplaced.append(site)
        elif site.site_id in sites:
            site.problem("site.id", f"site {site.site_id!r} is also {sites[site.site_id].file}")
            unplaced.append(site)
        else:
            sites[site.site_id] = site
    deployment = [_read_file(path, "deployment") for path in deployment_files(home)] if home else []

    channels: dict[str, ChannelConfig] = {}
    channel_files: dict[str, str] = {}
    for rule_file in deployment:
        for name, channel in rule_file.channels.items():
            if name in channels:
                rule_file.problem(
                    f"channels.{name}", f"channel {name!r} is also in {channel_files[name]}"
                )
                continue
            channels[name] = channel
            channel_files[name] = rule_file.file
    defaults: Defaults | None = None
    defaults_file = ""
    for rule_file in deployment:
        if rule_file.defaults is None:
            continue
        if defaults is not None:
            rule_file.problem("defaults", f"defaults are also set in {defaults_file}")
            continue
        for j, name in enumerate(rule_file.defaults.channels):
            if name not in channels:
                rule_file.problem(f"defaults.channels[{j}]", _unknown_channel(name, channels))
        defaults = Defaults(channels=[n for n in rule_file.defaults.channels if n in channels])
        defaults_file = rule_file.file
    for rule_file in [*packs, *sites.values(), *deployment]:
        _check_channel_references(rule_file, channels)

    # a switch naming no rule of its own or an earlier layer is most likely a misspelt id
    rule_ids: set[str] = set()
    for rule_file in [*packs, *sites.values(), *deployment]:
        for entry in rule_file.entries:
            if isinstance(entry, Rule):
                rule_ids.add(entry.id)
            elif entry.id not in rule_ids:
                where = entry.origin.path if entry.origin is not None else "rules"
                rule_file.problem(
                    f"{where}.id", f"no rule {entry.id!r} to switch off{_hint(entry.id, rule_ids)}"
                )
    for rule_file in [*packs, *sites.values(), *unplaced, *deployment]:
        problems += rule_file.problems
    return RuleSet(packs, sites, deployment, channels, defaults or Defaults(), problems)


def parse_rules_text(
    text: str,
    file: str = "<string>",
    *,
    layer: Layer = "deployment",
    channels: Collection[str] | None = None,
) -> RuleFile:
    """Rules, channels and defaults from the text of one rules file; raises
    :class:`RuleConfigError` listing every problem. Channel references are checked against the
    file's own channels and ``channels`` when that is given (None: not checked)."""
    result = _read_text(text, file, layer)
    if channels is not None:
        _check_channel_references(result, {*channels, *result.channels})
    if result.problems:
        raise RuleConfigError(result.problems)
    return result


def validate_rule_file(
    path: str | Path, *, channels: Collection[str] | None = None, layer: Layer = "deployment"
) -> list[ConfigProblem]:
    """Every problem with one rules file; an empty list means it is valid. Channel references
    are checked against the file's own channels and ``channels`` when that is given (a
    deployment can keep its channels in another file: pass ``load_rules(home, []).channels``);
    with None they are left to :func:`load_rules`."""
    result = _read_file(Path(path), layer)
    if channels is not None and result.document is not None:
        _check_channel_references(result, {*channels, *result.channels})
    return result.problems


__all__ = [
    "CHANNEL_KINDS",
    "CONDITION_KINDS",
    "PACK_DIR",
    "ChannelConfig",
    "Condition",
    "Defaults",
    "EmailChannel",
    "EscalationSpec",
    "Limit",
    "RateOfChange",
    "Rule",
    "RuleConfigError",
    "RuleEvaluationError",
    "RuleFile",
    "RuleOrigin",
    "RuleSet",
    "RuleSwitch",
    "SlackChannel",
    "SmsChannel",
    "SmsFields",
    "WebhookChannel",
    "deployment_files",
    "format_duration",
    "load_rules",
    "pack_files",
    "parse_duration",
    "parse_rules_text",
    "validate_rule_file",
]
