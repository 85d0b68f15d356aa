"""Rule expressions: numbers, declared metric names, arithmetic, comparisons and ``and`` /
``or`` / ``not``, written in Python's syntax and checked against a whitelist of it.

The text is parsed with :func:`ast.parse` and never run: each allowed node becomes a closure, and
any other node (attributes, subscripts, strings, ``**``, lambdas, comprehensions, unknown names,
any name with ``__``) is refused when the rule loads, with the construct and its column. Sizes are
capped (text length, node count, nesting depth, constant magnitude) so that no expression can
cost more than a few vectorised operations per node.

Values follow Python's: comparisons are 1 or 0, ``True`` is 1, ``a and b`` is ``b`` when ``a`` is
true and ``a`` otherwise, ``not a`` is 1 when ``a`` is 0; the result is breached when non-zero.
Two evaluators share that meaning. :meth:`CompiledExpression.evaluate` takes one value per name
and answers None (no data) when a name has no value or NaN, or on a division by zero;
:meth:`CompiledExpression.evaluate_arrays` takes one array per name and answers 1.0 / 0.0 / NaN
per row, where a NaN operand or a division by zero makes that row NaN.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Collection, Mapping
from difflib import get_close_matches
from typing import Any

import numpy as np

MAX_LENGTH = 500
MAX_NODES = 200
MAX_DEPTH = 32
MAX_CONSTANT = 1e15
MAX_ARGUMENTS = 16
FUNCTIONS = ("abs", "min", "max")

Scalar = Callable[[Mapping[str, float]], float | None]
Vector = Callable[[Mapping[str, np.ndarray]], Any]  # an ndarray, or a float for a constant

# what each refused construct is called in an error message
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access ('.')",
    ast.Subscript: "subscript ('[...]')",
    ast.Lambda: "lambda",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.NamedExpr: "assignment expression (':=')",
    ast.Starred: "starred argument ('*')",
    ast.IfExp: "conditional expression ('x if c else y')",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Set: "set",
    ast.Dict: "dict",
    ast.Slice: "slice",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
_BINARY_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}
_COMPARE_SYMBOLS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


class ExpressionError(ValueError):
    """An expression refused when it is compiled; the message names the construct and where."""

    def __init__(self, message: str, column: int | None = None):
        self.column = column
        super().__init__(message)


def _where(node: ast.AST) -> str:
    line = getattr(node, "lineno", None)
    column = getattr(node, "col_offset", None)
    if column is None:
        return ""
    if line is not None and line > 1:
        return f" (line {line}, column {column + 1})"
    return f" (column {column + 1})"


def _refuse(node: ast.AST, what: str) -> ExpressionError:
    column = getattr(node, "col_offset", None)
    return ExpressionError(f"{what}{_where(node)}", None if column is None else column + 1)


def _is_dunder(name: str) -> bool:
    return "__" in name


def _name_column(node: ast.Name | ast.Attribute) -> int:
    """0-based column of the name itself (of ``attr`` in ``x.attr``)."""
    if isinstance(node, ast.Attribute) and node.end_col_offset is not None:
        return node.end_col_offset - len(node.attr)
    return node.col_offset


# -- scalar closures: floats in, float or None (no data / undefined) out ----------------------


def _scalar_constant(value: float) -> Scalar:
    return lambda env: value


def _scalar_name(name: str) -> Scalar:
    return lambda env: env[name]


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def _scalar_arithmetic(op: type[ast.operator], left: Scalar, right: Scalar) -> Scalar:
    def run(env: Mapping[str, float]) -> float | None:
        a, b = left(env), right(env)
        if a is None or b is None:
            return None
        try:
            if op is ast.Add:
                return _finite(a + b)
            if op is ast.Sub:
                return _finite(a - b)
            if op is ast.Mult:
                return _finite(a * b)
            return None if b == 0 else _finite(a / b)
        except (OverflowError, ZeroDivisionError):  # pragma: no cover - floats give inf/None
            return None

    return run


def _scalar_unary(op: type[ast.unaryop], operand: Scalar) -> Scalar:
    def run(env: Mapping[str, float]) -> float | None:
        a = operand(env)
        if a is None:
            return None
        if op is ast.Not:
            return 1.0 if a == 0 else 0.0
        return -a if op is ast.USub else a

    return run


def _scalar_boolean(is_and: bool, parts: list[Scalar]) -> Scalar:
    def run(env: Mapping[str, float]) -> float | None:
        values = [part(env) for part in parts]  # no short cut: any missing value is no data
        if any(v is None for v in values):
            return None
        result = values[0]
        for value in values[1:]:
            assert result is not None and value is not None
            if is_and:
                result = value if result != 0 else result
            else:
                result = result if result != 0 else value
        return result

    return run


def _scalar_compare(ops: list[type[ast.cmpop]], parts: list[Scalar]) -> Scalar:
    def run(env: Mapping[str, float]) -> float | None:
        values = [part(env) for part in parts]
        if any(v is None for v in values):
            return None
        return float(
            all(_COMPARE[op](a, b) for op, a, b in zip(ops, values, values[1:], strict=False))
        )

    return run


def _scalar_call(function: str, args: list[Scalar]) -> Scalar:
    def run(env: Mapping[str, float]) -> float | None:
        values = [arg(env) for arg in args]
        if any(v is None for v in values):
            return None
        numbers: list[float] = [v for v in values if v is not None]
        if function == "abs":
            return abs(numbers[0])
        return min(numbers) if function == "min" else max(numbers)

    return run


# -- array closures: float arrays in, float arrays out, NaN for no data --------------------------


def _nan_where(result: Any, *operands: Any) -> Any:
    missing = np.isnan(operands[0])
    for operand in operands[1:]:
        missing = missing | np.isnan(operand)
    return np.where(missing, np.nan, result)


def _vector_constant(value: float) -> Vector:
    return lambda env: value


def _vector_name(name: str) -> Vector:
    return lambda env: env[name]


def _vector_arithmetic(op: type[ast.operator], left: Vector, right: Vector) -> Vector:
    def run(env: Mapping[str, np.ndarray]) -> Any:
        a, b = left(env), right(env)
        if op is ast.Add:
            return np.add(a, b)
        if op is ast.Sub:
            return np.subtract(a, b)
        if op is ast.Mult:
            return np.multiply(a, b)
        return np.where(np.equal(b, 0), np.nan, np.true_divide(a, b))

    return run


def _vector_unary(op: type[ast.unaryop], operand: Vector) -> Vector:
    def run(env: Mapping[str, np.ndarray]) -> Any:
        a = operand(env)
        if op is ast.Not:
            return _nan_where(np.equal(a, 0), a)
        return np.negative(a) if op is ast.USub else np.positive(a)

    return run


def _vector_boolean(is_and: bool, parts: list[Vector]) -> Vector:
    def run(env: Mapping[str, np.ndarray]) -> Any:
        values = [part(env) for part in parts]
        result = values[0]
        for value in values[1:]:
            truthy = np.not_equal(result, 0)
            picked = np.where(truthy, value, result) if is_and else np.where(truthy, result, value)
            result = _nan_where(picked, result, value)
        return result

    return run


def _vector_compare(ops: list[type[ast.cmpop]], parts: list[Vector]) -> Vector:
    def run(env: Mapping[str, np.ndarray]) -> Any:
        values = [part(env) for part in parts]
        result: Any = 1.0
        for op, a, b in zip(ops, values, values[1:], strict=False):
            # 1/0/NaN per pair; their product is "all true", NaN when any operand was NaN
            result = np.multiply(result, _nan_where(_COMPARE[op](a, b), a, b))
        return result

    return run


def _vector_call(function: str, args: list[Vector]) -> Vector:
    def run(env: Mapping[str, np.ndarray]) -> Any:
        values = [arg(env) for arg in args]
        if function == "abs":
            return np.abs(values[0])
        combine = np.minimum if function == "min" else np.maximum  # both propagate NaN
        result = values[0]
        for value in values[1:]:
            result = combine(result, value)
        return result

    return run


class _Compiler:
    def __init__(self, names: Collection[str]):
        self.names = set(names)
        self.used: set[str] = set()

    def build(self, node: ast.AST, depth: int) -> tuple[Scalar, Vector]:
        if depth > MAX_DEPTH:
            raise _refuse(node, f"nested deeper than {MAX_DEPTH} levels")
        inner = depth + 1
        if isinstance(node, ast.Constant):
            value = self.constant(node)
            return _scalar_constant(value), _vector_constant(value)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op not in (ast.Add, ast.Sub, ast.Mult, ast.Div):
                symbol = _BINARY_SYMBOLS.get(op, op.__name__)
                raise _refuse(node, f"operator {symbol!r} is not allowed; use + - * /")
            left, right = self.build(node.left, inner), self.build(node.right, inner)
            return (
                _scalar_arithmetic(op, left[0], right[0]),
                _vector_arithmetic(op, left[1], right[1]),
            )
        if isinstance(node, ast.UnaryOp):
            unary = type(node.op)
            if unary is ast.Invert:
                raise _refuse(node, "operator '~' is not allowed; use not")
            operand = self.build(node.operand, inner)
            return _scalar_unary(unary, operand[0]), _vector_unary(unary, operand[1])
        if isinstance(node, ast.BoolOp):
            parts = [self.build(value, inner) for value in node.values]
            is_and = isinstance(node.op, ast.And)
            return (
                _scalar_boolean(is_and, [p[0] for p in parts]),
                _vector_boolean(is_and, [p[1] for p in parts]),
            )
        if isinstance(node, ast.Compare):
            ops = [type(cmp) for cmp in node.ops]
            for cmp in ops:
                if cmp not in _COMPARE:
                    symbol = _COMPARE_SYMBOLS.get(cmp, cmp.__name__)
                    raise _refuse(
                        node, f"comparison {symbol!r} is not allowed; use < <= > >= == !="
                    )
            parts = [self.build(value, inner) for value in (node.left, *node.comparators)]
            return (
                _scalar_compare(ops, [p[0] for p in parts]),
                _vector_compare(ops, [p[1] for p in parts]),
            )
        if isinstance(node, ast.Call):
            return self.call(node, inner)
        if isinstance(node, ast.Attribute):
            raise _refuse(node, f"attribute access ('.{node.attr}') is not allowed")
        what = _REFUSED.get(type(node), f"{type(node).__name__} syntax")
        raise _refuse(node, f"{what} is not allowed")

    def constant(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, str | bytes):
            raise _refuse(node, "text constants are not allowed: expressions work on numbers")
        if value is None or value is Ellipsis:
            raise _refuse(node, f"{value!r} is not allowed: expressions work on numbers")
        if isinstance(value, complex):
            raise _refuse(node, "complex numbers are not allowed")
        if isinstance(value, int) and abs(value) > MAX_CONSTANT:
            raise _refuse(node, f"the number {value} is larger than {MAX_CONSTANT:g}")
        number = float(value)
        if not math.isfinite(number) or abs(number) > MAX_CONSTANT:
            raise _refuse(node, f"the number {value!r} is larger than {MAX_CONSTANT:g}")
        return number

    def name(self, node: ast.Name) -> tuple[Scalar, Vector]:
        name = node.id
        if name in self.names:
            self.used.add(name)
            return _scalar_name(name), _vector_name(name)
        if name in FUNCTIONS:
            example = "abs(x)" if name == "abs" else f"{name}(x, y)"
            raise _refuse(node, f"{name} is a function: call it, as in {example}")
        hint = get_close_matches(name, sorted(self.names), n=1)
        extra = f"; did you mean {hint[0]!r}?" if hint else ""
        known = ", ".join(sorted(self.names)) or "none"
        raise _refuse(node, f"unknown name {name!r}{extra} (declared: {known})")

    def call(self, node: ast.Call, inner: int) -> tuple[Scalar, Vector]:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = node.func.id if isinstance(node.func, ast.Name) else None
            what = f"call to {called!r}" if called else "calling the result of an expression"
            raise _refuse(node, f"{what} is not allowed; the functions are abs, min and max")
        function = node.func.id
        if node.keywords:
            raise _refuse(node, f"keyword arguments are not allowed in {function}()")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise _refuse(arg, f"starred argument ('*') is not allowed in {function}()")
        count = len(node.args)
        if function == "abs" and count != 1:
            raise _refuse(node, f"abs() takes exactly 1 argument, got {count}")
        if function != "abs" and not 2 <= count <= MAX_ARGUMENTS:
            raise _refuse(node, f"{function}() takes 2 to {MAX_ARGUMENTS} numbers, got {count}")
        args = [self.build(arg, inner) for arg in node.args]
        return (
            _scalar_call(function, [a[0] for a in args]),
            _vector_call(function, [a[1] for a in args]),
        )


class CompiledExpression:
    """An expression checked and compiled once; evaluate it per row or over whole columns."""

    def __init__(self, text: str, names: frozenset[str], scalar: Scalar, vector: Vector):
        self.text = text
        self.names = names
        self._scalar = scalar
        self._vector = vector

    def __repr__(self) -> str:
        return f"CompiledExpression({self.text!r})"

    def evaluate(self, values: Mapping[str, float | None]) -> bool | None:
        """Whether the expression holds for one set of values; None when a name it uses has no
        value (None or NaN) or a division by zero leaves it undefined."""
        env: dict[str, float] = {}
        for name in self.names:
            if name not in values:
                raise KeyError(f"no value for {name!r}, which {self.text!r} uses")
            value = values[name]
            if value is None:
                return None
            if isinstance(value, str | bytes):
                raise TypeError(f"{name!r} is text ({value!r}), not a number")
            number = float(value)
            if math.isnan(number):
                return None
            env[name] = number
        result = self._scalar(env)
        return None if result is None else result != 0

    def evaluate_arrays(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Per row: 1.0 where the expression holds, 0.0 where it does not, NaN where a value it
        uses is NaN or a division by zero leaves it undefined."""
        env: dict[str, np.ndarray] = {}
        length: int | None = None
        for name in self.names:
            if name not in columns:
                raise KeyError(f"no column {name!r}, which {self.text!r} uses")
            array = np.asarray(columns[name], dtype=np.float64)
            if array.ndim != 1 or (length is not None and len(array) != length):
                raise ValueError(f"column {name!r} is not a 1-D array as long as the others")
            length = len(array)
            env[name] = array
        if length is None:
            length = len(next(iter(columns.values()))) if columns else 1
        with np.errstate(all="ignore"):
            result = np.asarray(self._vector(env), dtype=np.float64)
            breached = _nan_where(np.not_equal(result, 0), result)
        return np.array(np.broadcast_to(breached, (length,)), dtype=np.float64)


def compile_expression(
    text: str, names: Collection[str], *, max_length: int = MAX_LENGTH
) -> CompiledExpression:
    """Check ``text`` against the whitelist and compile it; ``names`` are the names it may use.
    Raises :class:`ExpressionError` saying what is wrong and where."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression is text, got {type(text).__name__}")
    if len(text) > max_length:
        raise ExpressionError(
            f"expression is {len(text)} characters long; the limit is {max_length}"
        )
    source = text.strip()
    if not source:
        raise ExpressionError("expression is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        at = f" (column {exc.offset})" if exc.offset else ""
        raise ExpressionError(f"not a valid expression: {exc.msg}{at}", exc.offset) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"not a valid expression: {exc}") from None

    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.expr):
            count += 1
            if count > MAX_NODES:
                raise ExpressionError(f"expression has more than {MAX_NODES} parts")
    # refuse the first step of every known escape (__class__, __import__, __builtins__ ...)
    # by name, wherever it appears, before anything else is said about the expression
    dunders = [
        (node.lineno, _name_column(node), name, node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Name | ast.Attribute)
        for name in [node.id if isinstance(node, ast.Name) else node.attr]
        if _is_dunder(name)
    ]
    if dunders:
        line, column, name, _ = min(dunders, key=lambda d: (d[0], d[1]))
        where = f"line {line}, column {column + 1}" if line > 1 else f"column {column + 1}"
        raise ExpressionError(
            f"{name!r} is not allowed: no name may contain '__' ({where})", column + 1
        )
    compiler = _Compiler(names)
    try:
        scalar, vector = compiler.build(tree.body, 0)
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops well before
        raise ExpressionError(f"nested deeper than {MAX_DEPTH} levels") from None
    return CompiledExpression(source, frozenset(compiler.used), scalar, vector)
