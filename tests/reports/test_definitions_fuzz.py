"""Report definitions: every input, however broken, gives a definition or a DefinitionError
listing its problems with their lines, never another exception; a fuzz over mutations of the
shipped definitions and generated documents holds to that."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.definitions import SHIPPED_DIR, DefinitionError, ReportDefinition, load_definition
from tests.yaml_fuzz import FUZZ_SETTINGS, documents, mutations

SHIPPED = {path.name: path.read_text() for path in sorted(SHIPPED_DIR.glob("*.yaml"))}
MONTHLY = SHIPPED["monthly_water_return.yaml"]


def check_definition(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            definition = load_definition(path)
        except DefinitionError as exc:
            assert exc.problems and exc.path == str(path)
            assert all(isinstance(p, str) and p for p in exc.problems)
            return
    assert isinstance(definition, ReportDefinition)
    assert len(definition.fingerprint) == 64
    definition.due_date(dt.date(2025, 6, 30))


CASES = [
    ("self-referencing alias", "sections: [", "sections: &s [*s, ", "line 8: sections[0]"),
    (
        "huge integer",
        "days_after_period_end: 14",
        "days_after_period_end: " + "9" * 5000,
        "due.days_after_period_end: cannot read YAML: a number of 5000 digits",
    ),
    ("NaN bound", "max: 5", "max: .nan", "requirements[0].max"),
    ("infinite bound", "max: 5", "max: .inf", "requirements[0].max"),
    ("deep nesting", "sections: [", "sections: [" + "[" * 200, "nests deeper than 100"),
    ("set tag", "formats: [", "formats: !!set {pdf: null}\nx: [", "the tag !!set"),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), CASES, ids=[c[0] for c in CASES])
def test_broken_definitions_give_listed_problems(tmp_path, name, old, new, expected):
    assert old in MONTHLY, old
    path = tmp_path / "d.yaml"
    path.write_text(MONTHLY.replace(old, new, 1))
    with pytest.raises(DefinitionError) as err:
        load_definition(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ")
    if expected:
        assert expected in text, text


def test_an_impossible_date_is_text_not_a_crash(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text(MONTHLY.replace("title: Monthly Water Return", "title: 2025-13-40"))
    assert load_definition(path).title == "2025-13-40"
    path.write_text(MONTHLY.replace("regulator: WA DWER", "regulator: [2025-02-30]"))
    with pytest.raises(DefinitionError, match="line 4: regulator: "):
        load_definition(path)


def test_problems_name_their_line(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text(MONTHLY.replace("period: monthly", "period: weekly"))
    with pytest.raises(DefinitionError) as err:
        load_definition(path)
    line = MONTHLY.splitlines().index("period: monthly") + 1
    assert err.value.problems[0].startswith(f"line {line}: period: "), err.value.problems


def test_the_fuzz_seeds_are_valid():
    for text in SHIPPED.values():
        check_definition(text)
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "d.yaml").write_text(text)
            load_definition(Path(folder) / "d.yaml")


@FUZZ_SETTINGS
@given(data=st.data())
def test_fuzz_mutated_shipped_definitions_give_a_definition_or_listed_problems(data):
    seed = data.draw(st.sampled_from(sorted(SHIPPED)))
    check_definition(data.draw(mutations(SHIPPED[seed])))


KEYS = ["id", "title", "regulator", "report_type", "period", "sections", "metrics", "due"]


@FUZZ_SETTINGS
@given(text=documents(KEYS))
def test_fuzz_generated_definitions_give_a_definition_or_listed_problems(text):
    check_definition(text)
