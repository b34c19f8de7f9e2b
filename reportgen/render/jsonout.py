"""``summary.json``: the analysis result serialised (not the HTML), deterministic byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from reportgen.render import RenderContext, register
from reportgen.result import AnalysisResult, CustomerTable, to_dict


def dumps(data: object) -> str:
    """Stable JSON text: fixed key order as built, two-space indent, no NaN, trailing newline."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@register("json")
def render_json(result: AnalysisResult, customers: CustomerTable, ctx: RenderContext, out_dir: Path) -> list[Path]:
    """Write ``summary.json``."""
    path = out_dir / "summary.json"
    data = to_dict(result)
    if data["report"].get("logo"):  # the reports embed the logo; the summary names it without this machine's folders
        data["report"]["logo"] = Path(data["report"]["logo"]).name
    path.write_text(dumps(data), encoding="utf-8")
    return [path]
