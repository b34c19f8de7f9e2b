"""The HTML report: one self-contained file for analysts, with inline CSS and inline SVG charts."""

from __future__ import annotations

import re
from pathlib import Path

from reportgen.errors import RenderError
from reportgen.render import RenderContext, register
from reportgen.render.context import render_page
from reportgen.result import AnalysisResult, CustomerTable

FILENAME = "report.html"
# Anything the browser would fetch: src/href/url() pointing off-page, protocol-relative URLs and @import.
_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|srcset|action|poster)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//"""
    r"""|url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//|@import\b)""",
    re.IGNORECASE,
)


def external_reference(html: str) -> str | None:
    """The first reference in ``html`` that would make a browser fetch something, or None."""
    match = _EXTERNAL.search(html)
    return None if match is None else html[match.start(): match.start() + 80].split(">")[0]


@register("html")
def render_html(result: AnalysisResult, customers: CustomerTable, ctx: RenderContext, out_dir: Path) -> list[Path]:
    """Write ``report.html`` into ``out_dir``.

    Parameters
    ----------
    result
        The analysis to report.
    customers
        Per-customer rows (not shown in the HTML report).
    ctx
        Presentation facts: generation time, user template folder and the rendered charts.
    out_dir
        Folder to write into.

    Returns
    -------
    list of Path
        The one file written.

    Raises
    ------
    RenderError
        When a template fails, or produces a reference to an external resource (the report must open offline).
    """
    page = render_page(result, ctx, "html")
    if (reference := external_reference(page)) is not None:
        raise RenderError(f"HTML report would load an external resource ({reference!r}); it must be self-contained")
    path = out_dir / FILENAME
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc.strerror}") from None
    return [path]
