"""Hypothesis strategies that break valid YAML configuration files, shared by the fuzz tests of
every file the platform reads (site files, the organisation file, report definitions, alert
rules): text edits, scalars swapped for hostile YAML, structural mutations of the loaded document.

A file loader under fuzz must give a clean parse or a list of located problems, never another
exception."""

from __future__ import annotations

import copy
import functools
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# quick and reproducible: the same examples on every run, a few seconds per test
FUZZ_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

SNIPPETS = ["__class__", "**", "{{", "}}", "{%", "&a", "*a", "!!python/name:os.system", "\x00",
            "-", ":", "[", "]", "{", "}", "'", '"', "\n", "  ", "9" * 30, "1e999", ".nan", "~",
            "lambda", "for", "?", "<<: *a", "\t", "4 hours"]  # fmt: skip

# raw YAML that replaces one scalar of a valid file: each has crashed a loader somewhere
HOSTILE_SCALARS = [
    "2025-13-40",  # an impossible date where YAML reads timestamps
    "2025-02-30",
    "2025-02-28T25:61:00",
    "0000-00-00",
    "9999-12-31 23:59:59.999999999 +99:00",
    "&a [*a]",  # a self-referencing alias
    "&b {k: *b}",
    "*nowhere",  # an alias without its anchor
    "{a: 1, b: [2, 3]}",  # a mapping where a scalar belongs
    "[1, [2, [3]]]",
    "[]",
    "{}",
    "~",
    "''",
    ".nan",
    ".inf",
    "-.inf",
    "1e400",
    "-1e400",
    "9" * 5000,  # more digits than Python converts to int by default
    "0x" + "f" * 40,
    "0o777777777777777777777",
    "-0",
    "1_000_000",
    "0b101",
    "true",
    "no",
    "null",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [{a: 1}]",
    "!!python/object/apply:os.system ['true']",
    "!custom 1",
    "!!bool maybe",  # explicit tags on values they do not fit
    "!!int 1.5",
    "!!float x",
    "!!map [1]",
    "!!str [1]",
    '"\\u202e\\u0000\\ud800"',
    '"日本語 ✓ é"',
    '"' + "x" * 20_000 + '"',
    "[" * 150 + "]" * 150,  # deep nesting
    "{a: " * 60 + "1" + "}" * 60,
    "? [1, 2]\n: x",
    "<<: *nowhere",
]

VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**300, max_value=10**400),
        st.floats(allow_nan=True, allow_infinity=True),
        st.dates(),
        st.datetimes(),
        st.text(max_size=20),
        st.sampled_from(["__import__('os')", "9**9**9", "4h", "-1h", "ops", "above", "day"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def key_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a loaded document (the root is ``()``)."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += key_paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += key_paths(value, (*path, i))
    return found


@st.composite
def text_edits(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few spans cut and snippets (or random text) inserted."""
    edits = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(text)),
                st.integers(0, 12),
                st.one_of(st.sampled_from(SNIPPETS + HOSTILE_SCALARS), st.text(max_size=8)),
            ),
            min_size=1,
            max_size=6,
        )
    )
    for position, cut, insert in edits:
        position = min(position, len(text))
        text = text[:position] + insert + text[position + cut :]
    return text


_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, allow_unicode=True)


@functools.cache
def _loaded(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


@functools.cache
def _key_paths_of(text: str) -> list[tuple[Any, ...]]:
    return key_paths(_loaded(text))[1:]


@functools.cache
def _scalar_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every scalar value (and key) in ``text``."""
    spans: list[tuple[int, int]] = []
    stack = [yaml.compose(text, Loader=yaml.SafeLoader)]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            spans.append((node.start_mark.index, node.end_mark.index))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
    return sorted(spans)


@st.composite
def scalar_swaps(draw: st.DrawFn, text: str) -> str:
    """``text`` with one to three scalars replaced by hostile YAML (bad dates, aliases, huge and
    non-finite numbers, collections, odd tags, unicode, deep nesting); flow-style documents keep
    their layout, so the result is usually valid YAML that the model must judge."""
    spans = _scalar_spans(text)
    chosen = sorted(
        set(draw(st.lists(st.sampled_from(spans), min_size=1, max_size=3))), reverse=True
    )
    for start, end in chosen:
        text = text[:start] + draw(st.sampled_from(HOSTILE_SCALARS)) + text[end:]
    return text


@st.composite
def structural_mutations(draw: st.DrawFn, text: str) -> str:
    """``text`` loaded, then one to three keys deleted, renamed or given another value (any
    type, dates, huge and non-finite numbers, nested collections), dumped back to YAML."""
    document = copy.deepcopy(_loaded(text))
    paths = _key_paths_of(text)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        parent = document
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "delete", "rename"]))
            if action == "replace":
                parent[path[-1]] = draw(VALUES)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(max_size=10))] = parent.pop(path[-1])
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    return _dump(document)


def mutations(text: str) -> st.SearchStrategy[str]:
    """Any of the mutations above of the valid file ``text``."""
    return st.one_of(text_edits(text), scalar_swaps(text), structural_mutations(text))


def documents(keys: list[str]) -> st.SearchStrategy[str]:
    """Whole documents, not derived from a valid file: mappings whose keys are mostly the
    file's own top-level ``keys``, holding anything."""
    key = st.one_of(st.sampled_from(keys), st.text(max_size=12))
    return st.dictionaries(key, VALUES, max_size=6).map(_dump)
