"""HTML report: self-contained, complete, escaped, overridable by user templates, sandboxed; its interactive parts
(inline libraries, live chart specs, the customer explorer) stay out of the PDF and keep the file size flat."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from markupsafe import Markup

from reportgen.describe.keyfeatures import key_features
from reportgen.errors import RenderError
from reportgen.formatting import int_fmt, num, pct, signed, times
from reportgen.render import RenderContext
from reportgen.render.charts import vega
from reportgen.render.charts.live import focus_test, live_spec
from reportgen.render.charts.report import MEASURE_SCALE, build_charts, chart_specs
from reportgen.render.context import render_page
from reportgen.render.html.document import external_reference, render_html
from reportgen.render.html.explorer import explorer_data
from reportgen.render.templating import environment, render_template
from reportgen.result import AnalysisResult
from tests.factories import make_customers, make_result

EVIL = "<script>alert(1)</script>"
URL_ATTRS = ("src", "href", "srcset", "action", "poster", "xlink:href")


@pytest.fixture(scope="module")
def result() -> AnalysisResult:
    return make_result(4, names=["Affluent big spenders", EVIL, "Lapsed & low", "Young web browsers"])


@pytest.fixture(scope="module")
def ctx(result: AnalysisResult) -> RenderContext:
    svgs, notes = build_charts(result)
    return RenderContext(generated_at="2026-11-22T09:30:00+00:00", charts=svgs, chart_notes=notes)


def _render(result: AnalysisResult, ctx: RenderContext, out: Path) -> tuple[str, BeautifulSoup]:
    (path,) = render_html(result, make_customers(result), ctx, out)
    assert path == out / "report.html"
    text = path.read_text(encoding="utf-8")
    return text, BeautifulSoup(text, "html.parser")


@pytest.fixture(scope="module")
def page(result: AnalysisResult, ctx: RenderContext,
         tmp_path_factory: pytest.TempPathFactory) -> tuple[str, BeautifulSoup]:
    return _render(result, ctx, tmp_path_factory.mktemp("html"))


def test_every_chart_is_inline_svg(ctx: RenderContext, page: tuple[str, BeautifulSoup]) -> None:
    soup = page[1]
    for name in ctx.charts:
        figure = soup.select_one(f'figure[data-chart="{name}"]')
        assert figure is not None and figure.find("svg") is not None, name
        assert ctx.chart_notes[name][:30] in figure.figcaption.get_text(), name


def test_no_external_resources(page: tuple[str, BeautifulSoup]) -> None:
    soup = page[1]
    for tag in soup.find_all(True):
        for attr in URL_ATTRS:
            value = (tag.get(attr) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag.name, attr, value)
    assert soup.find("link") is None and all(not script.get("src") for script in soup.find_all("script"))
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert csp is not None and "default-src 'none'" in csp["content"] and "connect-src" not in csp["content"]
    css = "\n".join(style.get_text() for style in soup.find_all("style"))
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?\s*(https?:)?//", css)
    assert len(css) > 2_000


def test_sections_metadata_and_names(result: AnalysisResult, page: tuple[str, BeautifulSoup]) -> None:
    soup = page[1]
    assert soup.html["lang"] == "en"
    assert soup.title.get_text() == f"{result.report.title} — {result.report.company}, {result.report.period}"
    meta = {m.get("name"): m.get("content") for m in soup.find_all("meta") if m.get("name")}
    assert meta["author"] == (result.report.author or result.report.company)
    assert meta["generator"].startswith("reportgen ")
    assert meta["dcterms.created"] == "2026-11-22T09:30:00+00:00"
    for anchor in ("summary", "overview", "segments", "recommendations", "appendix"):
        assert soup.find(id=anchor) is not None, anchor
    text = soup.get_text(" ")
    for segment in result.segments:
        assert segment.name in text
        assert soup.find(id=f"segment-{segment.id}") is not None
    assert result.run.input_sha256 in text
    assert "Z_CostContact" in text and "constant (always 3)" in text
    toc = [a["href"] for a in soup.select("nav.toc a")]
    assert toc[0] == "#summary" and all(soup.find(id=href[1:]) for href in toc)


def test_data_strings_are_escaped(page: tuple[str, BeautifulSoup]) -> None:
    text, soup = page
    assert EVIL not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert EVIL in soup.get_text()
    assert "Lapsed &amp; low" in text


def test_user_template_overrides_cover(result: AnalysisResult, ctx: RenderContext, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "_cover.html").write_text(
        '<section class="cover" id="cover"><h1 class="custom-cover">{{ report.company }} special</h1></section>')
    custom = RenderContext(ctx.generated_at, templates, ctx.charts, ctx.chart_notes)
    _, soup = _render(result, custom, tmp_path)
    assert soup.select_one("h1.custom-cover").get_text() == f"{result.report.company} special"
    assert soup.find(id="summary") is not None  # the other partials still come from the built-in folder


@pytest.mark.parametrize(("template", "message"), [
    ("{{ ''.__class__.__mro__ }}", "refused by the sandbox"),
    ("{{ not_defined }}", "'not_defined' is undefined"),
    ("{% if %}", "line 1"),
    ('<img src="https://example.com/logo.png">', "external resource"),
])
def test_bad_user_templates_raise_render_error(result: AnalysisResult, tmp_path: Path, template: str,
                                               message: str) -> None:
    (tmp_path / "_cover.html").write_text(template)
    ctx = RenderContext("2026-11-22", tmp_path)
    with pytest.raises(RenderError, match=re.escape(message)):
        render_html(result, make_customers(result), ctx, tmp_path)


def test_missing_template_is_named(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"template 'nope\.html'"):
        render_template("nope.html", {}, tmp_path)


def test_logo_is_embedded(tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    result = make_result(2, logo=str(logo))
    _, soup = _render(result, RenderContext("2026-11-22"), tmp_path)
    assert soup.select_one("img.cover-logo")["src"].startswith("data:image/svg+xml;base64,")


def test_filters() -> None:
    assert num(1234567) == "1,234,567"
    assert num(12.345) == "12.3"
    assert num(0.1234) == "0.12"
    assert num(None) == num(float("nan")) == "–"
    assert int_fmt(2231.6) == "2,232"
    assert pct(0.1234) == "12.3%"
    assert pct(0.5, 0) == "50%"
    assert signed(1.2) == "+1.20σ" and signed(-0.004) == "0.00σ"
    assert times(1.43) == "1.4×"
    template = environment(None).from_string("{{ 1234.5|money }} {{ 12.3|money }} {{ -250|money }} {{ x|money }}")
    assert template.render(currency="€", x=None) == "€1,234 €12.30 −€250 –"
    # One minus sign (U+2212) in every figure and in the text the templates print; markup and dates are left alone.
    assert num(-0.6) == "−0.60" and signed(-1.2) == "−1.20σ" and pct(-0.05) == "−5.0%" and int_fmt(-3) == "−3"
    printed = environment(None).from_string("{{ text }} {{ markup }}").render(
        text="spend -1.3σ below (-2) since 2012-07-30, rule win-back-1", markup=Markup('<path d="M-1,-2"/>'))
    assert printed == 'spend −1.3σ below (−2) since 2012-07-30, rule win-back-1 <path d="M-1,-2"/>'


def _report_data(soup: BeautifulSoup) -> dict:
    return json.loads(soup.find("script", id="report-data").string)


def test_libraries_are_inlined_once(page: tuple[str, BeautifulSoup]) -> None:
    text, soup = page
    scripts = [script.string or "" for script in soup.find_all("script")]
    assert len(scripts) == 4  # the "js" class, the report data, the libraries, the page script
    assert text.count(vega.bundle()[:400]) == 1
    assert external_reference(text) is None
    assert "<!--" not in "".join(scripts) and not re.search(r"url\((?!['\"]?(#|data:))", text)


def test_report_data_holds_live_charts_and_explorer(result: AnalysisResult, ctx: RenderContext,
                                                    page: tuple[str, BeautifulSoup]) -> None:
    data = _report_data(page[1])
    assert set(data["charts"]) == set(ctx.charts)
    for name, spec in data["charts"].items():
        assert "$schema" not in spec and '"url"' not in json.dumps(spec), name
        assert spec["config"]["font"] == "DejaVu Sans, sans-serif"
    for name in ("sizes", "heatmap", "map", "silhouette_segments"):
        assert {"name": "focus", "value": None} in data["charts"][name]["params"], name
    assert "params" not in data["charts"]["elbow"]
    explorer = data["explorer"]
    assert explorer["total"] == explorer["shown"] == len(explorer["ids"]) == result.customers
    assert explorer["note"] == f"All {result.customers:,} customers."
    assert [s["name"] for s in explorer["segments"]] == [s.name for s in result.segments]
    assert page[1].select_one("#explorer") is not None and page[1].select_one('nav.toc a[href="#explorer"]')


def test_pdf_page_has_no_scripts_or_explorer(result: AnalysisResult, ctx: RenderContext) -> None:
    page = render_page(result, ctx, "pdf")
    assert "<script" not in page and 'id="explorer"' not in page and "Content-Security-Policy" not in page


def test_live_spec_unscales_fonts_and_follows_focus(ctx: RenderContext, result: AnalysisResult) -> None:
    specs = chart_specs(result)
    live = live_spec(specs["heatmap"])
    assert specs["heatmap"]["config"]["axis"]["labelFontSize"] == pytest.approx(10.5 * MEASURE_SCALE, abs=0.01)
    assert live["config"]["axis"]["labelFontSize"] == pytest.approx(10.5, abs=0.01)
    cells, text = live["layer"]
    assert cells["encoding"]["opacity"]["condition"]["test"] == focus_test({"segment"})
    assert text["encoding"]["tooltip"] == cells["encoding"]["tooltip"]  # labels over cells show the same tooltip
    assert "opacity" not in specs["heatmap"]["layer"][0]["encoding"]  # the static chart's spec is left alone
    assert focus_test({"old", "new", "customers"}) is not None and focus_test({"feature", "z"}) is None


def test_explorer_samples_each_segment_above_the_cap(result: AnalysisResult) -> None:
    config = {**result.run.config, "report": {**result.run.config["report"], "explorer_rows": 500}}
    capped = dataclasses.replace(result, run=dataclasses.replace(result.run, config=config))
    customers = make_customers(result)
    data = explorer_data(capped, customers)
    assert data["shown"] == len(data["ids"]) == 500 and data["sampled"]
    assert data["note"].startswith(f"A random sample of 500 of {result.customers:,} customers (seed ")
    for segment in result.segments:
        shown = data["segment"].count(segment.id)
        assert abs(shown - 500 * segment.size / result.customers) <= 1, segment.name
    assert explorer_data(capped, customers) == data  # seeded: the same sample every time
    assert set(data["ids"]) <= set(customers.ids.tolist())


def test_key_features_prefer_roles_then_traits() -> None:
    result = make_result(3)
    frame = pd.DataFrame({"MntTotal": [1.0, 2.0], "Recency": [3, 4], "Income": [5.0, 6.0], "Education": ["a", "b"],
                          "Age": [30, 40], "Tenure": [1, 2], "NumPurchases": [1, 2], "NumWebVisitsMonth": [1, 2]})
    roles = {"monetary": "MntTotal", "recency": "Recency", "income": "Income", "age": "Age"}
    features = key_features(frame, roles, result.segments)
    assert list(features)[:4] == ["MntTotal", "Recency", "Income", "Age"]
    assert len(features) <= 6 and "Education" not in features
    assert features["Recency"].dtype == float


def test_size_stays_flat_for_large_inputs(tmp_path: Path) -> None:
    big = make_result(6, total=200_000, n_points=1_000)
    svgs, notes = build_charts(big)
    customers = make_customers(big)
    rng = np.random.default_rng(1)
    customers = dataclasses.replace(customers, ids=np.array([f"CUST-{i:09d}" for i in customers.ids]),
                                    features={name: rng.gamma(2.0, 500.0, len(customers.ids)).round(2)
                                              for name in ("Income", "MntTotal", "Recency", "NumPurchases", "Age")})
    (path,) = render_html(big, customers, RenderContext("2026-11-22", charts=svgs, chart_notes=notes), tmp_path)
    assert path.stat().st_size <= 3_000_000
    data = _report_data(BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser"))["explorer"]
    assert data["shown"] == 5_000 and data["total"] == 200_000 and len(data["values"]) == 5
