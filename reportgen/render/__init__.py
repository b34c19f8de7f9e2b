"""Renderers: each output format is a function of the one :class:`~reportgen.result.AnalysisResult`.

Formats are registered in :data:`RENDERERS`; the orchestrator looks them up by name, never by if/else.
A renderer writes its files into the (temporary) output folder it is given and returns their paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reportgen.result import AnalysisResult, CustomerTable


@dataclass(frozen=True)
class RenderContext:
    """What presentation needs beyond the result: display-only facts and the rendered charts."""

    generated_at: str  # shown on the cover; never written to JSON/CSV
    template_dir: Path | None = None  # user templates that override the built-in ones
    charts: dict[str, str] = field(default_factory=dict)  # chart name -> static SVG markup
    chart_notes: dict[str, str] = field(default_factory=dict)  # chart name -> note shown under it


Renderer = Callable[[AnalysisResult, CustomerTable, RenderContext, Path], list[Path]]

RENDERERS: dict[str, Renderer] = {}


def register(name: str) -> Callable[[Renderer], Renderer]:
    """Register a renderer under a format name (``@register("html")``)."""

    def decorator(func: Renderer) -> Renderer:
        RENDERERS[name] = func
        return func

    return decorator


def renderer(name: str) -> Renderer:
    """The renderer for a format; importing the format modules registers them."""
    from reportgen.render import csvout, html, jsonout, pdf  # noqa: F401  (registration side effect)

    return RENDERERS[name]


def preload(formats: list[str]) -> None:
    """Import and warm up the rendering libraries in a background thread.

    WeasyPrint, Altair and vl-convert take a second or more to import and initialise; doing it while the
    analysis runs (mostly in native code that releases the GIL) takes that time off the critical path.
    The thread is not a daemon, so the interpreter never exits halfway through an import.
    """
    import threading

    def warm_up() -> None:
        try:
            if {"html", "pdf"} & set(formats):
                from reportgen import charts

                charts.warm_up()
            if "pdf" in formats:
                from reportgen.render import pdf

                pdf.warm_up()
        except Exception:  # warming up is only an optimisation; the real render reports any error
            return

    threading.Thread(target=warm_up, name="reportgen-preload").start()
