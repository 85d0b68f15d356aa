"""Alert rules: assessing rows by hand-computed cases for every condition kind, the lifecycle
policy and summaries a rule gives, and the order in which packs, site files and deployment files
override each other."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from alerts.rules import (
    Rule,
    RuleEvaluationError,
    SmsChannel,
    format_duration,
    load_rules,
    pack_files,
    parse_duration,
)
from alerts.types import Escalation, LifecyclePolicy

BASE: dict[str, Any] = {
    "id": "r",
    "summary": "{{ value }} at {{ labels.site_id }}",
    "category": "operational",
    "source": "src",
    "time": "day",
    "labels": ["site_id"],
    "metric": "v",
}


def rule(**fields: Any) -> Rule:
    return Rule.model_validate({**BASE, **fields})


def frame(**columns: list[Any]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    data: dict[str, Any] = {"site_id": ["s"] * n, "day": list(range(n))}
    data.update(columns)
    return pd.DataFrame(data, index=[f"row{i}" for i in range(n)])


def flags(assessed: pd.DataFrame) -> list[bool | None]:
    return [None if pd.isna(b) else bool(b) for b in assessed["breached"]]


# -- threshold conditions ----------------------------------------------------------------------


def test_above_a_number_breaches_strictly_above_and_null_is_no_data():
    out = rule(condition={"above": 5}).assess(frame(v=[4.0, 5.0, 6.0, None]))
    assert flags(out) == [False, False, True, None]
    assert out["breached"].dtype == "boolean"
    assert list(out.index) == ["row0", "row1", "row2", "row3"]
    assert out["value"].tolist()[:3] == [4.0, 5.0, 6.0]
    assert list(out["threshold"]) == ["5"] * 4


def test_below_a_number():
    out = rule(condition={"below": 20}).assess(frame(v=[19.0, 20.0, 21.0]))
    assert flags(out) == [True, False, False]


def test_a_threshold_read_from_a_column_per_row_with_a_default_for_nulls():
    data = frame(v=[85.0, 79.0, 90.0, 50.0], high=[80.0, 80.0, None, 40.0])
    with_default = rule(condition={"above": {"column": "high", "default": 80}})
    out = with_default.assess(data)
    assert flags(out) == [True, False, True, True]
    assert list(out["threshold"]) == ["80 (high)", "80 (high)", "80 (high)", "40 (high)"]
    without = rule(condition={"above": {"column": "high"}}).assess(data)
    assert flags(without) == [True, False, None, True]
    assert list(without["threshold"])[2] == "n/a (high)"


def test_outside_a_band_breaches_beyond_either_edge_but_not_on_it():
    out = rule(condition={"outside": [-5, 5]}).assess(frame(v=[-6, -5, 0, 5, 6, None]))
    assert flags(out) == [True, False, False, False, True, None]
    assert set(out["threshold"]) == {"-5..5"}


def test_outside_plus_or_minus_a_threshold_column():
    band = [{"column": "limit", "negate": True}, {"column": "limit"}]
    out = rule(condition={"outside": band}).assess(
        frame(v=[6.0, -6.0, 4.0, -7.5], limit=[5.0, 5.0, 7.0, 7.5])
    )
    assert flags(out) == [True, True, False, False]
    assert list(out["threshold"]) == [
        "-5..5 (±limit)",
        "-5..5 (±limit)",
        "-7..7 (±limit)",
        "-7.5..7.5 (±limit)",
    ]


def test_inside_a_band_includes_its_edges():
    out = rule(condition={"inside": [0, 10]}).assess(frame(v=[-1, 0, 10, 11]))
    assert flags(out) == [False, True, True, False]
    assert set(out["threshold"]) == {"0..10"}


def test_a_band_of_two_columns_names_both():
    band = [{"column": "lo"}, 10]
    out = rule(condition={"outside": band}).assess(frame(v=[1.0, 11.0], lo=[2.0, 0.0]))
    assert flags(out) == [True, True]
    assert list(out["threshold"]) == ["2..10 (lo..10)", "0..10 (lo..10)"]


# -- rate of change ----------------------------------------------------------------------------


def scoped(values: dict[str, list[float | None]]) -> pd.DataFrame:
    rows = [(site, day, v) for site, vs in values.items() for day, v in enumerate(vs)]
    data = pd.DataFrame(rows, columns=["site_id", "day", "v"])
    data.index = [f"{site}{day}" for site, day, _ in rows]
    return data


def test_absolute_rate_of_change_within_each_scope_leaves_out_rows_without_an_earlier_one():
    spec = {"rate_of_change": {"window": 1, "above": 5}}
    out = rule(condition=spec).assess(scoped({"a": [10, 20, 15], "b": [100, 100, 300]}))
    assert list(out.index) == ["a1", "a2", "b1", "b2"]
    assert out["value"].tolist() == [10.0, -5.0, 0.0, 200.0]
    assert flags(out) == [True, False, False, True]
    assert set(out["threshold"]) == {"> 5 over 1 observation"}


def test_relative_rate_of_change_is_a_percentage_of_the_earlier_magnitude():
    spec = {"rate_of_change": {"window": 1, "above": 50, "below": -50, "relative": True}}
    out = rule(condition=spec).assess(scoped({"a": [100, 40, 0, 10], "b": [-10, -4]}))
    assert list(out.index) == ["a1", "a2", "a3", "b1"]
    # 100 -> 40: -60 %; 40 -> 0: -100 %; 0 -> 10: no earlier magnitude; -10 -> -4: +60 %
    np.testing.assert_allclose(out["value"], [-60.0, -100.0, np.nan, 60.0])
    assert flags(out) == [True, True, None, True]
    assert set(out["threshold"]) == {"-50..50 % over 1 observation"}


def test_rate_of_change_over_a_wider_window_and_a_null_earlier_value():
    spec = {"rate_of_change": {"window": 2, "below": -10}}
    out = rule(condition=spec).assess(scoped({"a": [50, None, 30, 45, 5]}))
    assert list(out.index) == ["a2", "a3", "a4"]
    # 50 -> 30: -20; null -> 45: no data; 30 -> 5: -25
    assert flags(out) == [True, None, True]
    assert set(out["threshold"]) == {"< -10 over 2 observations"}


def test_rate_of_change_does_not_depend_on_how_scopes_are_interleaved():
    spec = {"rate_of_change": {"window": 1, "above": 0}}
    ordered = scoped({"a": [1, 3, 2, 5], "b": [9, 8, 10, 10]})
    interleaved = ordered.iloc[[0, 4, 1, 5, 2, 6, 3, 7]]
    first = rule(condition=spec).assess(ordered)
    second = rule(condition=spec).assess(interleaved).loc[first.index]
    pd.testing.assert_frame_equal(first, second)


def test_rate_of_change_scopes_by_every_label():
    data = pd.DataFrame(
        {
            "site_id": ["s", "s", "s", "s"],
            "meter_id": ["m1", "m2", "m1", "m2"],
            "day": [1, 1, 2, 2],
            "v": [10.0, 1000.0, 12.0, 1001.0],
        }
    )
    spec = {"rate_of_change": {"window": 1, "above": 1.5}}
    out = rule(labels=["site_id", "meter_id"], condition=spec).assess(data)
    assert out["value"].tolist() == [2.0, 1.0]
    assert flags(out) == [True, False]


# -- expressions, where, match -----------------------------------------------------------------


def test_an_expression_rule_reports_its_first_declared_metric():
    r = rule(
        metric=None,
        metrics=["inflow", "err"],
        condition={"expression": "inflow < 1000 and err > 5"},
    )
    out = r.assess(frame(inflow=[500.0, 500.0, 2000.0, None], err=[6.0, 1.0, 9.0, 9.0]))
    assert flags(out) == [True, False, False, None]
    assert out["value"].tolist()[:3] == [500.0, 500.0, 2000.0]
    assert set(out["threshold"]) == {"inflow < 1000 and err > 5"}


def test_rows_where_is_false_or_null_are_not_observations():
    r = rule(metrics=["v", "closed"], condition={"above": 5}, where="closed")
    out = r.assess(frame(v=[9.0, 9.0, 1.0, None], closed=[True, False, True, None]))
    assert list(out.index) == ["row0", "row2"]
    assert flags(out) == [True, False]


def test_a_rate_of_change_counts_only_observations_where_selects():
    spec = {"rate_of_change": {"window": 1, "above": 5}}
    r = rule(metrics=["v", "closed"], condition=spec, where="closed == 1")
    data = scoped({"a": [10, 99, 12, 30]})
    data["closed"] = [1, 0, 1, 1]
    out = r.assess(data)
    # the open day (99) is skipped: 10 -> 12 (+2), 12 -> 30 (+18)
    assert list(out.index) == ["a2", "a3"]
    assert out["value"].tolist() == [2.0, 18.0]
    assert flags(out) == [False, True]


def test_match_selects_rows_by_column_values():
    r = rule(condition={"above": 5}, match={"grain": "day"})
    out = r.assess(frame(v=[9.0, 9.0, 1.0], grain=["day", "month", "day"]))
    assert list(out.index) == ["row0", "row2"]
    assert flags(out) == [True, False]
    assert "grain" in r.columns


def test_a_missing_or_non_numeric_column_is_an_evaluation_error():
    r = rule(condition={"above": {"column": "high"}})
    with pytest.raises(RuleEvaluationError, match="src has no column 'high'"):
        r.assess(frame(v=[1.0]))
    with pytest.raises(RuleEvaluationError, match="'v' of src holds str, not numbers"):
        rule(condition={"above": 1}).assess(frame(v=["a lot"]))
    with pytest.raises(RuleEvaluationError, match="'v' of src is not numeric"):
        rule(condition={"above": 1}).assess(frame(v=pd.array([1.0, "a lot"], dtype=object)))
    with pytest.raises(RuleEvaluationError, match="not numbers"):
        rule(condition={"above": 1}).assess(frame(v=pd.to_datetime(["2026-01-01"])))


def test_nullable_and_decimal_columns_are_numbers():
    from decimal import Decimal

    data = frame(v=pd.array([6, None, 4], dtype="Int64"))
    assert flags(rule(condition={"above": 5}).assess(data)) == [True, None, False]
    data = frame(v=[Decimal("5.5"), None])
    assert flags(rule(condition={"above": 5}).assess(data)) == [True, None]


def test_an_empty_frame_gives_an_empty_assessment():
    out = rule(condition={"above": 5}).assess(frame(v=pd.Series([], dtype=float)))
    assert list(out.columns) == ["breached", "value", "threshold"] and out.empty


def test_assessing_many_scopes_is_vectorised():
    scopes, days = 2_000, 365
    data = pd.DataFrame(
        {
            "site_id": np.repeat(np.arange(scopes).astype(str), days),
            "day": np.tile(np.arange(days), scopes),
            "v": np.random.default_rng(3).uniform(0, 100, scopes * days),
            "high": 80.0,
        }
    )
    import time

    for condition in (
        {"above": {"column": "high", "default": 80}},
        {"rate_of_change": {"window": 7, "above": 50, "relative": True}},
    ):
        started = time.perf_counter()
        out = rule(condition=condition).assess(data)
        assert time.perf_counter() - started < 2.0
        assert len(out) >= scopes * (days - 7)


# -- what a rule says of its alerts ------------------------------------------------------------


def test_policy_carries_the_lifecycle_fields():
    r = rule(
        condition={"above": 5},
        **{"for": 3},
        keep_firing_for=2,
        auto_resolve=False,
        no_data="alerting",
        on_error="ok",
        severity="critical",
        channels=["ops"],
        repeat_interval="30m",
        ack_timeout="12h",
        escalation={"after_occurrences": 2, "after": "2h", "channels": ["boss"]},
        notify_resolved=False,
    )
    assert r.policy() == LifecyclePolicy(
        severity="critical",
        for_count=3,
        keep_firing_count=2,
        auto_resolve=False,
        no_data="alerting",
        on_error="ok",
        repeat_interval=dt.timedelta(minutes=30),
        ack_timeout=dt.timedelta(hours=12),
        escalation=Escalation(after_occurrences=2, after=dt.timedelta(hours=2), channels=("boss",)),
        channels=("ops",),
        notify_resolved=False,
    )


def test_the_summary_renders_its_variables():
    r = rule(
        condition={"above": 5},
        unit="%",
        summary="{{ rule.id }}: {{ value | round(1) }}{{ unit }} over {{ threshold }}"
        " at {{ labels.site_id }} on {{ observed_at }} ({{ details.note | default('-') }})",
    )
    text = r.render_summary(6.26, "5", {"site_id": "mine"}, "2026-03-01", {})
    assert text == "r: 6.3% over 5 at mine on 2026-03-01 (-)"


def test_a_summary_that_fails_to_render_falls_back_to_a_plain_one():
    r = rule(condition={"above": 5}, unit="%", summary="{{ value | round(1) }} {{ details.x }}")
    assert (
        r.render_summary(6.0, "5", {"site_id": "mine"}, "d") == "r: v 6% (limit 5) at site_id=mine"
    )
    assert (
        r.render_summary(None, "5", {"site_id": "mine"}, "d")
        == "r: no data (limit 5) at site_id=mine"
    )


def test_a_summary_cannot_reach_python_internals_or_build_huge_text():
    # item access is allowed when the rule loads; the sandbox refuses the attribute it falls
    # back to when the summary renders
    escape = rule(condition={"above": 5}, summary="{{ labels['__class__']['__mro__'] }}x")
    assert escape.render_summary(1.0, "5", {"site_id": "s"}, "d") == "r: v 1 (limit 5) at site_id=s"
    repeat = rule(condition={"above": 5}, summary="{{ 'ab' * 100000000 }}")
    assert repeat.render_summary(1.0, "5", {"site_id": "s"}, "d").startswith("r: v 1")


@pytest.mark.parametrize(
    ("summary", "reason"),
    [
        ("{% for i in range(10) %}x{% endfor %}", "'for' loops are not allowed"),
        ("{{ lipsum() }}", "calls are not allowed"),
        ("{{ 9 ** 9 ** 9 }}", "'**' is not allowed"),
        ("{{ '%999999999d' % 1 }}", "'%' is not allowed"),
        ("{{ value | center(1000000000) }}", "filter 'center' is not allowed"),
        ("{{ value.__class__ }}", "attribute '__class__' is not allowed"),
        ("{% set x = 1 %}", "'set' is not allowed"),
        ("{{ value ", "template syntax error on line 1"),
        ("x" * 1001, "at most 1000 characters"),
    ],
)
def test_summaries_that_could_misbehave_are_refused_when_the_rule_loads(summary, reason):
    with pytest.raises(ValidationError) as info:
        rule(condition={"above": 5}, summary=summary)
    assert reason in str(info.value)


def test_columns_and_history_tell_the_engine_what_to_read():
    r = rule(
        labels=["site_id", "node_id"],
        metrics=["v", "closed"],
        where="closed",
        condition={"outside": [{"column": "t", "negate": True}, {"column": "t"}]},
    )
    assert r.columns == ("site_id", "node_id", "day", "v", "closed", "t")
    assert r.history_rows == 0
    assert rule(condition={"rate_of_change": {"window": 12, "above": 1}}).history_rows == 12


# -- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("4h", 14400), ("2d", 172800), ("1w", 604800), ("1h30m", 5400), ("90s", 90)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("4 hours", "is not a duration"),
        ("-1h", "cannot be negative"),
        ("0s", "shorter than the minimum, 1m"),
        ("30s", "shorter than the minimum, 1m"),
        ("1e9d", "is not a duration"),
        ("91d", "longer than the maximum, 90d"),
        ("999999999w", "longer than the maximum"),
        (3600, "has no unit"),
        (True, "a duration is text"),
        ("", "is not a duration"),
    ],
)
def test_bad_durations_say_why(value, reason):
    with pytest.raises(ValueError, match=reason):
        parse_duration(value)


def test_format_duration_picks_the_largest_whole_unit():
    assert [format_duration(s) for s in (60, 5400, 14400, 604800, 45)] == [
        "1m",
        "90m",
        "4h",
        "1w",
        "45s",
    ]


def test_lookback_may_reach_further_than_other_durations():
    assert rule(condition={"above": 1}, lookback="400d").lookback == dt.timedelta(days=400)
    with pytest.raises(ValidationError, match="longer than the maximum, 90d"):
        rule(condition={"above": 1}, repeat_interval="400d")


# -- loading: packs < site file < deployment ---------------------------------------------------

SITE = """\
site:
  id: {site_id}
  name: A site
nodes:
  - {{id: river, kind: source}}
alerts:
  rules:
{rules}
"""


def write_site(folder: Path, site_id: str, rules: str) -> Path:
    path = folder / f"{site_id}.yaml"
    path.write_text(SITE.format(site_id=site_id, rules=textwrap.indent(rules, "    ")))
    return path


def write_deployment(home: Path, name: str, text: str) -> Path:
    (home / "alerts").mkdir(parents=True, exist_ok=True)
    path = home / "alerts" / name
    path.write_text(textwrap.dedent(text))
    return path


RULE_YAML = """\
- id: {id}
  summary: "{summary}"
  category: operational
  source: fct_store_levels_daily
  time: day
  labels: [site_id, node_id]
  metric: fill_pct
  condition: {{above: {above}}}
"""


def test_packs_load_and_apply_to_every_site_with_default_channels(tmp_path):
    write_deployment(
        tmp_path,
        "channels.yaml",
        """\
        channels:
          ops: {kind: email, to: [ops@example.com]}
        defaults: {channels: [ops]}
        """,
    )
    rules = load_rules(tmp_path, [])
    assert rules.problems == []
    ids = {r.id for r in rules.rules_for("any_site")}
    assert {"closure_error_high", "store_level_high", "report_overdue"} <= ids
    store = next(r for r in rules.rules_for("any_site") if r.id == "store_level_high")
    assert store.policy().channels == ("ops",)
    # the copy given the default channels assesses like the rule it was made from
    levels = pd.DataFrame(
        {
            "site_id": "s",
            "node_id": "dam",
            "day": [1, 2],
            "fill_pct": [85.0, 50.0],
            "store_high_pct": [None, 40.0],
        }
    )
    assert flags(store.assess(levels)) == [True, True]
    assert store.origin is not None and store.origin.layer == "pack"
    assert {Path(r.origin.file).name for r in rules.all_rules if r.origin} == {
        p.name for p in pack_files()
    }


def test_a_site_rule_replaces_a_pack_rule_for_that_site_only_and_the_deployment_wins(tmp_path):
    site_a = write_site(
        tmp_path, "site_a", RULE_YAML.format(id="store_level_high", summary="site a", above=70)
    )
    site_b = write_site(tmp_path, "site_b", RULE_YAML.format(id="own_rule", summary="b", above=1))
    rules = load_rules(None, [site_a, site_b])
    assert rules.problems == []
    by_id = {r.id: r for r in rules.rules_for("site_a")}
    assert by_id["store_level_high"].summary == "site a"
    assert by_id["store_level_high"].origin.site_id == "site_a"
    assert "own_rule" not in by_id
    assert {r.id: r for r in rules.rules_for("site_b")}["store_level_high"].summary != "site a"
    assert "own_rule" in {r.id for r in rules.rules_for("site_b")}

    write_deployment(
        tmp_path / "home",
        "rules.yaml",
        "rules:\n" + RULE_YAML.format(id="store_level_high", summary="deployment", above=90),
    )
    rules = load_rules(tmp_path / "home", [site_a, site_b])
    assert rules.problems == []
    for site in ("site_a", "site_b"):
        chosen = {r.id: r for r in rules.rules_for(site)}["store_level_high"]
        assert chosen.summary == "deployment"
        assert chosen.origin.layer == "deployment"


def test_enabled_false_switches_a_rule_off_everywhere_or_for_some_sites(tmp_path):
    write_deployment(
        tmp_path,
        "off.yaml",
        """\
        rules:
          - {id: meter_spikes, enabled: false}
          - {id: store_level_low, enabled: false, sites: [site_a]}
        """,
    )
    rules = load_rules(tmp_path, [])
    assert rules.problems == []
    a = {r.id for r in rules.rules_for("site_a")}
    b = {r.id for r in rules.rules_for("site_b")}
    assert "meter_spikes" not in a and "meter_spikes" not in b
    assert "store_level_low" not in a and "store_level_low" in b


def test_a_site_file_can_switch_a_pack_rule_off_for_itself(tmp_path):
    site = write_site(tmp_path, "site_a", "- {id: level_jump, enabled: false}\n")
    rules = load_rules(None, [site])
    assert rules.problems == []
    assert "level_jump" not in {r.id for r in rules.rules_for("site_a")}
    assert "level_jump" in {r.id for r in rules.rules_for("site_b")}


def test_sites_restricts_a_deployment_rule(tmp_path):
    write_deployment(
        tmp_path,
        "rules.yaml",
        "rules:\n"
        + RULE_YAML.format(id="only_a", summary="a", above=1)
        + "  sites: [site_a]\n"
        + RULE_YAML.format(id="store_level_high", summary="b only", above=2)
        + "  sites: [site_b]\n",
    )
    rules = load_rules(tmp_path, [])
    assert rules.problems == []
    a = {r.id: r for r in rules.rules_for("site_a")}
    b = {r.id: r for r in rules.rules_for("site_b")}
    assert "only_a" in a and "only_a" not in b
    assert b["store_level_high"].summary == "b only"
    assert a["store_level_high"].summary != "b only"


def test_a_disabled_full_rule_replaces_and_switches_off(tmp_path):
    write_deployment(
        tmp_path,
        "rules.yaml",
        "rules:\n"
        + RULE_YAML.format(id="store_level_high", summary="x", above=1)
        + "  enabled: false\n",
    )
    rules = load_rules(tmp_path, [])
    assert rules.problems == []
    assert "store_level_high" not in {r.id for r in rules.rules_for("s")}


def test_later_deployment_files_override_earlier_ones_by_name_order(tmp_path):
    for name, summary in (("b.yaml", "from b"), ("a.yaml", "from a")):
        write_deployment(
            tmp_path, name, "rules:\n" + RULE_YAML.format(id="mine", summary=summary, above=1)
        )
    rules = load_rules(tmp_path, [])
    assert {r.id: r for r in rules.rules_for("s")}["mine"].summary == "from b"


def test_channels_of_every_kind_load_as_their_models(tmp_path):
    write_deployment(
        tmp_path,
        "channels.yaml",
        """\
        channels:
          ops_email: {kind: email, to: [ops@example.com], min_severity: info, resolved: true}
          ops_slack: {kind: slack, url_env: SITELEDGER_SLACK_OPS_URL}
          oncall_sms:
            kind: sms
            url: "http://127.0.0.1:9000/send"
            username_env: SMS_USER
            password_env: SMS_PASSWORD
            to: ["+61400000000"]
            sender: "+61400000001"
            fields: {to: To, sender: From, body: Body}
            content_type: json
          audit_hook: {kind: webhook, url: "http://127.0.0.1:9001/hook", secret_env: HOOK_SECRET}
        defaults:
          channels: [ops_email, audit_hook]
        """,
    )
    rules = load_rules(tmp_path, [])
    assert rules.problems == []
    sms = rules.channels["oncall_sms"]
    assert isinstance(sms, SmsChannel)
    assert (sms.min_severity, sms.resolved, sms.content_type) == ("critical", False, "json")
    assert rules.channels["ops_slack"].min_severity == "info"
    assert rules.channels["ops_slack"].resolved is False
    assert rules.channels["audit_hook"].resolved is True
    assert rules.defaults.channels == ["ops_email", "audit_hook"]
