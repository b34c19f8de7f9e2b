"""What the HTML and PDF templates receive: one context built from the result, and the page rendered from it.

Both media render the same ``report.html``; they differ by stylesheet and by the ``medium`` flag. Only chart SVGs
(drawn by :mod:`reportgen.render.charts.report`) and the rendered stylesheets are marked safe; every
string from the data is
escaped by the templates.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from markupsafe import Markup

from reportgen.config import Config, effective_config
from reportgen.describe.definitions import FIGURES
from reportgen.formatting import toml_value
from reportgen.render import CHART_SCHEME, RenderContext
from reportgen.render.charts.describe import chart_descriptions
from reportgen.render.cover import date_span, takeaway
from reportgen.render.logo import read_logo
from reportgen.render.templating import render_template
from reportgen.result import AnalysisResult, Segment

_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
DEFAULT_ACCENT = "#1f5f8b"
FALLBACK_COLOR = "#8c96a0"
MIN_LIFT = 1.1  # below this a level is not meaningfully over-represented
STYLESHEETS = {"html": ("report.css", "screen.css"), "pdf": ("report.css", "print.css")}
INTERACTIVE_STYLESHEET = "interactive.css"  # the HTML report's controls, live charts and customer explorer


def safe_color(value: str | None, default: str = FALLBACK_COLOR) -> str:
    """A hex colour, or ``default``: colours land in CSS, where anything else could smuggle in a URL."""
    return value if value and _HEX.fullmatch(value) else default


def logo_data_uri(path: str | None) -> str | None:
    """The logo file as a ``data:`` URI so the outputs stay self-contained; None when unset.

    Raises
    ------
    ConfigError
        When the file is missing, too large or not an image (see :func:`reportgen.render.logo.read_logo`).
    """
    if not path:
        return None
    mime, data = read_logo(path)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


ConfigLine = tuple[str, str, bool]  # key, TOML value, whether the value is the default


def config_sections(config: dict[str, Any], defaults: dict[str, Any] | None = None,
                    prefix: str = "") -> list[tuple[str, list[ConfigLine], bool]]:
    """The effective config as TOML-like ``[section]`` blocks of ``key = value`` lines; non-empty tables nest.

    Each line says whether its value is the default (compared with ``defaults``, the effective config of a config
    with nothing set), and each block whether all of its lines are: the PDF lists only what was set.
    """
    defaults = defaults or {}
    # TOML has no null: a None was never written in a config file, whatever the section.
    lines = [(key, Markup.escape(toml_value(value, "(unset)")),
              value is None or (key in defaults and defaults[key] == value))
             for key, value in config.items() if not (isinstance(value, dict) and value)]
    sections = [(prefix, lines, all(default for *_, default in lines))] if lines else []
    for key, value in config.items():
        if isinstance(value, dict) and value:
            nested = defaults.get(key)
            sections += config_sections(value, nested if isinstance(nested, dict) else {},
                                        f"{prefix}.{key}" if prefix else key)
    return sections


def chart_markup(name: str, charts: Mapping[str, str], medium: str, alt: str = "") -> Markup:
    """Chart ``name`` for the page: inline SVG in HTML, an image in the PDF.

    The PDF refers to the chart as ``chart:<name>``, and :mod:`reportgen.render.pdf.images` takes it from
    ``charts`` only when the page that shows it is laid out, so the page can be parsed, styled and partly laid out
    while the charts are still being drawn; the PDF then shows the chart's PDF drawing, the same vector graphic.
    ``alt`` (the chart's one-sentence description) becomes the PDF figure's alternative text.
    """
    if medium == "pdf":
        return Markup('<img class="chart-svg" alt="{}" src="{}">').format(alt, f"{CHART_SCHEME}:{name}")
    return Markup(charts[name])


def w3c_date(value: str) -> str | None:
    """``generated_at`` as a W3C date for ``dcterms.created`` (date only when no time zone is known)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.isoformat(timespec="seconds") if moment.tzinfo else moment.date().isoformat()


def _segment_view(segment: Segment) -> dict[str, Any]:
    recommendations = list(segment.recommendations)  # ranked by value at stake, then priority
    return {
        "s": segment,
        "anchor": f"segment-{segment.id}",
        "color": safe_color(segment.color),
        "stats": sorted(segment.stats, key=lambda st: -abs(st.z)),
        "top_traits": segment.traits[:2],
        "top_recommendation": recommendations[0] if recommendations else None,
        "recommendations": recommendations,
        "lifts": sorted((c for c in segment.categories if c.lift >= MIN_LIFT), key=lambda c: -c.lift)[:5],
    }


def _compare_view(result: AnalysisResult) -> dict[str, Any] | None:
    """Lookups for the comparison section: baseline segments by id, counts by segment, the drift share threshold."""
    comparison = result.comparison
    if comparison is None:
        return None
    mig = comparison.migration
    return {
        "baseline": {b.id: b for b in comparison.baseline_segments},
        "baseline_colors": {b.id: safe_color(b.color) for b in comparison.baseline_segments},
        "identity": {i.segment_id: i for i in comparison.identities},
        "added": {n: count for n, count, _ in mig.added_by_segment},
        "lost": dict(mig.lost_by_segment),
        "dataset_share": result.run.config["comparison"]["dataset_share"],  # the effective setting
    }


def build_context(result: AnalysisResult, ctx: RenderContext, medium: str) -> dict[str, Any]:
    """The template context for one medium (``"html"`` or ``"pdf"``)."""
    segments = [_segment_view(s) for s in result.segments]
    alts = chart_descriptions(result)
    return {
        "result": result, "report": result.report, "run": result.run, "data": result.data, "k": result.k_selection,
        "medium": medium,
        "generated_at": ctx.generated_at,
        "created": w3c_date(ctx.generated_at),
        "currency": result.report.currency,
        "accent": safe_color(result.report.accent_color, DEFAULT_ACCENT),
        "page_size": "Letter" if result.report.page_size.lower() == "letter" else "A4",
        "logo": logo_data_uri(result.report.logo),
        "charts": {name: chart_markup(name, ctx.charts, medium, alts.get(name, "")) for name in ctx.charts},
        "alts": alts,
        "cover": {"takeaway": takeaway(result), "dates": date_span(result)},
        "notes": dict(ctx.chart_notes),
        "segments": segments,
        "labels": result.label_map,
        "units": dict(result.units),
        "value_label": result.label_map.get(result.value_column or "", result.value_column or ""),
        "colors": {s.id: safe_color(s.color) for s in result.segments},
        "config": config_sections(result.run.config, effective_config(Config())),
        "toc": _toc(segments, result, explorer=medium == "html"),
        "compare": _compare_view(result),
        "rfm_cells": {(seg, group): count for seg, group, count in result.rfm.crosstab} if result.rfm else {},
        "interactive": None,  # the HTML renderer's scripts, report data and explorer; None in the PDF
        "definitions": FIGURES,
    }


def _toc(segments: list[dict[str, Any]], result: AnalysisResult, explorer: bool = False) -> list[tuple[str, str, int]]:
    entries = [("summary", "Executive summary", 1)]
    entries += [("customer-base", "Customer base", 1)] if result.transactions else []
    entries += [("overview", "Segment overview", 1)]
    entries += [("rfm", "RFM groups", 1)] if result.rfm else []
    entries += [("compare", "What changed", 1)] if result.comparison else []
    entries += [("explorer", "Customer explorer", 1)] if explorer else []
    entries += [("segments", "Segment profiles", 1)]
    entries += [(view["anchor"], view["s"].name, 2) for view in segments]
    entries += [("recommendations", "All recommendations", 1), ("appendix", "Appendix: method and data quality", 1)]
    return entries


def render_page(result: AnalysisResult, ctx: RenderContext, medium: str,
                interactive: dict[str, Any] | None = None) -> str:
    """The complete report page for a medium, with its stylesheets rendered and inlined.

    ``interactive`` (HTML only) carries the inline scripts, the report data and the customer explorer; with it
    the page also gets the interactive stylesheet.
    """
    context = build_context(result, ctx, medium) | {"interactive": interactive}
    sheets = STYLESHEETS[medium] + ((INTERACTIVE_STYLESHEET,) if interactive else ())
    css = "\n".join(render_template(name, context, ctx.template_dir) for name in sheets)
    # A stylesheet must not be able to close the <style> element it is inlined into.
    context["css"] = Markup(css.replace("</", "<\\/"))
    return render_template("report.html", context, ctx.template_dir)
