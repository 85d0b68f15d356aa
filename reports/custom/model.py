"""The custom report template: one YAML or JSON file in a folder of its own.

A template names its facilities (sites, and nodes within them), a date range, its branding (a
logo, colours, a font: files from the template's own folder only) and pages of elements — metric
cards, tables, line and bar charts, the site's Sankey diagram and text with ``{placeholders}``.
Every problem is reported with the file and line (the site files' YAML reader,
:func:`siteledger.site.loader.parse_yaml_mapping`), all of them at once.

Nothing in a template runs: conditions are parsed by :mod:`alerts.expressions` (a whitelist of
Python's expression syntax over column names, never ``eval``'d), text is filled by a placeholder
whitelist (Jinja syntax is refused, not run), and identifiers are checked against the published
warehouse's schema before a query is written (:mod:`reports.custom.data`). Sizes are capped so no
template can ask for unbounded work: pages, elements, table rows, chart points.
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from alerts.expressions import FUNCTIONS, ExpressionError, compile_expression
from reports.custom.dates import check_period
from siteledger.site.loader import (
    ConfigProblem,
    SiteConfigError,
    YamlDocument,
    parse_yaml_mapping,
    read_config_text,
    validation_problems,
)

TEMPLATE_FILES = ("template.yaml", "template.yml", "template.json")
MAX_TEMPLATE_BYTES = 256 * 1024
MAX_YAML_NODES = 20_000
MAX_PAGES = 20
MAX_ELEMENTS_PER_PAGE = 12
MAX_ELEMENTS = 60
MAX_TABLE_ROWS = 2_000
MAX_CHART_POINTS = 2_000
MAX_CHART_SERIES = 8
MAX_TEXT = 4_000
MAX_ASSET_BYTES = 2 * 1024 * 1024
# the files a template may bring, by what their first bytes must be
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
SVG_TYPE = "image/svg+xml"
FONT_TYPES = {".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2"}
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "font/ttf": (b"\x00\x01\x00\x00", b"true"),
    "font/otf": (b"OTTO",),
    "font/woff": (b"wOFF",),
    "font/woff2": (b"wOF2",),
}
# what a text's {placeholder} may name besides the template's metric ids
PLACEHOLDERS = ("title", "site_id", "site_name", "period", "period_start", "period_end")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_JINJA = ("{{", "{%", "{#")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


class TemplateError(ValueError):
    """A template that cannot be used; ``problems`` lists every reason with file and line."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _column_name(value: str) -> str:
    # names only: a column is quoted into SQL after it was found in the schema, and this rule
    # turns away "x; drop table y" or "x\" --" with a plain message before anything else
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
        raise ValueError(
            f"{value[:60]!r} is not a column name (lower-case letters, digits and _ only)"
        )
    return value


def _mart_name(value: str) -> str:
    if not re.fullmatch(r"(fct|dim)_[a-z0-9_]{1,60}", value):
        raise ValueError(
            f"{value[:60]!r} is not a published mart (a table named fct_... or dim_...)"
        )
    return value


Column = Annotated[str, AfterValidator(_column_name)]
Mart = Annotated[str, AfterValidator(_mart_name)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
Expression = Annotated[str, Field(min_length=1, max_length=500)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Label = Annotated[str, Field(max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Rule(_Model):
    """Conditional formatting: where ``when`` holds, the cell of ``column`` (of a table; the
    card of a metric, whose value is the name ``value``) is filled with ``colour``."""

    when: Expression
    colour: Colour
    column: Column | None = None


class Branding(_Model):
    logo: str | None = None
    accent_colour: Colour = "#1f4e79"
    text_colour: Colour = "#222222"
    font: str | None = None
    font_family: str = Field("DejaVu Sans", pattern=r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,39}$")
    footer: Label = ""


class Facilities(_Model):
    # "*" = every site of the published warehouse
    sites: list[Identifier | Literal["*"]] = Field(min_length=1, max_length=20)
    # nodes (stores, tasks ...) of those sites that node-level marts are cut to; none = all
    nodes: list[Identifier] = Field(default_factory=list, max_length=200)


class _Element(_Model):
    title: Label = ""


class MetricCard(_Element):
    type: Literal["metric"]
    id: Column
    label: Label
    mart: Mart
    column: Column
    aggregate: Literal["sum", "mean", "min", "max", "count", "first", "last"] = "sum"
    where: Expression | None = None
    unit: str = Field("", max_length=20)
    decimals: int = Field(0, ge=0, le=6)
    formatting: list[Rule] = Field(default_factory=list, max_length=10)


class Table(_Element):
    type: Literal["table"]
    mart: Mart
    columns: list[Column] = Field(min_length=1, max_length=20)
    where: Expression | None = None
    sort: list[str] = Field(default_factory=list, max_length=5)
    limit: int = Field(200, ge=1, le=MAX_TABLE_ROWS)
    decimals: int = Field(2, ge=0, le=6)
    formatting: list[Rule] = Field(default_factory=list, max_length=10)
    # headings for columns (the column's name otherwise)
    labels: dict[Column, Label] = Field(default_factory=dict, max_length=20)


class Chart(_Element):
    type: Literal["chart"]
    kind: Literal["line", "bar"] = "line"
    mart: Mart
    x: Column
    y: list[Column] = Field(min_length=1, max_length=MAX_CHART_SERIES)
    # one line (or bar group) per value of this column, e.g. node_id: then ``y`` is one column
    series: Column | None = None
    where: Expression | None = None
    unit: str = Field("", max_length=20)
    max_points: int = Field(MAX_CHART_POINTS, ge=2, le=MAX_CHART_POINTS)
    # legend names for the y columns (the column's name otherwise)
    labels: dict[Column, Label] = Field(default_factory=dict, max_length=MAX_CHART_SERIES)


class Sankey(_Element):
    type: Literal["sankey"]


class TextBlock(_Element):
    type: Literal["text"]
    text: Text


Element = Annotated[MetricCard | Table | Chart | Sankey | TextBlock, Field(discriminator="type")]


class Page(_Model):
    title: Label = ""
    elements: list[Element] = Field(min_length=1, max_length=MAX_ELEMENTS_PER_PAGE)


class CustomTemplate(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,39}$")
    title: Label
    description: Text = ""
    facilities: Facilities
    # a period the CLI's --period overrides: last_month, 2025-07, FY2026-Q1, 2025-07-01..2025-07-15
    period: str | None = Field(None, max_length=40)
    formats: list[Literal["pdf", "xlsx"]] = Field(
        default_factory=lambda: list[Literal["pdf", "xlsx"]](["pdf", "xlsx"])
    )
    branding: Branding = Field(default_factory=Branding)
    pages: list[Page] = Field(min_length=1, max_length=MAX_PAGES)

    def elements(self) -> list[tuple[str, Any]]:
        """Every element with its key path (``pages[0].elements[2]``)."""
        return [
            (f"pages[{p}].elements[{e}]", element)
            for p, page in enumerate(self.pages)
            for e, element in enumerate(page.elements)
        ]

    def metric_ids(self) -> list[str]:
        return [e.id for _, e in self.elements() if isinstance(e, MetricCard)]


@dataclass(frozen=True)
class Asset:
    """A file of the template's folder, read and checked once (never read again to render)."""

    name: str
    data: bytes
    mime: str


@dataclass
class LoadedTemplate:
    template: CustomTemplate
    path: Path
    doc: YamlDocument
    assets: dict[str, Asset] = field(default_factory=dict)
    fingerprint: str = ""

    @property
    def definition_id(self) -> str:
        return f"custom:{self.template.name}"

    def problem(self, path: str, message: str) -> ConfigProblem:
        return self.doc.problem(path, message)


def template_file(path: Path) -> Path:
    """The template file of ``path``: the file itself, or the template file in a folder."""
    if path.is_dir():
        for name in TEMPLATE_FILES:
            if (path / name).is_file():
                return path / name
        raise TemplateError(
            [ConfigProblem(str(path), "", f"no template file in it ({', '.join(TEMPLATE_FILES)})")]
        )
    return path


def _precheck(doc: YamlDocument) -> list[ConfigProblem]:
    """Counts checked before the model is built, so a million pages cost one ``len``."""
    pages = doc.data.get("pages")
    if not isinstance(pages, list):
        return []
    if len(pages) > MAX_PAGES:
        return [doc.problem("pages", f"{len(pages)} pages; the limit is {MAX_PAGES}")]
    total = sum(
        len(p["elements"])
        for p in pages
        if isinstance(p, dict) and isinstance(p.get("elements"), list)
    )
    if total > MAX_ELEMENTS:
        return [doc.problem("pages", f"{total} elements; the limit is {MAX_ELEMENTS}")]
    return []


def load_template(path: str | Path) -> LoadedTemplate:
    """Read, validate and check a template and its files; raises :class:`TemplateError` listing
    every problem with file and line."""
    file = template_file(Path(path))
    name = str(file)
    try:
        text = read_config_text(file, MAX_TEMPLATE_BYTES)
        doc = parse_yaml_mapping(text, name, max_nodes=MAX_YAML_NODES)
    except SiteConfigError as exc:
        raise TemplateError(exc.problems) from None
    problems = _precheck(doc)
    if problems:
        raise TemplateError(problems)
    try:
        template = CustomTemplate.model_validate(doc.data)
    except ValidationError as exc:
        raise TemplateError(validation_problems(exc, doc)) from None
    loaded = LoadedTemplate(template, file, doc)
    problems = _semantic(loaded)
    if problems:
        raise TemplateError(problems)
    digest = hashlib.sha256(text.encode())
    for key in sorted(loaded.assets):
        digest.update(key.encode() + b"\0" + hashlib.sha256(loaded.assets[key].data).digest())
    loaded.fingerprint = digest.hexdigest()
    return loaded


def _semantic(loaded: LoadedTemplate) -> list[ConfigProblem]:
    t = loaded.template
    problems: list[ConfigProblem] = []
    if len(t.elements()) > MAX_ELEMENTS:
        problems.append(loaded.problem("pages", f"more than {MAX_ELEMENTS} elements"))
    folder = loaded.path.parent
    b = t.branding
    for key, value, kinds in (
        ("branding.logo", b.logo, {**IMAGE_TYPES, ".svg": SVG_TYPE}),
        ("branding.font", b.font, FONT_TYPES),
    ):
        if value is None:
            continue
        try:
            loaded.assets[key.split(".")[1]] = read_asset(folder, value, kinds)
        except ValueError as exc:
            problems.append(loaded.problem(key, str(exc)))
    if t.period is not None:
        try:
            check_period(t.period)
        except ValueError as exc:
            problems.append(loaded.problem("period", str(exc)))
    ids = t.metric_ids()
    seen: set[str] = set()
    for path, element in t.elements():
        if isinstance(element, MetricCard):
            if element.id in seen:
                problems.append(
                    loaded.problem(f"{path}.id", f"metric id {element.id!r} is used twice")
                )
            seen.add(element.id)
        if isinstance(element, Table):
            for i, key in enumerate(element.sort):
                if not re.fullmatch(r"-?[a-z_][a-z0-9_]{0,62}", key):
                    problems.append(
                        loaded.problem(
                            f"{path}.sort[{i}]",
                            f"{key[:60]!r} is not a column name (write -name to sort descending)",
                        )
                    )
        for key, expression in expressions_of(element):
            try:
                check_expression(expression)
            except ExpressionError as exc:
                problems.append(loaded.problem(f"{path}.{key}", f"condition {expression!r}: {exc}"))
    known = [*PLACEHOLDERS, *ids]
    texts = [("title", t.title), ("branding.footer", b.footer)]
    texts += [(f"pages[{p}].title", page.title) for p, page in enumerate(t.pages)]
    texts += [(f"{path}.text", e.text) for path, e in t.elements() if isinstance(e, TextBlock)]
    texts += [(f"{path}.title", e.title) for path, e in t.elements()]
    for key, text in texts:
        problems += [loaded.problem(key, m) for m in placeholder_problems(text, known)]
    return problems


def expressions_of(element: Any) -> list[tuple[str, str]]:
    """(key, expression) of every condition of an element."""
    out: list[tuple[str, str]] = []
    if getattr(element, "where", None):
        out.append(("where", element.where))
    for i, rule in enumerate(getattr(element, "formatting", [])):
        out.append((f"formatting[{i}].when", rule.when))
    return out


def check_expression(text: str, names: set[str] | None = None) -> Any:
    """Compile a condition; without ``names`` (no schema yet) every plain name it uses is taken
    as a column, so only its syntax and constructs are checked (the schema check comes later)."""
    if names is None:
        try:
            tree = ast.parse(text.strip(), mode="eval")
            names = {
                n.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Name) and "__" not in n.id and n.id not in FUNCTIONS
            }
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            names = set()  # compile_expression says what is wrong
    return compile_expression(text, names)


def placeholder_problems(text: str, known: list[str]) -> list[str]:
    """What is wrong with the placeholders of ``text``: Jinja syntax is refused (a template's
    text is never run as a template), and a ``{name}`` must name a known value."""
    for marker in _JINJA:
        if marker in text:
            return [
                f"{marker!r}: template syntax is not run in a custom report's text; write a "
                f"placeholder as {{name}} (known: {', '.join(known)})"
            ]
    problems = []
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1)
        if name not in known:
            problems.append(f"unknown placeholder {{{name[:40]}}}; known: {', '.join(known)}")
    return problems


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """``text`` with every ``{name}`` of ``values`` replaced; anything else stays as written
    (the result is escaped where it is shown, never run)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def read_asset(folder: Path, value: str, kinds: dict[str, str]) -> Asset:
    """A file named relative to the template's folder, checked: no URL, absolute path, ``..``
    or link leading out of the folder, a known type whose first bytes match, at most
    :data:`MAX_ASSET_BYTES`."""
    if _SCHEME.match(value) or value.startswith("//"):
        raise ValueError(
            f"{value[:80]!r} is a URL; a template brings its files in its own folder, and "
            "nothing is fetched"
        )
    if value.startswith(("/", "\\")) or Path(value).is_absolute():
        raise ValueError(
            f"{value[:80]!r} is an absolute path; name a file in the template's folder"
        )
    parts = re.split(r"[\\/]", value)
    if ".." in parts:
        raise ValueError(f"{value[:80]!r} leads out of the template's folder ('..')")
    if "\\" in value or "\x00" in value:
        raise ValueError(f"{value[:80]!r}: write the path with / only")
    root = folder.resolve()
    path = (folder / value).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{value[:80]!r} is a link leading out of the template's folder")
    suffix = path.suffix.lower()
    mime = kinds.get(suffix)
    if mime is None:
        raise ValueError(
            f"{value[:80]!r}: the file types allowed here are {', '.join(sorted(kinds))}"
        )
    if not path.is_file():
        raise ValueError(f"{value[:80]!r}: no such file in the template's folder")
    size = path.stat().st_size
    if size > MAX_ASSET_BYTES:
        raise ValueError(f"{value[:80]!r} is {size} bytes; the limit is {MAX_ASSET_BYTES}")
    data = path.read_bytes()
    if mime == SVG_TYPE:
        head = data[:2048].lstrip().lower()
        if b"<svg" not in head or b"<!entity" in data.lower():
            raise ValueError(f"{value[:80]!r} is not a plain SVG image (no entities allowed)")
    elif not data.startswith(_MAGIC[mime]):
        raise ValueError(f"{value[:80]!r} is not a {mime} file (its first bytes do not match)")
    return Asset(value, data, mime)
