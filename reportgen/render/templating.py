"""The Jinja environment of the HTML and PDF reports: loaders, escaping, sandboxing and number filters.

User templates (``output.template_dir``) are looked up before the built-in ones and run in a sandbox, because a
template folder may come from someone other than the person running the tool.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from reportgen.errors import RenderError
from reportgen.resources import templates_dir

MISSING = "–"
MINUS = "\u2212"  # the one minus sign of the reports, in text as on the charts' axes
_HYPHEN_MINUS = re.compile(r"(?<![\w.\-])-(?=\.?\d)")  # a hyphen starting a number ("-0.6", "(-2"), not "2012-07"


def typographic_minus(text: str) -> str:
    """``text`` with every negative number's hyphen-minus written as the minus sign (U+2212)."""
    return _HYPHEN_MINUS.sub(MINUS, text) if "-" in text else text


def _finalize(value: Any) -> Any:
    """Every plain string a template prints gets the minus sign; markup (charts, scripts, styles) is left as is."""
    return typographic_minus(value) if type(value) is str else value


def _number(value: Any) -> float | None:
    """The value as a finite float, or None when it is not a number (missing values print as a dash)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def num(value: Any) -> str:
    """Smart number: ``1234567 → 1,234,567``, ``12.345 → 12.3``, ``0.1234 → 0.12``."""
    number = _number(value)
    if number is None:
        return MISSING if value is None or isinstance(value, float) else str(value)
    size = abs(number)
    if number.is_integer() or size >= 100:
        text = f"{number:,.0f}"
    elif size >= 10:
        text = f"{number:,.1f}"
    elif size >= 0.01 or size == 0:
        text = f"{number:.2f}"
    else:
        text = f"{number:.2g}"
    return typographic_minus(text)


def int_fmt(value: Any) -> str:
    """Whole number with thousands separators."""
    number = _number(value)
    return MISSING if number is None else typographic_minus(f"{round(number):,}")


def pct(value: Any, digits: int = 1) -> str:
    """Share as a percentage: ``0.1234 → 12.3%``."""
    number = _number(value)
    return MISSING if number is None else typographic_minus(f"{number * 100:.{digits}f}%")


@jinja2.pass_context
def money(context: jinja2.runtime.Context, value: Any) -> str:
    """Amount in the report currency (``currency`` in the template context): cents only below 100."""
    number = _number(value)
    if number is None:
        return MISSING
    symbol = context.get("currency", "$")
    body = f"{abs(number):,.0f}" if abs(number) >= 100 else f"{abs(number):,.2f}"
    return f"{MINUS if number < 0 else ''}{symbol}{body}"


def signed(value: Any) -> str:
    """A z-score with its sign and unit: ``1.2 → +1.20σ``."""
    number = _number(value)
    if number is None:
        return MISSING
    return "0.00σ" if round(number, 2) == 0 else typographic_minus(f"{number:+.2f}σ")


def times(value: Any) -> str:
    """A ratio such as a lift: ``1.43 → 1.4×``."""
    number = _number(value)
    return MISSING if number is None else typographic_minus(f"{number:.1f}×")


FILTERS = {"num": num, "int_fmt": int_fmt, "pct": pct, "money": money, "signed": signed, "times": times}


@lru_cache(maxsize=8)
def environment(template_dir: Path | None = None) -> jinja2.Environment:
    """The Jinja environment for the reports.

    Parameters
    ----------
    template_dir
        Folder of user templates that override the built-in ones file by file; when given, every template
        runs in a :class:`~jinja2.sandbox.SandboxedEnvironment`.

    Returns
    -------
    jinja2.Environment
        HTML/XML/SVG autoescaped, undefined names are errors, and the report filters registered.
    """
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(template_dir))] if template_dir else []
    loaders.append(jinja2.FileSystemLoader(str(templates_dir())))
    kind = SandboxedEnvironment if template_dir else jinja2.Environment
    env = kind(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml", "svg"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters.update(FILTERS)
    return env


def render_template(name: str, context: dict[str, Any], template_dir: Path | None = None) -> str:
    """Render one template, turning every template problem into a one-line :class:`RenderError`.

    Raises
    ------
    RenderError
        Naming the template when it is missing, malformed, uses an undefined value or breaks the sandbox.
    """
    try:
        return environment(template_dir).get_template(name).render(context)
    except jinja2.TemplateNotFound as exc:
        where = f"{template_dir} or the built-in templates" if template_dir else "the built-in templates"
        raise RenderError(f"template '{name}': '{exc.name}' not found in {where}") from None
    except SecurityError as exc:
        raise RenderError(f"template '{name}' was refused by the sandbox: {_one_line(exc)}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template '{exc.filename or name}' line {exc.lineno}: {_one_line(exc)}") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"template '{name}' could not be rendered: {_one_line(exc)}") from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
