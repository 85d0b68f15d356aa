"""How every list command prints: a table for people or JSON lines for scripts, one formatting
of numbers and times, and a sentence instead of bare headers when nothing matched.

Identifiers are printed whole in every table (they are copied into ``reports show``, ``ingest
rollback``, ``alerts ack``...): an id column never wraps or shortens; other columns wrap. When
the terminal is too narrow for the ids and the other columns' longest words, each row is
printed as a block instead: the id on its own line, the other fields below it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import click
from rich import box
from rich.console import Console, ConsoleDimensions
from rich.table import Table
from rich.text import Text

# id: never cut; word: a short token (status, site) kept whole; text: wraps; int / num: right
# aligned with thousands separators; time: UTC minutes; day: ISO date
Kind = Literal["id", "word", "text", "int", "num", "time", "day"]

json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object per line (JSON Lines) instead of a table, for scripts.",
)


class _CommandConsole(Console):
    """A console whose width is looked up each time it renders, not once when it is made: the
    terminal's; when output is not a terminal (pipes, CI logs) $COLUMNS, else 120 (Rich's own
    fallback of 80 is too narrow for most tables). A width set on it explicitly stays."""

    def __init__(self, file: Any = None) -> None:
        self._fixed_width = False
        super().__init__(file=file, highlight=False)

    @property
    def size(self) -> ConsoleDimensions:
        if self._fixed_width:
            return Console.size.fget(self)  # type: ignore[attr-defined]
        self._width = None
        out = self.file
        if hasattr(out, "isatty") and out.isatty():
            return Console.size.fget(self)  # type: ignore[attr-defined]
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() and int(columns) > 0 else 120
        return ConsoleDimensions(width, self._height or 25)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]
        self._fixed_width = True

    @property
    def width(self) -> int:
        return self.size.width

    @width.setter
    def width(self, width: int) -> None:
        self._width = width
        self._fixed_width = True


def make_console(file: Any = None) -> Console:
    """A console for a command's output (see ``_CommandConsole`` for its width)."""
    return _CommandConsole(file=file)


# -- values --------------------------------------------------------------------------------------
def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):
        return False


def number(value: Any, digits: int = 0, *, scale: float = 1.0, thousands: bool = True) -> str:
    """``value`` rounded to ``digits`` decimals, with thousands separators; a value that rounds
    to zero prints as 0 (never "-0" or "-0.00"); missing values print as ""."""
    if _missing(value):
        return ""
    if isinstance(value, bool):
        value = int(value)
    rounded = round(float(value) * scale, digits)
    if rounded == 0:
        rounded = 0.0  # -0.0 after rounding
    if math.isinf(rounded):
        return "∞" if rounded > 0 else "-∞"
    return format(rounded, f"{',' if thousands else ''}.{max(digits, 0)}f")


def count(value: Any) -> str:
    """A whole number with thousands separators (1,234,567)."""
    return number(value, 0)


def when(value: Any) -> str:
    """A time as UTC minutes (2025-07-14 06:30); naive times are printed as they are."""
    if _missing(value):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def day(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def jsonable(value: Any) -> Any:
    """A value as JSON has it: times ISO 8601 with their offset (the state store keeps UTC and
    hands back naive times: they are UTC), dates ISO, numbers as numbers, NaN as null."""
    if _missing(value):
        return None
    if hasattr(value, "normalize") and hasattr(value, "to_pydatetime"):  # pandas Timestamp
        if value == value.normalize() and value.tzinfo is None:
            return value.date().isoformat()
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC).isoformat()
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return None if math.isinf(value) else value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return str(value)


# -- tables --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Col:
    """One column: the row's ``key``, its heading, how its values print."""

    key: str
    header: str | None = None
    kind: Kind = "text"
    digits: int = 0
    scale: float = 1.0
    # a cell the table derives from the row (JSON prints the row's own keys only)
    derive: Callable[[Mapping[str, Any]], Any] | None = None

    @property
    def heading(self) -> str:
        return self.header if self.header is not None else self.key

    def text(self, row: Mapping[str, Any]) -> str:
        return self.cell(self.derive(row) if self.derive else row.get(self.key))

    def cell(self, value: Any) -> str:
        if self.kind == "int":
            return count(value)
        if self.kind == "num":
            return number(value, self.digits, scale=self.scale)
        if self.kind == "time":
            return when(value)
        if self.kind == "day":
            return day(value)
        return "" if _missing(value) else str(value)

    @property
    def whole(self) -> bool:
        """Printed on one line, never shortened or wrapped."""
        return self.kind in ("id", "word", "int", "num", "day")


def filters_text(filters: Mapping[str, Any]) -> str:
    """``status=failed, site=demo_mine`` of the filters that were given, or "no filter"."""
    given = [
        f"{name}={value}"
        for name, value in filters.items()
        if value not in (None, False, "", (), [])
    ]
    return ", ".join(given) if given else "no filter"


def nothing_matched(what: str, filters: Mapping[str, Any], where: str | None = None) -> str:
    """The sentence printed instead of an empty table."""
    place = f" in {where}" if where else ""
    if filters_text(filters) == "no filter":
        return f"no {what} found{place}"
    return f"no {what} matched ({filters_text(filters)}){place}"


# a column of free text may fold a long word (a path) at this width rather than push the table
# out of the terminal
_TEXT_MIN = 12


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _widths(columns: Sequence[Col], cells: list[list[str]]) -> list[tuple[int, int, int]]:
    """(narrowest, comfortable, natural) width of each column's content: an id or number is
    never narrower than its longest value; headings and free text wrap at words (comfortable)
    and fold a word longer than ``_TEXT_MIN`` only when the table cannot fit otherwise."""
    out = []
    for i, col in enumerate(columns):
        values = [row[i] for row in cells]
        natural = max([len(col.heading), *(len(v) for v in values), 1])
        heading = _longest_word(col.heading)
        if col.whole:
            narrowest = comfortable = max([heading, *(len(v) for v in values), 1])
        else:
            comfortable = max([heading, *(_longest_word(v) for v in values), 1])
            narrowest = min(comfortable, max(_TEXT_MIN, heading))
        out.append((narrowest, comfortable, natural))
    return out


def _table(
    console: Console, title: str | None, columns: Sequence[Col], rows: Sequence[Mapping[str, Any]]
) -> Table | None:
    """The table, its columns' widths set so that it fits the console with every id and number
    whole; None when it cannot."""
    # no outer frame and no padding at the edges: two columns more fit in a terminal
    table = Table(title=title, box=box.MINIMAL_HEAVY_HEAD, pad_edge=False, show_edge=False)
    cells = [[col.text(row) for col in columns] for row in rows]
    for col in columns:
        table.add_column(
            col.heading, justify="right" if col.kind in ("int", "num") else "left", overflow="fold"
        )
    for row_cells in cells:
        table.add_row(*(Text(cell) for cell in row_cells))
    ranges = _widths(columns, cells)
    padding = sum(table._get_padding_width(i) for i in range(len(columns)))
    room = console.width - table._extra_width - padding
    if sum(low for low, _, _ in ranges) > room:
        return None
    widths = [high for _, _, high in ranges]
    # narrow the widest column that may still narrow, one character at a time: first down to
    # its longest word, then (long words folded) to its narrowest
    for floor in (1, 0):
        while sum(widths) > room:
            narrowable = [k for k, r in enumerate(ranges) if widths[k] > r[floor]]
            if not narrowable:
                break
            widths[max(narrowable, key=lambda k: widths[k])] -= 1
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    return table


def _blocks(
    console: Console, title: str | None, columns: Sequence[Col], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Each row as its first column (the id) on a line of its own, the rest indented below."""
    if title:
        console.print(Text(title, style="bold"))
    first, rest = columns[0], columns[1:]
    for row in rows:
        console.print(Text(first.text(row)), overflow="ignore", crop=False)
        fields = [f"{col.heading}: {col.text(row)}" for col in rest if col.text(row) != ""]
        if fields:
            # indented, wrapped at words (a word wider than the line folds), no trailing blanks
            text = Text("; ".join(fields), overflow="fold")
            for line in text.wrap(console, max(console.width - 2, 20)):
                line.rstrip()
                console.print(Text("  ") + line, crop=False)


def emit(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[Col],
    *,
    title: str | None,
    as_json: bool = False,
    empty: str,
    console: Console | None = None,
) -> None:
    """Print ``rows``: a table of ``columns`` (every key of a row in JSON mode, one object per
    line), or the ``empty`` sentence when there are none (on stderr in JSON mode, so a script
    reads no lines)."""
    rows = list(rows)
    if as_json:
        for row in rows:
            click.echo(json.dumps({k: jsonable(v) for k, v in row.items()}, ensure_ascii=False))
        if not rows:
            click.echo(empty, err=True)
        return
    console = console or make_console()
    if not rows:
        # one line, never wrapped: it may name a path to copy
        console.print(Text(empty), soft_wrap=True)
        return
    table = _table(console, title, columns, rows)
    if table is None:
        _blocks(console, title, columns, rows)
    else:
        console.print(table)
