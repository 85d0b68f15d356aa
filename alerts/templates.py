"""Alert summary templates: one line of Jinja2 in a sandbox, checked when the rule loads.

Summaries are written by whoever edits a rules file, so they run in Jinja2's
:class:`~jinja2.sandbox.SandboxedEnvironment` (no private attributes, no unsafe methods) and are
further limited to what a one-line message needs: output, ``if``, arithmetic other than ``**``
and ``%``, comparisons, attribute and item access, and a list of cheap filters. Calls, loops,
macros, assignments and filters that can grow text without bound (``center``, ``indent``,
``format``, ``replace``, ``wordwrap`` ...) are refused at load, and a ``*`` that would build a
long text or list is refused when the summary renders.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_TEMPLATE_LENGTH = 1000
MAX_RENDERED_LENGTH = 1000
MAX_REPEATED_LENGTH = 1000

ALLOWED_FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "d",
        "default",
        "dictsort",
        "e",
        "escape",
        "first",
        "float",
        "int",
        "items",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "max",
        "min",
        "reverse",
        "round",
        "sort",
        "string",
        "sum",
        "title",
        "trim",
        "truncate",
        "unique",
        "upper",
        "wordcount",
    }
)
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.If,
    nodes.Name,
    nodes.Const,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Filter,
    nodes.Test,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Neg,
    nodes.Pos,
    nodes.Add,
    nodes.Sub,
    nodes.Mul,
    nodes.Div,
    nodes.FloorDiv,
    nodes.Concat,
    nodes.Tuple,
    nodes.List,
    nodes.Dict,
    nodes.Pair,
    nodes.Keyword,
)
_NODE_NAMES = {
    nodes.For: "'for' loops are",
    nodes.Macro: "macros are",
    nodes.CallBlock: "call blocks are",
    nodes.FilterBlock: "filter blocks are",
    nodes.With: "'with' blocks are",
    nodes.Assign: "'set' is",
    nodes.AssignBlock: "'set' is",
    nodes.Call: "function and method calls are",
    nodes.Pow: "'**' is",
    nodes.Mod: "'%' is",
    nodes.Include: "'include' is",
    nodes.Import: "'import' is",
    nodes.FromImport: "'import' is",
    nodes.Extends: "'extends' is",
    nodes.Block: "blocks are",
}


class SummaryEnvironment(SandboxedEnvironment):
    """The sandbox, with ``*`` checked: no text or list longer than
    :data:`MAX_REPEATED_LENGTH` is built by repetition."""

    intercepted_binops = frozenset({"*"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(times, int)
                    and len(sequence) * max(times, 0) > MAX_REPEATED_LENGTH
                ):
                    raise SecurityError("repetition builds too long a value")
        return super().call_binop(context, operator, left, right)


_ENV = SummaryEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class TemplateError(ValueError):
    """A summary template refused at load."""


@functools.lru_cache(maxsize=1024)
def compile_summary(text: str) -> Template:
    """Check and compile a summary template; raises :class:`TemplateError` with the reason."""
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(
            f"template is {len(text)} characters long; the limit is {MAX_TEMPLATE_LENGTH}"
        )
    try:
        tree = _ENV.parse(text)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
    except RecursionError:
        raise TemplateError("template nests too deeply") from None
    for node in _walk(tree):
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            raise TemplateError(
                f"filter {node.name!r} is not allowed in a summary (line {node.lineno}); "
                f"allowed: {', '.join(sorted(ALLOWED_FILTERS))}"
            )
        if not isinstance(node, _ALLOWED_NODES):
            what = _NODE_NAMES.get(type(node), f"{type(node).__name__} is")
            raise TemplateError(f"{what} not allowed in a summary (line {node.lineno})")
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise TemplateError(
                f"attribute {node.attr!r} is not allowed in a summary (line {node.lineno})"
            )
    try:
        return _ENV.from_string(tree)
    except TemplateSyntaxError as exc:  # pragma: no cover - parse already checked the syntax
        raise TemplateError(f"template error on line {exc.lineno}: {exc.message}") from None


def _walk(node: nodes.Node) -> list[nodes.Node]:
    found = [node]
    stack = [node]
    while stack:
        for child in stack.pop().iter_child_nodes():
            found.append(child)
            stack.append(child)
    return found


def render_summary(template: Template, variables: Mapping[str, Any]) -> str:
    """Render a compiled summary; raises whatever the template raised (the caller falls back)."""
    text = template.render(**variables).strip()
    if len(text) > MAX_RENDERED_LENGTH:
        text = text[: MAX_RENDERED_LENGTH - 1] + "…"
    return text
