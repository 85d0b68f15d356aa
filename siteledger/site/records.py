"""Checks the record domains of a site file (``materials:``, ``metering:``) share: a hint at the
closest known name, repeated keys, file layouts whose ids or patterns clash, and a layout's
column mapping; and what their settings are declared with (record columns, strict models, dates
as text)."""

from __future__ import annotations

import datetime
import fnmatch
from collections import Counter
from collections.abc import Iterable
from difflib import get_close_matches
from typing import Annotated, Any, Literal, NamedTuple, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

RecordFormat = Literal["csv", "excel", "json"]
ColumnType = Literal[
    "id", "text", "number", "integer", "timestamp", "date", "unit", "currency", "choice"
]


class RecordColumn(NamedTuple):
    """A column of a record file: its canonical name, what it holds, and whether a row needs it."""

    name: str
    type: ColumnType
    required: bool = True
    choices: tuple[str, ...] = ()


class StrictModel(BaseModel):
    # strict: a quoted "6.50" or a YAML boolean (yes, on) is never taken for a number
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, allow_inf_nan=False, strict=True
    )


def _date_text(value: Any) -> Any:
    # the site loader hands dates over as text; a number is not a date (no Unix seconds)
    if isinstance(value, bool | int | float):
        raise ValueError(f"a date is text like 2025-01-31, got {value!r}")
    return value


DateText = Annotated[datetime.date, BeforeValidator(_date_text), Field(strict=False)]


class Layout(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def pattern(self) -> str: ...


def hint(value: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, else nothing."""
    match = get_close_matches(value, choices, n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def duplicates(path: str, keys: list[Any], what: str) -> list[tuple[str, str]]:
    """A problem at every repeat of a key, naming the first."""
    first: dict[Any, int] = {}
    problems = []
    for index, key in enumerate(keys):
        if key in first:
            shown = " version ".join(str(k) for k in key) if isinstance(key, tuple) else key
            problems.append(
                (
                    f"{path}[{index}].id",
                    f"duplicate {what} {shown!r} (first at {path}[{first[key]}])",
                )
            )
        else:
            first[key] = index
    return problems


def overlap(a: str, b: str) -> bool:
    """Whether two glob patterns can match the same name, as far as a pattern matching the
    other's text tells (``*.csv`` and ``receipts_*.csv``; identical patterns)."""
    return a == b or fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a)


def layouts_at(root: str, layouts: Iterable[Layout]) -> list[tuple[str, str, str]]:
    """(key path, id, pattern) of each layout of a list at ``root``."""
    return [(f"{root}[{i}]", lay.id, lay.pattern) for i, lay in enumerate(layouts)]


def layout_problems(
    root: str, layouts: Iterable[Layout], others: list[tuple[str, str, str]]
) -> list[tuple[str, str]]:
    """Layout ids unique across every kind of layout, and patterns that do not overlap: each of
    ``layouts`` (at ``root``) against ``others`` (:func:`layouts_at`) and the layouts before it."""
    others = list(others)
    problems: list[tuple[str, str]] = []
    for path, layout_id, pattern in layouts_at(root, layouts):
        for other_path, other_id, other_pattern in others:
            if other_id == layout_id:
                problems.append((f"{path}.id", f"layout id {layout_id!r} is used at {other_path}"))
            elif overlap(pattern, other_pattern):
                problems.append(
                    (
                        f"{path}.pattern",
                        f"pattern {pattern!r} overlaps {other_pattern!r} of layout "
                        f"{other_id!r} ({other_path}): a file matching both would go to one "
                        "of them by order",
                    )
                )
        others.append((path, layout_id, pattern))
    return problems


def check_column_mapping(kind: str, columns: dict[str, str], names: list[str]) -> None:
    """Raise ValueError unless a layout's ``columns`` maps known canonical ``names`` of its
    ``kind`` to distinct, non-empty headers."""
    for key, header in columns.items():
        if key not in names:
            raise ValueError(f"{kind} have no column {key!r}{hint(key, names)}; one of {names}")
        if not header.strip():
            raise ValueError(f"column {key!r} is mapped to an empty header")
    headers = [h.strip() for h in columns.values()]
    repeated = sorted(h for h, n in Counter(headers).items() if n > 1)
    if repeated:
        raise ValueError(f"header {repeated[0]!r} is mapped to two columns")
