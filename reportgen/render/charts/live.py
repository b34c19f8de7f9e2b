"""Vega-Lite specs for the live charts of the HTML report, made from the specs the static SVGs were drawn from.

A live chart is the same chart as its static SVG: same data, marks, scales and tooltips. It differs in three ways:

- fonts: the static charts are measured at :data:`~reportgen.render.charts.svg.MEASURE_SCALE` in vl-convert's
  bundled font and then drawn in the report font at 100%; the browser measures the report font itself, so sizes
  are unscaled;
- a ``focus`` parameter (a segment name, or null): marks of other segments are dimmed, so the page's segment
  selector can highlight one segment across every chart by setting that one signal;
- text marks drawn over bars and cells share the tooltip of the mark beneath them.
"""

from __future__ import annotations

import copy
from typing import Any

from reportgen.render.charts.svg import FONT, MEASURE_SCALE

FOCUS = "focus"
DIMMED = 0.15  # opacity of marks of other segments while one segment is in focus
_FONT_SIZES = frozenset({"fontSize", "labelFontSize", "titleFontSize"})
_COMPOSITES = ("layer", "hconcat", "vconcat", "concat")
_DATA_KEYS = frozenset({"data", "datasets"})


def _unscale_fonts(node: Any) -> None:
    """Divide every font size in the spec (config and mark properties, never data) by the measuring scale."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _FONT_SIZES and isinstance(value, int | float) and not isinstance(value, bool):
                node[key] = round(value / MEASURE_SCALE, 2)
            elif key not in _DATA_KEYS:
                _unscale_fonts(value)
    elif isinstance(node, list):
        for item in node:
            _unscale_fonts(item)


def _fields(encoding: dict[str, Any] | None) -> set[str]:
    return {d["field"] for d in (encoding or {}).values() if isinstance(d, dict) and "field" in d}


def focus_test(fields: set[str]) -> str | None:
    """The Vega expression that keeps a datum at full opacity, for a mark encoding ``fields``; None if unrelated.

    Marks encoding ``segment`` follow the focus; the migration grid (``old`` and ``new`` segment names) keeps a
    cell whose customers came from or went to the segment in focus.
    """
    if "segment" in fields:
        return f"{FOCUS} === null || datum.segment === {FOCUS}"
    if {"old", "new"} <= fields:
        return f"{FOCUS} === null || datum.old === {FOCUS} || datum.new === {FOCUS}"
    return None


def _add_focus(node: dict[str, Any], inherited: set[str]) -> bool:
    """Dim the marks of other segments while one is in focus; True when some mark of ``node`` follows the focus."""
    fields = inherited | _fields(node.get("encoding"))
    if "mark" in node:
        test = focus_test(fields)
        if test is None:
            return False
        mark = node["mark"] if isinstance(node["mark"], dict) else {"type": node["mark"]}
        node["mark"] = {**mark, "cursor": "pointer"}
        opacity = mark.get("opacity", 1)
        node.setdefault("encoding", {})["opacity"] = {"condition": {"test": test, "value": opacity},
                                                      "value": DIMMED * opacity}
        return True
    children = [child for key in _COMPOSITES for child in node.get(key, [])]
    children += [node["spec"]] if isinstance(node.get("spec"), dict) else []
    found = [_add_focus(child, fields) for child in children]
    return any(found)


def _share_tooltips(node: dict[str, Any]) -> None:
    """Give text marks of a layer the tooltip of a sibling mark drawn from the same data (labels over bars)."""
    for key in _COMPOSITES:
        for child in node.get(key, []):
            _share_tooltips(child)
    if isinstance(node.get("spec"), dict):
        _share_tooltips(node["spec"])
    layer = node.get("layer", [])
    for source in (u for u in layer if "tooltip" in u.get("encoding", {})):
        for unit in layer:
            mark = unit.get("mark")
            kind = mark.get("type") if isinstance(mark, dict) else mark
            encoding = unit.get("encoding", {})
            if kind == "text" and "tooltip" not in encoding and unit.get("data") == source.get("data"):
                encoding["tooltip"] = source["encoding"]["tooltip"]


def live_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The live version of a chart spec made by :func:`reportgen.render.charts.report.chart_spec`; ``spec`` is not
    changed.

    Returns
    -------
    dict
        A Vega-Lite spec with inline data, the report font, shared tooltips and, when some mark shows segments,
        a ``focus`` parameter (null: no segment in focus).
    """
    live = copy.deepcopy(spec)
    live.pop("$schema", None)  # vega-embed is told the mode; no schema URL travels with the page
    _unscale_fonts(live)
    live["config"] = {**live.get("config", {}), "font": FONT}
    _share_tooltips(live)
    if _add_focus(live, set()):
        live["params"] = [*live.get("params", []), {"name": FOCUS, "value": None}]
    return live
