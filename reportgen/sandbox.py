"""The Jinja sandbox for text from users (template folders, rule actions), with budgets it cannot talk its way past.

Jinja's :class:`~jinja2.sandbox.SandboxedEnvironment` stops attribute tricks; this one also bounds the work: big
integers (``9**(9**10)``), repetitions (``'x' * 10**9``), format widths (``'%999999999d'``, ``'{:999999999}'``),
padding (``center``, ``indent``), ``lipsum``, the number of loop iterations, every intermediate text or list, the
output size and the time taken. Loops and size checks are added to the compiled template by rewriting its syntax
tree (public :mod:`jinja2.nodes`), so nested ``range`` loops and doubling a string in a loop stop early too. A
budget exceeded raises :class:`BudgetError` naming the limit.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import re
import string
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes, pass_environment, pass_eval_context
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

MAX_INT_BITS = 4096  # about 1,200 digits: far beyond any amount, and printable
MAX_WIDTH = 1000  # the widest field a format or a padding filter may ask for


class BudgetError(SecurityError):
    """A template or rule went past its time, size or iteration budget."""


@dataclass(frozen=True)
class Limits:
    """The budget of one render: seconds, characters written, items iterated, size of any one value."""

    seconds: float
    output: int
    iterations: int
    value: int


@dataclass
class _Spent:
    limits: Limits
    deadline: float
    iterations: int = 0
    output: int = 0
    checks: int = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetError(f"took longer than the time budget of {self.limits.seconds:g} s")


TEMPLATE_LIMITS = Limits(seconds=60.0, output=64_000_000, iterations=5_000_000, value=32_000_000)
RULE_LIMITS = Limits(seconds=2.0, output=20_000, iterations=100_000, value=100_000)
_current: contextvars.ContextVar[_Spent | None] = contextvars.ContextVar("reportgen_budget", default=None)


@contextlib.contextmanager
def budget(limits: Limits) -> Iterator[None]:
    """Count the work of the sandboxed renders inside the block against ``limits`` (the caller names the culprit)."""
    token = _current.set(_Spent(limits, time.monotonic() + limits.seconds))
    try:
        yield
    finally:
        _current.reset(token)


def _spent() -> _Spent:
    spent = _current.get()
    if spent is None:  # outside a budget block: each loop and value is bounded on its own
        spent = _Spent(TEMPLATE_LIMITS, time.monotonic() + TEMPLATE_LIMITS.seconds)
    return spent


def render(template: Any, context: dict[str, Any]) -> str:
    """Render ``template`` chunk by chunk, stopping at the output budget."""
    spent, parts = _spent(), []
    for chunk in template.generate(context):
        spent.output += len(chunk)
        if spent.output > spent.limits.output:
            raise BudgetError(f"wrote more than the output budget of {spent.limits.output:,} characters")
        spent.tick()
        parts.append(chunk)
    return "".join(parts)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple, dict, set)) else 0


def check_value(value: Any) -> Any:
    """``value`` itself, when no larger than the budget allows (texts, lists and integers)."""
    spent = _spent()
    if _size(value) > spent.limits.value:
        raise BudgetError(f"built a value of {_size(value):,} items, more than the "
                          f"{spent.limits.value:,} allowed")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise BudgetError(f"computed an integer of more than {MAX_INT_BITS} bits")
    spent.checks += 1
    if spent.checks % 64 == 0:
        spent.tick()
    return value


def _iterate(iterable: Iterable[Any]) -> Iterator[Any]:
    spent = _spent()
    for item in iterable:
        spent.iterations += 1
        if spent.iterations > spent.limits.iterations:
            raise BudgetError(f"ran more than {spent.limits.iterations:,} loop iterations")
        if spent.iterations % 256 == 0:
            spent.tick()
        yield item


def _bits(value: Any) -> int:
    return abs(value).bit_length() if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: Any) -> float:
    try:
        return abs(float(value))
    except (TypeError, ValueError, OverflowError):
        return math.inf


_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")


def check_format(text: Any) -> None:
    """Refuse a format string (``%`` or ``{}``) whose widths or precisions would build a huge text."""
    if not isinstance(text, str):
        return
    widths = [w for match in _PERCENT_FIELD.finditer(text) for w in match.groups() if w]
    with contextlib.suppress(ValueError):
        for _, _, spec, _ in string.Formatter().parse(text):
            if spec and "{" in spec:
                raise SecurityError("a format field whose width is itself a field is not allowed")
            widths += _DIGITS.findall(spec or "")
    if "*" in widths or any(int(w) > MAX_WIDTH for w in widths if w != "*" and len(w) < 12) or \
            any(len(w) >= 12 for w in widths):
        raise SecurityError(f"format widths and precisions above {MAX_WIDTH} (or given as '*') are not allowed")


def _check_width(width: Any, what: str) -> None:
    if _number(width) > MAX_WIDTH:
        raise SecurityError(f"{what} wider than {MAX_WIDTH} is not allowed")


class _Budgeted(NodeTransformer):
    """Rewrites a template's syntax tree so loops count their iterations and built values are size-checked."""

    def _wrap(self, node: nodes.Expr, name: str) -> nodes.Expr:
        return nodes.Call(nodes.EnvironmentAttribute(name), [node], [], None, None, lineno=node.lineno)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = self._wrap(node.iter, "budget_iterate")
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return self._wrap(node, "budget_value")

    def visit_Filter(self, node: nodes.Filter) -> nodes.Node:
        self.generic_visit(node)
        return self._wrap(node, "budget_value") if node.node is not None else node


class BudgetedSandbox(SandboxedEnvironment):
    """The sandbox with bounded arithmetic, formatting, loops, values and output (see the module docstring)."""

    intercepted_binops = frozenset({"**", "*", "%", "+", "//", "<<"})
    intercepted_unops = frozenset()
    budget_iterate = staticmethod(_iterate)
    budget_value = staticmethod(check_value)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters.update({"format": _format, "center": _center, "indent": _indent, "replace": _replace,
                             "wordwrap": _wordwrap})
        self.globals["lipsum"] = _lipsum

    def compile(self, source: Any, name: str | None = None, filename: str | None = None, raw: bool = False,
                defer_init: bool = False) -> Any:
        if isinstance(source, str):
            source = self.parse(source, name, filename)
        if isinstance(source, nodes.Template):
            source = _Budgeted().visit(source)
        return super().compile(source, name, filename, raw, defer_init)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _bits(left) > 1 and isinstance(right, int) and right * _bits(left) > MAX_INT_BITS:
            raise BudgetError(f"'{left} ** {right}' would be an integer of more than {MAX_INT_BITS} bits")
        if operator == "<<" and isinstance(right, int) and right + _bits(left) > MAX_INT_BITS:
            raise BudgetError(f"'<<' would build an integer of more than {MAX_INT_BITS} bits")
        if operator == "*":
            if _bits(left) + _bits(right) > MAX_INT_BITS:
                raise BudgetError(f"'*' would build an integer of more than {MAX_INT_BITS} bits")
            for seq, times in ((left, right), (right, left)):
                if _size(seq) and isinstance(times, int) and _size(seq) * times > _spent().limits.value:
                    raise BudgetError(f"repeating a value {times:,} times is more than the budget allows")
        if operator == "%" and isinstance(left, str):
            check_format(left)
        return check_value(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            check_format(value.__self__)
        return wrapped

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spent().tick()
        owner, name = getattr(__obj, "__self__", None), getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            if name in ("format", "format_map"):
                check_format(owner)
            elif name in ("center", "ljust", "rjust", "zfill") and args:
                _check_width(args[0], f"str.{name}")
            elif name == "expandtabs":
                _check_width(args[0] if args else kwargs.get("tabsize", 8), "str.expandtabs")
            elif name == "replace" and len(args) >= 2:
                _check_replace(owner, args[0], args[1])
        return check_value(super().call(__context, __obj, *args, **kwargs))


def _check_replace(text: str, old: Any, new: Any) -> None:
    if isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        count = text.count(old) if old else len(text) + 1
        if len(text) + count * (len(new) - len(old)) > _spent().limits.value:
            raise BudgetError("a replace would build a text larger than the budget allows")


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    check_format(str(value))
    if args and kwargs:
        raise SecurityError("format takes positional or keyword arguments, not both")
    return check_value(str(value) % (kwargs or args))


def _center(value: Any, width: int = 80) -> str:
    _check_width(width, "center")
    return str(value).center(width)


def _indent(value: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    if isinstance(width, str):
        if len(width) > MAX_WIDTH:
            raise SecurityError(f"an indent longer than {MAX_WIDTH} characters is not allowed")
    else:
        _check_width(width, "indent")
    from jinja2.filters import do_indent

    return check_value(do_indent(value, width, first, blank))


@pass_eval_context
def _replace(eval_ctx: Any, value: Any, old: str, new: str, count: int | None = None) -> str:
    from jinja2.filters import do_replace

    _check_replace(str(value), str(old), str(new))
    return do_replace(eval_ctx, value, old, new, count)


@pass_environment
def _wordwrap(environment: Any, value: str, width: int = 79, break_long_words: bool = True,
              wrapstring: str | None = None, break_on_hyphens: bool = True) -> str:
    from jinja2.filters import do_wordwrap

    if _number(width) < 1:
        raise SecurityError("wordwrap needs a width of at least 1")
    return check_value(do_wordwrap(environment, value, width, break_long_words, wrapstring, break_on_hyphens))


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    if _number(n) * _number(max) > 10_000:
        raise SecurityError("lipsum of more than 10,000 words is not allowed")
    return Markup(generate_lorem_ipsum(n, html, min, max)) if html else generate_lorem_ipsum(n, html, min, max)

