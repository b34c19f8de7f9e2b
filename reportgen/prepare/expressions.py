"""A small, safe expression language for derived features and rule conditions.

User text is parsed with :func:`ast.parse` and only an explicit whitelist of node types is accepted; nothing
is ever handed to ``eval``. Column names that are not identifiers are written in backticks. Numbers are
evaluated as floats so huge integer powers cannot stall the process, and numpy's warnings are silenced
because a division by zero yielding inf/NaN is an expected outcome the caller cleans up.
"""

from __future__ import annotations

import ast
import functools
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MAX_LENGTH = 1000
MAX_DEPTH = 100
MAX_EXPONENT = 100
MAX_LITERAL_BITS = 996  # floats reach about 1.8e308

_ARITHMETIC: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add), ast.Sub: ("-", operator.sub), ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv), ast.FloorDiv: ("//", operator.floordiv), ast.Mod: ("%", operator.mod),
    ast.Pow: ("**", operator.pow),
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
_FUNCTIONS: dict[str, tuple[Callable[..., Any], int]] = {  # name -> (function, minimum arity); 1 = exactly one
    "abs": (np.abs, 1), "min": (lambda *a: functools.reduce(np.minimum, a), 2),
    "max": (lambda *a: functools.reduce(np.maximum, a), 2), "log": (np.log, 1), "sqrt": (np.sqrt, 1),
}
_LITERAL_NAMES = {"true": True, "false": False}
_REFUSED = {
    ast.Attribute: "attribute access is not allowed", ast.Subscript: "indexing/subscripts are not allowed",
    ast.Lambda: "lambda is not allowed", ast.JoinedStr: "f-strings are not allowed",
    ast.ListComp: "comprehensions are not allowed", ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed", ast.GeneratorExp: "comprehensions are not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed", ast.IfExp: "conditional expressions are not allowed",
    ast.List: "list literals are not allowed", ast.Tuple: "tuple literals are not allowed",
    ast.Set: "set literals are not allowed", ast.Dict: "dict literals are not allowed",
    ast.Starred: "starred expressions are not allowed", ast.Await: "await is not allowed",
}
# Quoted strings are matched first so a backtick inside a string literal is left alone.
_TOKENS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`([^`]*)`|(`)")


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated; ``str(err)`` is a one-line reason."""


@dataclass(frozen=True)
class Expression:
    """A parsed, validated expression; :meth:`evaluate` runs it on a mapping of names to values."""

    text: str
    names: frozenset[str]
    ordered_names: tuple[str, ...] = ()  # the same names, in order of first appearance
    conditions: bool = False
    _tree: ast.Expression | None = field(default=None, repr=False, compare=False)
    _aliases: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """Evaluate on ``env`` (name → array, Series or scalar); raises :class:`ExpressionError`."""
        assert self._tree is not None
        try:
            with np.errstate(all="ignore"):
                result = self._eval(self._tree.body, env)
        except ExpressionError:
            raise
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExpressionError(f"cannot evaluate '{self.text}': {exc}") from None
        return bool(result) if isinstance(result, np.bool_) else result

    def _eval(self, node: ast.AST, env: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, (str, bool)) else np.float64(node.value)
        if isinstance(node, ast.Name):
            if self.conditions and node.id in _LITERAL_NAMES:
                return _LITERAL_NAMES[node.id]
            name = self._aliases.get(node.id, node.id)
            if name not in env:
                raise ExpressionError(f"unknown name '{name}'")
            return _as_float(env[name])
        if isinstance(node, ast.BinOp):
            left, right = _as_float(self._eval(node.left, env)), _as_float(self._eval(node.right, env))
            if isinstance(left, str) or isinstance(right, str):  # '%999999999d' % size would build gigabytes
                raise ExpressionError("arithmetic on text is not allowed")
            if isinstance(node.op, ast.Pow) and np.ndim(right) == 0 and abs(float(right)) > MAX_EXPONENT:
                raise ExpressionError(f"exponent {float(right):g} is larger than {MAX_EXPONENT}")
            return _ARITHMETIC[type(node.op)][1](left, right)
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, env)
            if isinstance(node.op, ast.Not):
                return not value
            return -_as_float(value) if isinstance(node.op, ast.USub) else _as_float(value)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            return _FUNCTIONS[node.func.id][0](*(self._eval(arg, env) for arg in node.args))
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And)
            value: Any = is_and
            for operand in node.values:
                value = self._eval(operand, env)
                if bool(value) != is_and:  # short-circuit like Python
                    return value
            return value
        assert isinstance(node, ast.Compare)
        left = self._eval(node.left, env)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self._eval(comparator, env)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True


def _as_float(value: Any) -> Any:
    """Numbers become numpy floats: ``x ** -1`` works, big powers cannot run unbounded, none turns complex."""
    if isinstance(value, (bool, np.bool_, str)):
        return value
    if isinstance(value, (int, float, np.integer)):
        return np.float64(value)
    if isinstance(value, pd.Series) and value.dtype.kind in "iu":
        return pd.Series(value.to_numpy(dtype=float, na_value=np.nan), index=value.index, name=value.name)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        return value.astype(float)
    return value


def _check(node: ast.AST, conditions: bool, depth: int) -> None:
    """Refuse anything outside the whitelist, with a message naming what was found."""
    if depth > MAX_DEPTH:
        raise ExpressionError(f"expression is nested too deeply (more than {MAX_DEPTH} levels)")
    children: list[ast.AST] = []
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str) and not conditions:
            raise ExpressionError("string literals are only allowed in rule conditions")
        if isinstance(value, bool) and not conditions:
            raise ExpressionError("True/False are only allowed in rule conditions")
        if not isinstance(value, (int, float, str)):
            raise ExpressionError(f"the literal {value!r} is not allowed")
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_LITERAL_BITS:
            raise ExpressionError(f"the number {str(value)[:12]}… ({len(str(value))} digits) is too large")
    elif isinstance(node, ast.Name):
        pass
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _ARITHMETIC:
            raise ExpressionError(f"the operator {type(node.op).__name__} is not allowed (use + - * / // % **)")
        if any(isinstance(side, ast.Constant) and isinstance(side.value, str) for side in (node.left, node.right)):
            raise ExpressionError("arithmetic on text is not allowed")
        exponent = _constant_number(node.right) if isinstance(node.op, ast.Pow) else None
        if exponent is not None and abs(exponent) > MAX_EXPONENT:
            raise ExpressionError(f"exponent {exponent:g} is larger than {MAX_EXPONENT}")
        children = [node.left, node.right]
    elif isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not) and not conditions:
            raise ExpressionError("'not' is only allowed in rule conditions")
        if isinstance(node.op, ast.Invert):
            raise ExpressionError("the operator ~ is not allowed")
        children = [node.operand]
    elif isinstance(node, ast.Call):
        allowed = "/".join(_FUNCTIONS)
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            raise ExpressionError(f"function calls are not allowed except {allowed}")
        name, arity = node.func.id, _FUNCTIONS[node.func.id][1]
        if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
            raise ExpressionError(f"{name}() takes plain positional arguments only")
        if (arity == 1 and len(node.args) != 1) or len(node.args) < arity:
            expected = "exactly one argument" if arity == 1 else f"at least {arity} arguments"
            raise ExpressionError(f"{name}() takes {expected}, got {len(node.args)}")
        children = list(node.args)
    elif isinstance(node, (ast.BoolOp, ast.Compare)):
        if not conditions:
            raise ExpressionError("comparisons and and/or are only allowed in rule conditions")
        if isinstance(node, ast.Compare):
            bad = [op for op in node.ops if type(op) not in _COMPARE]
            if bad:
                raise ExpressionError(f"the comparison {type(bad[0]).__name__} is not allowed (use < <= > >= == !=)")
            children = [node.left, *node.comparators]
        else:
            children = list(node.values)
    else:
        raise ExpressionError(_REFUSED.get(type(node), f"{type(node).__name__} expressions are not allowed"))
    for child in children:
        _check(child, conditions, depth + 1)


def _constant_number(node: ast.AST) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _constant_number(node.operand)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value) if abs(node.value) < 1e300 else float("inf")
    return None


def _replace_backticks(text: str) -> tuple[str, dict[str, str]]:
    """Swap each `quoted name` for a placeholder identifier that cannot clash with anything in the text."""
    prefix = "_bq"
    while prefix in text:
        prefix += "_"
    aliases: dict[str, str] = {}

    def substitute(match: re.Match[str]) -> str:
        if match.group(2):
            raise ExpressionError("unclosed backtick")
        if match.group(1) is None:
            return match.group(0)
        if not match.group(1).strip():
            raise ExpressionError("empty name in backticks")
        placeholder = next((k for k, v in aliases.items() if v == match.group(1)), f"{prefix}{len(aliases)}")
        aliases[placeholder] = match.group(1)
        return placeholder

    return _TOKENS.sub(substitute, text), aliases


def parse(text: str, *, conditions: bool = False) -> Expression:
    """Parse and validate ``text``; ``conditions=True`` also allows comparisons, and/or/not and strings.

    Raises
    ------
    ExpressionError
        With a one-line reason: syntax error, a refused construct, too long or too deep.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected a text expression, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError("expression is empty")
    source, aliases = _replace_backticks(text)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError("expression cannot be parsed (too complex or contains null bytes)") from None
    _check(tree.body, conditions, 0)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    # ast.walk is breadth-first; keep each name's first source position so evidence reads in written order.
    first: dict[str, tuple[int, int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called and not (conditions and node.id in _LITERAL_NAMES):
            name, position = aliases.get(node.id, node.id), (node.lineno, node.col_offset)
            first[name] = min(first.get(name, position), position)
    names = tuple(sorted(first, key=first.__getitem__))
    return Expression(text, frozenset(names), names, conditions, tree, aliases)
