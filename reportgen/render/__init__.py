"""Renderers: each output format is a function of the one :class:`~reportgen.result.AnalysisResult`.

Formats are registered in :data:`RENDERERS`; the orchestrator looks them up by name, never by if/else.
A renderer writes its files into the (temporary) output folder it is given and returns their paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the result model loads numpy: the render process is started before anything that heavy
    from reportgen.render.pdf.chartforms import ChartDrawing
    from reportgen.result import AnalysisResult, CustomerTable


@dataclass(frozen=True)
class RenderContext:
    """What presentation needs beyond the result: display-only facts and the rendered charts."""

    generated_at: str  # shown on the cover; never written to JSON/CSV
    template_dir: Path | None = None  # user templates that override the built-in ones
    # chart name -> static SVG markup; a mapping that may draw or receive a chart only when it is looked up
    charts: Mapping[str, str] = field(default_factory=dict)
    chart_notes: dict[str, str] = field(default_factory=dict)  # chart name -> note shown under it
    # chart name -> the chart as a PDF drawing, made beside the layout; None: the PDF converts the SVGs itself
    chart_drawings: Mapping[str, ChartDrawing] | None = None


CHART_SCHEME = "chart"  # the PDF refers to its charts as chart:<name> (see reportgen.render.context.chart_markup)

Renderer = Callable[["AnalysisResult", "CustomerTable", RenderContext, Path], list[Path]]

RENDERERS: dict[str, Renderer] = {}


def register(name: str) -> Callable[[Renderer], Renderer]:
    """Register a renderer under a format name (``@register("html")``)."""

    def decorator(func: Renderer) -> Renderer:
        RENDERERS[name] = func
        return func

    return decorator


# format -> module that registers it
MODULES = {"csv": "csvout", "html": "html.document", "json": "jsonout", "pdf": "pdf.document"}


def renderer(name: str) -> Renderer:
    """The renderer for a format; importing its module registers it (only that one: the PDF engine is heavy)."""
    import importlib

    if name not in RENDERERS:
        importlib.import_module(f"reportgen.render.{MODULES[name]}")
    return RENDERERS[name]
