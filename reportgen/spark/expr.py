"""Derived-feature expressions (:mod:`reportgen.prepare.expressions`) as Spark columns.

The text is validated by :func:`reportgen.prepare.expressions.parse` (its whitelist of nodes), then the same Python
syntax
tree is built into a Spark column. Arithmetic is on doubles; where numpy would give an infinity or NaN (a division
by zero, the log of zero) Spark gives NULL or NaN, which cleaning treats as missing either way.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from reportgen.prepare import expressions

if TYPE_CHECKING:
    from pyspark.sql import Column

_BACKTICK = re.compile(r"`([^`]*)`")


def _tree(text: str) -> tuple[ast.AST, dict[str, str]]:
    aliases: dict[str, str] = {}

    def substitute(match: re.Match[str]) -> str:
        alias = f"__col{len(aliases)}"
        aliases[alias] = match.group(1)
        return alias

    return ast.parse(_BACKTICK.sub(substitute, text.strip()), mode="eval").body, aliases


def _nulls_propagate(function: Callable[..., Column], *args: Column) -> Column:
    """Spark's ``least``/``greatest`` skip NULLs; numpy's minimum and maximum propagate NaN."""
    from pyspark.sql import functions as F

    missing = args[0].isNull()
    for arg in args[1:]:
        missing = missing | arg.isNull()
    return F.when(missing, F.lit(None).cast("double")).otherwise(function(*args))


def to_column(text: str, columns: Mapping[str, Column]) -> Column:
    """The derived feature ``text`` as a Spark column over ``columns`` (name → double column).

    Raises
    ------
    reportgen.prepare.expressions.ExpressionError
        If the text is not a valid expression (same message as the local engine).
    """
    from pyspark.sql import functions as F

    expressions.parse(text)  # validation: only the nodes the local engine accepts get this far
    body, aliases = _tree(text)

    def build(node: ast.AST) -> Column:
        if isinstance(node, ast.Constant):
            return F.lit(float(node.value))
        if isinstance(node, ast.Name):
            return columns[aliases.get(node.id, node.id)].cast("double")
        if isinstance(node, ast.UnaryOp):
            value = build(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            left, right = build(node.left), build(node.right)
            operations: dict[type, Callable[[Column, Column], Column]] = {
                ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
                ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: F.floor(a / b).cast("double"),
                ast.Mod: lambda a, b: F.pmod(a, b), ast.Pow: lambda a, b: F.pow(a, b)}
            return operations[type(node.op)](left, right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [build(arg) for arg in node.args]
            name = node.func.id
            if name == "abs":
                return F.abs(args[0])
            if name == "sqrt":
                return F.sqrt(args[0])
            if name == "log":
                return F.ln(args[0])
            return _nulls_propagate(F.least if name == "min" else F.greatest, *args)
        raise expressions.ExpressionError(f"'{text}' cannot be computed in Spark")

    return build(body)
