"""The report's chart style and the offline conversion of a chart's Vega-Lite spec to SVG markup by vl-convert.

Data is always inlined and ``allowed_base_urls=[]`` forbids any fetch. The chart builders live in
:mod:`reportgen.render.charts.report` (and its companions for RFM and comparison charts).
"""

from __future__ import annotations

import re
from typing import Any

import altair as alt
import vl_convert

from reportgen.errors import RenderError

FONT = "DejaVu Sans, sans-serif"
WIDTH = 540  # points: the width of the PDF's text column, which every chart fills
NEUTRAL, FAINT, INK = "#9aa5b1", "#d5dade", "#333333"
# vl-convert measures text about ten times faster in its bundled Liberation Sans ("sans-serif") than in an
# installed font, and measuring dominates conversion time. DejaVu Sans, the font the report uses, runs up to 15%
# wider, so charts are laid out in Liberation Sans at 115% of the intended size and the SVG is then switched to
# DejaVu Sans at 100%: the same footprint at a fraction of the cost.
MEASURE_SCALE = 1.15


def scaled(px: float) -> float:
    """A font size in pixels as charts are laid out (see :data:`MEASURE_SCALE`)."""
    return round(px * MEASURE_SCALE, 2)


# Axis labels longer than this many characters end in an ellipsis. Cut by characters rather than by Vega's
# labelLimit in pixels: fitting a label to a pixel width measures it again for every character dropped, which
# made up a fifth of the conversion time.
LABEL_CHARS = 28


def label_chars(chars: int) -> dict[str, Any]:
    """Axis settings that cut labels longer than ``chars`` characters with an ellipsis (see :data:`LABEL_CHARS`)."""
    return {"labelLimit": 0,
            "labelExpr": f"length(datum.label) > {chars} ? slice(datum.label, 0, {chars - 1}) + '…' : datum.label"}


CONFIG: dict[str, Any] = {
    "font": "sans-serif",
    "view": {"stroke": None},
    "text": {"fontSize": scaled(11)},
    "axis": {"labelFontSize": scaled(10.5), "titleFontSize": scaled(10.5), "labelColor": INK, "titleColor": INK,
             "titleFontWeight": "normal", "gridColor": "#eceff1", "domainColor": "#b0b7bd", "tickColor": "#b0b7bd",
             **label_chars(LABEL_CHARS)},
    "legend": {"labelFontSize": scaled(10.5), "titleFontSize": scaled(10.5), "titleFontWeight": "normal",
               "labelLimit": 240},
    "header": {"labelFontSize": scaled(11.5), "titleFontSize": scaled(11.5), "labelFontWeight": "bold",
               "labelColor": INK},
}
_FONT_SIZE = re.compile(r'font-size="([0-9.]+)px"')
# Vega writes an empty background and a hidden foreground path per group plus ARIA attributes on every mark;
# dropping them halves the markup the HTML file carries and WeasyPrint parses.
_EMPTY_PATH = re.compile(r'<path [^>]*(?:d="M0,0h0v0h0Z"|display="none")[^>]*/>')
# Vega draws each point as a translated two-arc path; the same circle as <circle> is shorter markup for the HTML
# and draws several times faster where WeasyPrint draws the SVG itself (the map has a thousand of them).
_CIRCLE_PATH = re.compile(
    r'<path transform="translate\(([-0-9.e]+),([-0-9.e]+)\)" d="M([0-9.]+),0A\3,\3,0,1,1,-\3,0A\3,\3,0,1,1,\3,0"')
_NOISE_ATTR = re.compile(r' (?:(?:aria-[a-z]+|role|class|pointer-events)="[^"]*"|opacity="1")')


def _scope_ids(svg: str, prefix: str) -> str:
    """Prefix element ids so several inline SVGs in one page never resolve each other's gradients or clips."""
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    return re.sub(r'url\(#([^)]+)\)', rf'url(#{prefix}-\1)', re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg))


def _rehearsal() -> dict[str, Any]:
    """A small chart with what the report's charts are made of: layered bars and labels, a heatmap of cells with
    text, a scatter with a legend, axes with titles and cut labels, the report's config."""
    rows = [{"f": f"feature {i}", "s": f"segment {i % 3}", "v": (i % 5) - 2.0, "x": i * 0.7, "y": (i * 37) % 11}
            for i in range(12)]
    bars = {"mark": "bar", "encoding": {"y": {"field": "f", "type": "nominal", "title": "feature"},
                                        "x": {"field": "v", "type": "quantitative", "title": "z-score"},
                                        "color": {"field": "v", "type": "quantitative"}}}
    labels = {"mark": {"type": "text", "align": "left", "dx": 3},
              "encoding": {"y": {"field": "f", "type": "nominal"}, "x": {"field": "v", "type": "quantitative"},
                           "text": {"field": "v", "type": "quantitative", "format": "+.1f"}}}
    cells = {"layer": [{"mark": "rect", "encoding": {"color": {"field": "v", "type": "quantitative"}}},
                       {"mark": "text", "encoding": {"text": {"field": "v", "type": "quantitative"}}}],
             "encoding": {"x": {"field": "f", "type": "nominal"}, "y": {"field": "s", "type": "nominal"}}}
    points = {"mark": {"type": "circle", "fillOpacity": 0.7},
              "encoding": {"x": {"field": "x", "type": "quantitative"}, "y": {"field": "y", "type": "quantitative"},
                           "color": {"field": "s", "type": "nominal", "legend": {"orient": "bottom"}}}}
    return {"data": {"values": rows}, "config": CONFIG,
            "vconcat": [{"layer": [bars, labels]}, cells, points]}


def warm_up() -> None:
    """Start vl-convert's JavaScript engine and run a chart through it (half a second, paid once per process).

    The engine compiles the chart libraries' code as it first runs it: rehearsing on a chart like the report's
    takes the first real charts from about 620 to 480 ms on the marketing data.
    """
    vl_convert.vegalite_to_svg(_rehearsal(), allowed_base_urls=[])


def chart_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The Vega-Lite spec of one chart with the report's style; data inline, no URLs."""
    spec = chart.to_dict(validate=False)  # schema validation costs more than the conversion itself
    spec["config"] = {**spec.get("config", {}), **CONFIG}
    return spec


def spec_to_svg(name: str, spec: dict[str, Any]) -> str:
    """Convert one Vega-Lite spec (from :func:`chart_spec`) to SVG markup, offline.

    Raises
    ------
    RenderError
        Naming the chart when vl-convert cannot draw it (for instance when its data would have to be fetched).
    """
    try:
        svg = vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])
    except Exception as exc:  # vl-convert raises plain ValueError/RuntimeError with multi-line JS traces
        first = " ".join(str(exc).split("\n    at ")[0].split()) or type(exc).__name__
        raise RenderError(f"chart '{name}' could not be drawn: {first}") from None
    svg = _NOISE_ATTR.sub("", _EMPTY_PATH.sub("", svg))
    svg = _CIRCLE_PATH.sub(r'<circle cx="\1" cy="\2" r="\3"', svg)
    svg = _FONT_SIZE.sub(lambda m: f'font-size="{float(m.group(1)) / MEASURE_SCALE:.3g}px"', svg)
    svg = svg.replace('font-family="sans-serif"', f'font-family="{FONT}"')
    return _scope_ids(svg, f"chart-{name}")


def to_svg(name: str, chart: alt.TopLevelMixin) -> str:
    """Convert one Altair chart to SVG markup, offline, with the report's font and style."""
    return spec_to_svg(name, chart_spec(chart))
