"""Charts: every chart is a small offline SVG, and a segment keeps one colour across all of them; the specs they
were drawn from (with tooltips) feed the live charts of the HTML report."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import altair as alt
import numpy as np
import pytest
import vl_convert

from reportgen.config import load_config
from reportgen.errors import RenderError
from reportgen.pipeline import analyse
from reportgen.render.charts.report import MAX_POINTS, build_charts, chart_objects, chart_specs, to_svg
from reportgen.render.charts.svg import LABEL_CHARS
from reportgen.result import AnalysisResult
from tests.factories import make_comparison, make_result

FIXED = ("sizes", "heatmap", "map", "elbow", "silhouette_k", "silhouette_segments")


@pytest.fixture(scope="module")
def result() -> AnalysisResult:
    return make_result(4)


@pytest.fixture(scope="module")
def charts(result: AnalysisResult) -> tuple[dict[str, str], dict[str, str]]:
    return build_charts(result)


def test_every_chart_is_an_svg(result: AnalysisResult, charts: tuple[dict[str, str], dict[str, str]]) -> None:
    svgs, notes = charts
    expected = set(FIXED) | {f"{kind}_{s.id}" for s in result.segments for kind in ("traits", "categories")}
    assert set(svgs) == expected
    assert set(notes) == expected
    for name, svg in svgs.items():
        assert svg.startswith("<svg"), name
        assert svg.rstrip().endswith("</svg>"), name
        assert len(svg) < 80_000, f"{name} is {len(svg)} characters"
        width = float(re.search(r'width="([0-9.]+)"', svg).group(1))
        assert 250 <= width <= 720, f"{name} is {width}px wide"


def test_charts_are_offline_and_use_the_installed_font(charts: tuple[dict[str, str], dict[str, str]]) -> None:
    for name, svg in charts[0].items():
        assert not re.search(r"(?:href|src)=\"(?:https?:)?//", svg), name
        assert "url(http" not in svg and "@import" not in svg, name
        families = set(re.findall(r'font-family="([^"]*)"', svg))
        assert families == {"DejaVu Sans, sans-serif"}, (name, families)


def test_one_colour_per_segment_across_charts(result: AnalysisResult,
                                              charts: tuple[dict[str, str], dict[str, str]]) -> None:
    svgs = charts[0]
    for segment in result.segments:
        for name in ("sizes", "map", "silhouette_segments", f"categories_{segment.id}"):
            assert f'fill="{segment.color}"' in svgs[name], (segment.name, name)
    other = result.segments[1].color
    assert f'fill="{other}"' not in svgs[f"categories_{result.segments[0].id}"]


def test_element_ids_are_unique_across_charts(charts: tuple[dict[str, str], dict[str, str]]) -> None:
    ids = [i for svg in charts[0].values() for i in re.findall(r'\bid="([^"]+)"', svg)]
    assert len(ids) == len(set(ids))


def test_notes_explain_sampling_and_k(result: AnalysisResult, charts: tuple[dict[str, str], dict[str, str]]) -> None:
    svgs, notes = charts
    assert notes["map"].startswith("400 of 2,232 customers shown (random sample)")
    assert f"K={result.k_selection.chosen_k}" in notes["elbow"]
    assert f"knee K={result.k_selection.knee_k}" in svgs["elbow"]
    assert f"chosen K={result.k_selection.chosen_k}" in svgs["silhouette_k"]
    assert "σ" in notes["heatmap"]


def test_heatmap_shows_z_scores_in_cells(result: AnalysisResult, charts: tuple[dict[str, str], dict[str, str]]) -> None:
    texts = re.findall(r">([^<]*)</text>", charts[0]["heatmap"])
    z = result.segments[0].stats[0].z
    assert f"{z:+.1f}" in texts or (round(z, 1) == 0 and "0.0" in texts)
    assert all(s.name in texts for s in result.segments)


def test_without_value_or_categories() -> None:
    base = make_result(3, with_value=False)
    plain = dataclasses.replace(base, segments=tuple(dataclasses.replace(s, categories=()) for s in base.segments))
    svgs, notes = build_charts(plain)
    assert not any(name.startswith("categories_") for name in svgs)
    assert "Share of value" not in svgs["sizes"]
    assert "value" not in notes["sizes"]


def test_unsampled_map_is_thinned() -> None:
    big = make_result(3, n_points=MAX_POINTS + 2_000, total=20_000)
    _svgs, notes = build_charts(big)
    shown = int(notes["map"].split(" of ")[0].replace(",", ""))
    assert shown <= MAX_POINTS
    assert notes["map"].startswith(f"{shown:,} of 20,000 customers shown")


def test_remote_data_is_refused() -> None:
    chart = alt.Chart(alt.Data(url="https://example.com/data.csv")).mark_point().encode(x="a:Q")
    with pytest.raises(RenderError, match=r"chart 'remote' could not be drawn: .*not allowed"):
        to_svg("remote", chart)


def test_specs_carry_tooltips_the_svgs_do_not_show(result: AnalysisResult,
                                                   charts: tuple[dict[str, str], dict[str, str]]) -> None:
    specs = chart_specs(result)
    assert set(specs) == set(charts[0])
    for name, spec in specs.items():
        text = json.dumps(spec)
        assert '"tooltip"' in text, name
        assert '"url"' not in text and "allowed_base_urls" not in text, name
        assert "<title>" not in charts[0][name], name
    # The specs of the last result drawn are kept; for any other result they are built afresh, with equal content.
    assert chart_specs(dataclasses.replace(result)) == specs
    small = make_result(2)
    build_charts(small)
    assert chart_specs(small) is chart_specs(small)


def _log(tmp_path: Path) -> Path:
    """A small transaction log: 240 customers with a few invoices each over a year."""
    rng = np.random.default_rng(5)
    rows = ["InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID"]
    for customer in range(240):
        for invoice in range(1 + customer % 7):
            day = int(rng.integers(1, 360))
            rows.append(f"{customer}{invoice:02d},A{invoice},{1 + invoice % 4},"
                        f"{(np.datetime64('2025-01-01') + day)} 10:00,{rng.uniform(1, 60):.2f},{10_000 + customer}")
    path = tmp_path / "log.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_every_chart_passes_the_vega_lite_schema(result: AnalysisResult, tmp_path: Path) -> None:
    """Charts are built without Altair's per-object validation (for speed): each finished chart is checked here,
    for a plain run, a run compared with a baseline, and a transaction log (RFM charts)."""
    compared = dataclasses.replace(result, comparison=make_comparison(result))
    log_result = analyse(load_config(None, {"data.path": str(_log(tmp_path)), "segmentation.k": 3})).result
    assert log_result.rfm is not None
    checked = 0
    for each in (result, compared, log_result):
        charts, _ = chart_objects(each)
        for chart in charts.values():
            chart.to_dict(validate=True)  # raises on any schema error
            checked += 1
    assert checked >= 30


def test_long_axis_labels_end_in_an_ellipsis() -> None:
    base = make_result(3)
    long_name = "Average monthly spend on premium wine and gourmet products"
    first = base.segments[0]
    stats = (dataclasses.replace(first.stats[0], feature=long_name), *first.stats[1:])
    result = dataclasses.replace(base, segments=(dataclasses.replace(first, stats=stats), *base.segments[1:]))
    svgs, _ = build_charts(result)
    texts = re.findall(r">([^<]*)</text>", svgs[f"traits_{first.id}"])
    assert long_name not in texts
    cut = [t for t in texts if t.endswith("…")]
    assert cut and all(long_name.startswith(t[:-1]) and len(t) == LABEL_CHARS for t in cut)
    assert all(s.name in re.findall(r">([^<]*)</text>", svgs["sizes"]) for s in result.segments)


def test_map_points_are_translucent_without_a_transparency_group_each(
        charts: tuple[dict[str, str], dict[str, str]]) -> None:
    # A mark with `opacity` below 1 becomes its own transparency group in the PDF; a fill opacity does not.
    circles = re.findall(r"<circle[^>]*>", charts[0]["map"])
    points = [c for c in circles if 'r="2"' in c]
    assert len(points) > 100 and all('fill-opacity="0.7"' in c for c in points)
    assert not any(" opacity=" in c for c in circles)


def test_the_warm_up_chart_is_valid_and_draws() -> None:
    # The warm-up runs where errors are not reported; an invalid rehearsal chart would silently warm up nothing.
    from reportgen.render.charts.svg import _rehearsal, warm_up

    spec = _rehearsal()
    alt.VConcatChart.from_dict({k: v for k, v in spec.items() if k != "config"}, validate=True)
    warm_up()
    svg = vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])
    assert svg.count("<text") > 40 and svg.count("<path") > 24  # labels, bars, cells and points were drawn
