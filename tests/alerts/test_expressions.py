"""Rule expressions: the same answers as plain Python on numbers, one at a time and over arrays,
and every escape attempt refused at compile time, quickly, with the construct named."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import numpy as np
import pytest

from alerts.expressions import MAX_NODES, ExpressionError, compile_expression

NAMES = ("a", "b", "c")
# (expression, the same in plain Python); the reference may raise ZeroDivisionError
VALID: list[tuple[str, Callable[[float, float, float], object]]] = [
    ("a > 1", lambda a, b, c: a > 1),
    ("a >= b", lambda a, b, c: a >= b),
    ("a < b <= c", lambda a, b, c: a < b <= c),
    ("a == b != c", lambda a, b, c: a == b != c),
    ("a + b * c > 10", lambda a, b, c: a + b * c > 10),
    ("(a + b) * c > 10", lambda a, b, c: (a + b) * c > 10),
    ("a - b - c < 0", lambda a, b, c: a - b - c < 0),
    ("a / b > 0.5", lambda a, b, c: a / b > 0.5),
    ("-a + +b > 0", lambda a, b, c: -a + +b > 0),
    ("not a > 1", lambda a, b, c: not a > 1),
    ("a > 1 and b > 1", lambda a, b, c: a > 1 and b > 1),
    # precedence as Python has it
    ("a > 1 or b > 1 and c > 1", lambda a, b, c: a > 1 or b > 1 and c > 1),  # noqa: RUF021
    ("not (a > 1 or b > 1)", lambda a, b, c: not (a > 1 or b > 1)),
    ("abs(a - b) > 2", lambda a, b, c: abs(a - b) > 2),
    ("min(a, b, c) < 0", lambda a, b, c: min(a, b, c) < 0),
    ("max(a, b) - min(b, c) >= 1.5", lambda a, b, c: max(a, b) - min(b, c) >= 1.5),
    ("a", lambda a, b, c: a),
    ("a * 0", lambda a, b, c: a * 0),
    ("(a and b) + 1 > 1", lambda a, b, c: (a and b) + 1 > 1),
    ("(a or b) * 2 > 3", lambda a, b, c: (a or b) * 2 > 3),
    ("(a > b) + (b > c) == 1", lambda a, b, c: (a > b) + (b > c) == 1),
    ("True and a > 0", lambda a, b, c: True and a > 0),
    ("False or not a", lambda a, b, c: False or not a),
    ("1e3 < a * 1000", lambda a, b, c: 1e3 < a * 1000),  # noqa: SIM300
    ("a / (b - c) < 1", lambda a, b, c: a / (b - c) < 1),
]
POINTS = list(itertools.product([-2.0, 0.0, 0.5, 1.0, 3.0], repeat=3))


def _python(reference: Callable[[float, float, float], object], point: tuple) -> bool | None:
    try:
        return bool(reference(*point))
    except ZeroDivisionError:
        return None


@pytest.mark.parametrize(("text", "reference"), VALID, ids=[t for t, _ in VALID])
def test_valid_expressions_answer_as_python_does_on_scalars_and_arrays(text, reference):
    expr = compile_expression(text, NAMES)
    expected = [_python(reference, point) for point in POINTS]
    scalar = [expr.evaluate(dict(zip(NAMES, point, strict=True))) for point in POINTS]
    assert scalar == expected
    columns = {name: np.array([p[i] for p in POINTS]) for i, name in enumerate(NAMES)}
    arrays = expr.evaluate_arrays(columns)
    as_floats = [np.nan if e is None else float(e) for e in expected]
    np.testing.assert_array_equal(arrays, np.array(as_floats))


def test_names_are_the_ones_used():
    assert compile_expression("a > 1 and abs(c) < 2", NAMES).names == frozenset({"a", "c"})
    assert compile_expression("1 < 2", NAMES).names == frozenset()


def test_a_missing_value_is_no_data_even_where_python_would_short_circuit():
    expr = compile_expression("a > 1 or b > 1", NAMES)
    assert expr.evaluate({"a": 5, "b": None}) is None
    assert expr.evaluate({"a": 5, "b": float("nan")}) is None
    assert expr.evaluate({"a": 5, "b": 0}) is True
    out = expr.evaluate_arrays({"a": np.array([5.0, 5.0, 0.0]), "b": np.array([np.nan, 0, 0])})
    np.testing.assert_array_equal(out, [np.nan, 1.0, 0.0])


def test_division_by_zero_is_no_data_and_other_rows_are_unaffected():
    expr = compile_expression("a / b > 1", NAMES)
    assert expr.evaluate({"a": 1, "b": 0}) is None
    assert expr.evaluate({"a": 3, "b": 2}) is True
    out = expr.evaluate_arrays({"a": np.array([1.0, 3.0, 0.0]), "b": np.array([0.0, 2.0, 0.0])})
    np.testing.assert_array_equal(out, [np.nan, 1.0, np.nan])


def test_overflow_to_infinity_compares_and_infinity_minus_infinity_is_no_data():
    big = compile_expression("a * a * a > 1", NAMES)
    assert big.evaluate({"a": 1e200}) is True
    undefined = compile_expression("a * a - a * a > 0", NAMES)
    assert undefined.evaluate({"a": 1e200}) is None
    assert np.isnan(undefined.evaluate_arrays({"a": np.array([1e200])})[0])


def test_booleans_and_integer_arrays_are_numbers():
    expr = compile_expression("a and b > 2", NAMES)
    assert expr.evaluate({"a": True, "b": 3}) is True
    assert expr.evaluate({"a": False, "b": 3}) is False
    out = expr.evaluate_arrays({"a": np.array([True, False]), "b": np.array([3, 3])})
    np.testing.assert_array_equal(out, [1.0, 0.0])


def test_a_constant_expression_gives_one_answer_per_row():
    out = compile_expression("2 > 1", NAMES).evaluate_arrays({"a": np.zeros(4)})
    np.testing.assert_array_equal(out, [1.0, 1.0, 1.0, 1.0])


def test_a_value_the_expression_needs_must_be_given():
    expr = compile_expression("a > 1", NAMES)
    with pytest.raises(KeyError, match="no value for 'a'"):
        expr.evaluate({"b": 1})
    with pytest.raises(KeyError, match="no column 'a'"):
        expr.evaluate_arrays({"b": np.ones(2)})
    with pytest.raises(TypeError, match="text"):
        expr.evaluate({"a": "5"})


HOSTILE = [
    ("().__class__.__bases__[0].__subclasses__()", "'__class__' is not allowed"),
    ("a.__class__", "'__class__' is not allowed"),
    ("__import__('os').system('true')", "'__import__' is not allowed"),
    ("__builtins__", "'__builtins__' is not allowed"),
    ("9**9**9", "operator '**' is not allowed"),
    ("'a'*10**9", "text constants are not allowed"),
    ("b'x'", "text constants are not allowed"),
    ("lambda: 1", "lambda is not allowed"),
    ("[x for x in y]", "list comprehension is not allowed"),
    ("{x: 1 for x in a}", "dict comprehension is not allowed"),
    ("(x for x in a)", "generator expression is not allowed"),
    ("f'{a}'", "f-string is not allowed"),
    ("(a := 1)", "assignment expression"),
    ("min(*a)", "starred argument"),
    ("max(a, b, key=c)", "keyword arguments are not allowed in max()"),
    ("open('/etc/passwd')", "call to 'open' is not allowed"),
    ("getattr(a, 'b')", "call to 'getattr' is not allowed"),
    ("eval('1')", "call to 'eval' is not allowed"),
    ("a.real", "attribute access ('.real') is not allowed"),
    ("a[0]", "subscript"),
    ("[a, b]", "list is not allowed"),
    ("a if b else c", "conditional expression"),
    ("a // 2", "operator '//' is not allowed"),
    ("a % 2", "operator '%' is not allowed"),
    ("a @ b", "operator '@' is not allowed"),
    ("a << 2", "operator '<<' is not allowed"),
    ("~a", "operator '~' is not allowed"),
    ("a in b", "comparison 'in' is not allowed"),
    ("a is None", "comparison 'is' is not allowed"),
    ("None", "None is not allowed"),
    ("1j", "complex numbers are not allowed"),
    ("1e16", "larger than 1e+15"),
    ("10000000000000000000000000", "larger than 1e+15"),
    ("1e999", "larger than 1e+15"),
    ("inflw > 1", "unknown name 'inflw'; did you mean 'inflow'?"),
    ("abs > 1", "abs is a function"),
    ("abs(a, b)", "abs() takes exactly 1 argument"),
    ("min(a)", "min() takes 2 to 16 numbers"),
    ("a >", "not a valid expression"),
    ("import os", "not a valid expression"),
    ("a > 1; b", "not a valid expression"),
    ("a\x00", "not a valid expression"),
    ("", "expression is empty"),
    ("(" * 240 + "a" + ")" * 240, "not a valid expression: too many nested parentheses"),
    ("(" * 40 + "a" + " + 1)" * 40, "nested deeper than 32 levels"),
    ("-" * 60 + "a", "nested deeper than 32 levels"),
    ("not " * 40 + "a", "nested deeper than 32 levels"),
    ("+".join(["a"] * 150), f"more than {MAX_NODES} parts"),
    ("a" * 600, "the limit is 500"),
    ("a > " + "9" * 10_000_000, "the limit is 500"),
]


@pytest.mark.parametrize(("text", "reason"), HOSTILE, ids=[h[0][:30] for h in HOSTILE])
def test_hostile_or_invalid_expressions_are_refused_quickly_with_a_reason(text, reason):
    names = ("a", "b", "c", "inflow")
    started = time.perf_counter()
    with pytest.raises(ExpressionError) as info:
        compile_expression(text, names)
    assert time.perf_counter() - started < 0.1
    assert reason in str(info.value)


def test_the_refusal_says_where():
    with pytest.raises(ExpressionError) as info:
        compile_expression("a > 1 and b ** 2 > 3", NAMES)
    assert "(column 11)" in str(info.value)
    assert info.value.column == 11
    with pytest.raises(ExpressionError, match=r"'__dict__' is not allowed.*column 13"):
        compile_expression("a > 1 and b.__dict__", NAMES)


def test_a_refused_expression_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(ExpressionError):
        compile_expression(f"a > 1 or __import__('pathlib').Path('{marker}').touch()", NAMES)
    assert not marker.exists()


def test_longer_limits_can_be_given():
    long = " + ".join(["a"] * 30) + " > 29"
    with pytest.raises(ExpressionError, match="limit is 100"):
        compile_expression(long, NAMES, max_length=100)
    assert compile_expression(long, NAMES, max_length=1000).evaluate({"a": 1}) is True
