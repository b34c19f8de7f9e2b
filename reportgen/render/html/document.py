"""The HTML report: one self-contained file for analysts, with inline CSS, inline SVG charts and inline scripts.

The page works without JavaScript (static SVG charts, as in the PDF). With it, ``interactive.js`` swaps each chart
for a live Vega-Lite chart drawn from the same spec (tooltips, one segment in focus across the page) and fills the
customer explorer. Vega, Vega-Lite and vega-embed come from the installed vl-convert package and are inlined once;
the page's Content-Security-Policy forbids every fetch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from reportgen.errors import RenderError
from reportgen.render import RenderContext, register
from reportgen.render.charts import vega
from reportgen.render.charts.live import live_spec
from reportgen.render.charts.report import chart_specs
from reportgen.render.context import render_page
from reportgen.render.html.explorer import explorer_data, headers
from reportgen.render.html.selfcontained import external_reference, secure_page
from reportgen.render.templating import environment
from reportgen.result import AnalysisResult, CustomerTable

FILENAME = "report.html"
SCRIPT = "interactive.js"
# The one inline script of the page template besides the libraries and the page script.
JS_FLAG = 'document.documentElement.classList.add("js");'


def _script(template_dir: Path | None) -> str:
    env = environment(template_dir)
    try:
        source, _, _ = env.loader.get_source(env, SCRIPT)
    except jinja2.TemplateNotFound:
        raise RenderError(f"template '{SCRIPT}' not found") from None
    except jinja2.TemplateError as exc:  # the page script is not a template a folder may override
        raise RenderError(str(exc)) from None
    return vega.script_safe(source)


def interactive_parts(result: AnalysisResult, customers: CustomerTable, ctx: RenderContext) -> dict[str, Any]:
    """What makes the HTML report interactive: the libraries, the page script, the report data, the explorer.

    Returns
    -------
    dict
        ``bundle`` and ``app`` (script text), ``data`` (JSON for a ``<script type="application/json">``: the live
        chart specs by chart name and the explorer's rows), ``explorer`` and its column ``headers`` (for the
        template).
    """
    specs = chart_specs(result) if ctx.charts else {}
    charts = {name: live_spec(spec) for name, spec in specs.items() if name in ctx.charts}
    explorer = explorer_data(result, customers)
    return {"bundle": Markup(vega.bundle()), "app": Markup(_script(ctx.template_dir)),
            "data": Markup(vega.json_for_script({"charts": charts, "explorer": explorer})), "explorer": explorer,
            "headers": headers(customers)}


@register("html")
def render_html(result: AnalysisResult, customers: CustomerTable, ctx: RenderContext, out_dir: Path) -> list[Path]:
    """Write ``report.html`` into ``out_dir``.

    Parameters
    ----------
    result
        The analysis to report.
    customers
        Per-customer rows, listed in the customer explorer (up to ``report.explorer_rows``).
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
    parts = interactive_parts(result, customers, ctx)
    page = render_page(result, ctx, "html", parts)
    scripts = (str(parts["bundle"]), str(parts["app"]), JS_FLAG)
    if (reference := external_reference(page, scripts)) is not None:
        raise RenderError(f"HTML report would load an external resource or run a script of its own "
                          f"({reference}); it must be self-contained")
    try:
        page = secure_page(page, scripts)
    except ValueError as exc:
        raise RenderError(f"template 'report.html': {exc}") from None
    path = out_dir / FILENAME
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc.strerror}") from None
    return [path]
