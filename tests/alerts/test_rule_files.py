"""Rule files: the shipped packs are valid and read only columns that exist; hostile and broken
files give located problems (never another exception, never anything run); a fuzz over mutated
valid files holds to that."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from alerts.rules import (
    RuleConfigError,
    RuleFile,
    load_rules,
    pack_files,
    parse_rules_text,
    validate_rule_file,
)
from alerts.sources import SOURCE_COLUMNS
from ml.tables import TABLES as ANALYTICS_TABLES
from siteledger.site import ConfigProblem, parse_site_text
from tests.yaml_fuzz import FUZZ_SETTINGS, scalar_swaps, structural_mutations, text_edits

REPO = Path(__file__).resolve().parents[2]
MARTS = REPO / "dbt_project" / "models" / "marts"
# the sources the alert engine serves itself rather than reading from the warehouse
LIVE_SOURCES = {name: set(columns) for name, columns in SOURCE_COLUMNS.items()}


def published_columns() -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    for path in MARTS.glob("**/_*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            tables[model["name"]] = {c["name"] for c in model.get("columns", [])}
    # the analytics' tables are written beside the dbt marts and published with them
    analytics = {name: set(columns) for name, columns in ANALYTICS_TABLES.items()}
    return {**tables, **analytics, **LIVE_SOURCES}


def test_every_pack_loads_without_a_problem():
    assert {p.name for p in pack_files()} == {
        "water.yaml",
        "data_quality.yaml",
        "operational.yaml",
        "compliance.yaml",
        "platform.yaml",
        "predictive.yaml",
        "sustainability.yaml",
        "energy.yaml",
        "materials.yaml",
        "metering.yaml",
    }
    for path in pack_files():
        assert validate_rule_file(path, layer="pack") == [], path.name
    rules = load_rules(None, [])
    assert rules.problems == []
    ids = [r.id for r in rules.all_rules]
    assert len(ids) == len(set(ids)), "pack rule ids must be unique across packs"


def test_every_pack_rule_reads_only_sources_and_columns_that_exist():
    tables = published_columns()
    for rule in load_rules(None, []).all_rules:
        assert rule.source in tables, f"{rule.id}: unknown source {rule.source}"
        # a snapshot rule's time is the column the engine gives its rows, not one of the table
        missing = (
            set(rule.columns) - tables[rule.source] - ({rule.time} if rule.snapshot else set())
        )
        assert not missing, f"{rule.id}: {rule.source} has no {sorted(missing)}"


def test_every_pack_rule_says_what_it_means_and_what_to_do():
    for rule in load_rules(None, []).all_rules:
        assert rule.summary and rule.action and rule.description, rule.id
        assert rule.origin is not None and rule.origin.line is not None
        text = rule.render_summary(12.5, "5", {k: "x" for k in rule.labels}, "2026-03-01")
        assert not text.startswith(f"{rule.id}:"), f"{rule.id}'s summary fell back: {text}"


# -- hostile and broken files ------------------------------------------------------------------

GOOD_RULE = """\
  - id: good
    summary: "{{ value }} at {{ labels.site_id }}"
    category: operational
    source: fct_store_levels_daily
    time: day
    labels: [site_id]
    metric: fill_pct
    condition: {above: 80}
"""


def rules_file(condition: str = "{above: 80}", extra: str = "") -> str:
    return textwrap.dedent(
        f"""\
        rules:
          - id: probe
            summary: "x"
            category: operational
            source: src
            time: day
            labels: [site_id]
            metric: fill_pct
            metrics: [fill_pct, inflow_m3]
            condition: {condition}
        """
    ) + textwrap.indent(textwrap.dedent(extra), "    ")


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{c}: &{c} [{','.join(['*' + p] * 9)}]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    + ["rules: *i"]
)
HOSTILE: list[tuple[str, str | bytes, str]] = [
    (
        "dunder chain",
        rules_file('{expression: "().__class__.__bases__[0].__subclasses__()"}'),
        ":10: rules[0].condition.expression: '__class__' is not allowed",
    ),
    (
        "import in where",
        rules_file(extra="where: \"__import__('os').system('touch {marker}')\"\n"),
        ":11: rules[0].where: '__import__' is not allowed",
    ),
    ("power tower", rules_file('{expression: "9**9**9"}'), "operator '**' is not allowed"),
    ("string bomb", rules_file("{expression: \"'a'*10**9 > 1\"}"), "text constants"),
    (
        "lambda",
        rules_file('{expression: "lambda: 1"}'),
        ":10: rules[0].condition.expression: lambda",
    ),
    (
        "unknown metric",
        rules_file('{expression: "inflw_m3 > 5"}'),
        "unknown name 'inflw_m3'; did you mean 'inflow_m3'?",
    ),
    (
        "huge expression",
        rules_file('{expression: "' + "1 + " * 2_000 + '1 > 0"}'),
        ":10: rules[0].condition.expression: expression is 8005 characters long; the limit is 500",
    ),
    (
        "huge summary",
        rules_file().replace('summary: "x"', 'summary: "' + "x" * 200_000 + '"'),
        ":3: rules[0].summary: String should have at most 1000 characters",
    ),
    (
        "template escape",
        rules_file().replace('summary: "x"', 'summary: "{{ value.__class__.__mro__ }}"'),
        ":3: rules[0].summary: attribute '__mro__' is not allowed",
    ),
    (
        "bad duration",
        rules_file(extra="repeat_interval: 4 hours\n"),
        ":11: rules[0].repeat_interval: '4 hours' is not a duration",
    ),
    ("negative duration", rules_file(extra="ack_timeout: -1h\n"), "cannot be negative"),
    ("zero duration", rules_file(extra="repeat_interval: 0s\n"), "shorter than the minimum"),
    ("float duration", rules_file(extra="repeat_interval: 1e9d\n"), "is not a duration"),
    ("billion laughs", BILLION_LAUGHS, "YAML expands to more than 100000 nodes"),
    (
        "self-referencing alias",
        "rules: &r [*r]\n",
        ":1: rules[0]: an alias refers to the collection",
    ),
    ("deep nesting", "rules: " + "[" * 50_000 + "]" * 50_000, "nest"),
    ("python tag", "rules: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ("syntax error", "rules:\n  - id: x\n   summary: [\n", ":3: <root>: not valid YAML"),
    ("duplicate key", "rules: []\nrules: []\n", ":2: <root>: not valid YAML"),
    ("top-level list", "- id: x\n", ":1: <root>: expected a mapping at the top, got list"),
    ("top-level scalar", "42\n", "expected a mapping at the top, got int"),
    ("empty", "", "expected a mapping at the top, got an empty document"),
    ("unknown top key", "rule: []\n", ":1: rule: unknown key; a rules file holds rules"),
    ("rules not a list", "rules: {id: x}\n", ":1: rules: expected a list of rules, got dict"),
    ("rule not a mapping", "rules: [42]\n", "rules[0]: a rule is a mapping"),
    (
        "duplicate ids",
        "rules:\n" + GOOD_RULE + GOOD_RULE,
        ":10: rules[1].id: duplicate rule id 'good' (first at rules[0])",
    ),
    (
        "two conditions",
        rules_file("{above: 1, below: 0}"),
        ":10: rules[0].condition: a condition is exactly one of",
    ),
    ("no condition", rules_file("{}"), "a condition is exactly one of"),
    ("bad column name", rules_file().replace("time: day", "time: 'day; drop'"), "not a column"),
    (
        "unknown field",
        rules_file(extra="serverity: critical\n"),
        ":11: rules[0].serverity: unknown key",
    ),
    (
        "secret in the file",
        "channels:\n  s: {kind: slack, url: 'https://hooks.slack.com/services/T/B/x'}\n",
        ":2: channels.s: 'url' would put a secret in the file",
    ),
    (
        "value in url_env",
        "channels:\n  s: {kind: slack, url_env: 'https://hooks.slack.com/x'}\n",
        "channels.s.url_env: give the NAME of an environment variable",
    ),
    (
        "password in the file",
        "channels:\n  t:\n    kind: sms\n    url: http://x/send\n    to: ['+61400000000']\n"
        "    sender: me\n    password: hunter2\n",
        "'password' would put a secret in the file",
    ),
    (
        "credentials in a URL",
        "channels:\n  h: {kind: webhook, url: 'https://user:pw@example.com/hook', secret_env: H}\n",
        "channels.h.url: the URL holds credentials",
    ),
    (
        "not http",
        "channels:\n  h: {kind: webhook, url: 'file:///etc/passwd', secret_env: H}\n",
        "not an http://",
    ),
    (
        "unknown kind",
        "channels:\n  p: {kind: pager}\n",
        "channels.p.kind: kind 'pager' is not one of",
    ),
    (
        "unknown channel",
        "channels:\n  ops: {kind: email, to: [a@example.com]}\nrules:\n"
        + GOOD_RULE
        + "    channels: [opz]\n",
        ":12: rules[0].channels[0]: unknown channel 'opz' (did you mean 'ops'?)",
    ),
    (
        "unknown escalation channel",
        "rules:\n" + GOOD_RULE + "    escalation: {after: 2h, channels: [boss]}\n",
        "rules[0].escalation.channels[0]: unknown channel 'boss'",
    ),
    ("binary garbage", b"\x00\xff\xfe\x01rules: []\x00" * 100, "binary file"),
    ("not utf-8", b"rules: []\n# \xff\xfe\xfa\n", "not UTF-8"),
    ("10 MB", "rules: []\n" + "#" * 10_000_000, "bytes; the limit is 1048576"),
]


@pytest.mark.parametrize(("name", "content", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_give_located_problems_and_run_nothing(tmp_path, name, content, expected):
    marker = tmp_path / "ran"
    path = tmp_path / "rules.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content.replace("{marker}", str(marker)))
    started = time.perf_counter()
    problems = validate_rule_file(path, channels=[])
    assert time.perf_counter() - started < 2.0
    assert problems, name
    assert all(isinstance(p, ConfigProblem) for p in problems)
    text = "\n".join(str(p) for p in problems)
    assert all(str(p).startswith(f"{path}") for p in problems)
    assert expected in text, text
    assert not marker.exists()


def test_a_bad_deployment_file_does_not_stop_the_others(tmp_path):
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts" / "a_broken.yaml").write_bytes(b"\x00garbage")
    (tmp_path / "alerts" / "b_mixed.yaml").write_text(
        "channels:\n  ops: {kind: email, to: [ops@example.com]}\n"
        "defaults: {channels: [ops]}\n"
        "rules:\n"
        + GOOD_RULE
        + GOOD_RULE.replace("id: good", "id: bad").replace("above: 80", "above: 80, below: 3")
    )
    rules = load_rules(tmp_path, [])
    files = {Path(p.file).name for p in rules.problems}
    assert files == {"a_broken.yaml", "b_mixed.yaml"}
    ids = {r.id for r in rules.rules_for("s")}
    assert "good" in ids and "bad" not in ids and "closure_error_high" in ids
    assert rules.channels.keys() == {"ops"}


def test_channels_split_across_deployment_files_are_known_to_every_file(tmp_path):
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts" / "channels.yaml").write_text(
        "channels:\n  ops: {kind: email, to: [ops@example.com]}\n"
    )
    rules_path = tmp_path / "alerts" / "rules.yaml"
    rules_path.write_text("rules:\n" + GOOD_RULE + "    channels: [ops]\n")
    rules = load_rules(tmp_path, [])
    assert rules.problems == []
    assert {r.id: r for r in rules.rules_for("s")}["good"].policy().channels == ("ops",)
    # checked alone, the file knows only the channels it is told of
    assert validate_rule_file(rules_path) == []
    assert validate_rule_file(rules_path, channels=rules.channels) == []
    assert "unknown channel 'ops'" in str(validate_rule_file(rules_path, channels=[])[0])


def test_duplicate_channels_defaults_and_switches_of_unknown_rules_are_problems(tmp_path):
    (tmp_path / "alerts").mkdir()
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / "alerts" / name).write_text(
            "channels:\n  ops: {kind: email, to: [ops@example.com]}\n"
            "defaults: {channels: [ops, nope]}\n"
            "rules:\n  - {id: closure_eror_high, enabled: false}\n"
        )
    problems = [str(p) for p in load_rules(tmp_path, []).problems]
    assert any("b.yaml:2: channels.ops: channel 'ops' is also in" in p for p in problems)
    assert any("b.yaml:3: defaults: defaults are also set in" in p for p in problems)
    assert any("a.yaml:3: defaults.channels[1]: unknown channel 'nope'" in p for p in problems)
    assert any(
        "a.yaml:5: rules[0].id: no rule 'closure_eror_high' to switch off "
        "(did you mean 'closure_error_high'?)" in p
        for p in problems
    )


# -- site files ----------------------------------------------------------------------------------

SITE = """\
site:
  id: demo_mine
  name: Demo
nodes:
  - {id: river, kind: source}
alerts:
  rules:
    - id: store_level_high
      summary: "{{ value }}"
      category: operational
      source: fct_store_levels_daily
      time: day
      labels: [site_id, node_id]
      metric: fill_pct
      condition: {above: 70}
      repeat_interval: 4 hours
      sites: [other]
"""


def test_site_file_rules_are_reported_at_the_site_files_lines(tmp_path):
    path = tmp_path / "demo_mine.yaml"
    path.write_text(SITE)
    problems = [str(p) for p in load_rules(None, [path]).problems]
    assert problems == [
        f"{path}:17: alerts.rules[0].sites: a site file's rules apply to its own site only"
    ]
    path.write_text(SITE.replace("      sites: [other]\n", ""))
    problems = [str(p) for p in load_rules(None, [path]).problems]
    assert problems == [
        f"{path}:16: alerts.rules[0].repeat_interval: '4 hours' is not a duration: write a whole "
        "number and a unit (s, m, h, d or w), as in 30s, 15m, 4h, 2d or 1w"
    ]


def test_the_site_model_keeps_the_alerts_key_as_it_is():
    cfg = parse_site_text(SITE)
    assert cfg.alerts is not None
    assert cfg.alerts["rules"][0]["repeat_interval"] == "4 hours"
    assert parse_site_text(SITE.split("alerts:")[0]).alerts is None


def test_site_files_without_alerts_or_an_id_and_a_site_given_twice(tmp_path):
    plain = tmp_path / "plain.yaml"
    plain.write_text(SITE.split("alerts:")[0])
    no_id = tmp_path / "no_id.yaml"
    no_id.write_text(SITE.replace("  id: demo_mine\n", ""))
    twice = tmp_path / "twice.yaml"
    twice.write_text(SITE.replace("      repeat_interval: 4 hours\n      sites: [other]\n", ""))
    again = tmp_path / "again.yaml"
    again.write_text(twice.read_text())
    rules = load_rules(None, [plain, no_id, twice, again])
    problems = [str(p) for p in rules.problems]
    assert problems == [
        f"{no_id}:1: site.id: the site's id is needed to apply its alert rules",
        f"{again}:2: site.id: site 'demo_mine' is also {twice}",
    ]
    assert rules.site_ids == ["demo_mine"]


# -- fuzz ------------------------------------------------------------------------------------------

VALID = textwrap.dedent(
    """\
    channels:
      ops: {kind: email, to: [ops@example.com]}
      hook: {kind: webhook, url: "http://127.0.0.1:9001/hook", secret_env: HOOK_SECRET}
    defaults: {channels: [ops]}
    rules:
      - id: closure
        summary: "{{ value | round(1) }} % outside {{ threshold }} at {{ labels.site_id }}"
        category: data_quality
        source: fct_site_balance_daily
        time: day
        labels: [site_id]
        metric: closure_error_pct
        metrics: [closure_error_pct, is_day_closed]
        condition:
          outside: [{column: closure_threshold_pct, negate: true}, {column: closure_threshold_pct}]
        where: "is_day_closed and abs(closure_error_pct) < 1000"
        for: 2
        repeat_interval: 4h
        escalation: {after_occurrences: 2, channels: [hook], severity: critical}
      - id: spike
        summary: "{{ value }}"
        category: operational
        source: fct_site_balance_daily
        time: day
        labels: [site_id]
        metric: inputs_m3
        condition: {rate_of_change: {window: 7, above: 100, relative: true}}
        lookback: 400d
    """
)


def test_the_fuzz_seed_is_valid():
    parsed = parse_rules_text(VALID, channels=[])
    assert [r.id for r in parsed.rules] == ["closure", "spike"]


def _check(text: str) -> None:
    try:
        parsed = parse_rules_text(text, "fuzz.yaml", channels=[])
    except RuleConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert isinstance(problem, ConfigProblem) and problem.file == "fuzz.yaml"
            assert str(problem)
        return
    assert isinstance(parsed, RuleFile)
    for rule in parsed.rules:
        rule.policy()


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(text=text_edits(VALID))
def test_fuzz_text_edits_give_a_clean_parse_or_listed_problems(text):
    _check(text)


@settings(max_examples=300, deadline=None, database=None)
@given(text=structural_mutations(VALID))
def test_fuzz_structural_mutations_give_a_clean_parse_or_listed_problems(text):
    _check(text)


@FUZZ_SETTINGS
@given(text=scalar_swaps(VALID))
def test_fuzz_hostile_scalars_give_a_clean_parse_or_listed_problems(text):
    _check(text)
