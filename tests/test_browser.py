"""The HTML report in a real browser: Debian's Chromium, driven by Playwright, opening report.html from a file.

Covers what a parser cannot: the page fetches nothing and logs no error, every chart becomes a live chart, the
segment focus filters the customer explorer to the segment's size, search, sort and the CSV export work (formula
injection neutralised), the migration chart has tooltips, and without JavaScript the static charts stay visible.

Chromium is found at ``/usr/bin/chromium`` (``REPORTGEN_CHROMIUM`` overrides); no browser is ever downloaded.
Without it these tests skip, except under ``CI=true`` where they fail. Screenshots go to ``REPORTGEN_ARTIFACTS``
(a folder) or the test's temporary folder.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reportgen.config import load_config
from reportgen.pipeline import Outcome, build_report
from reportgen.render import RenderContext
from reportgen.render.charts.report import build_charts
from reportgen.render.html.document import render_html
from reportgen.resources import sample_data_dir
from tests.factories import make_customers, make_result

CHROMIUM = Path(os.environ.get("REPORTGEN_CHROMIUM", "/usr/bin/chromium"))
READY = "html[data-ready='true']"
TIME_TO_INTERACTIVE_MS = 5_000  # generous for a loaded CI machine; benchmarks/bench_html.py measures it properly


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason, allow_module_level=True)


if not CHROMIUM.is_file():
    _unavailable(f"Chromium not found at {CHROMIUM}")
try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    _unavailable("playwright is not installed")


@dataclasses.dataclass
class Opened:
    """A report open in a browser tab, with everything it tried to fetch and every error it logged."""

    page: Page
    url: str
    requests: list[str]
    errors: list[str]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _run(out: Path, **overrides: Any) -> Outcome:
    settings = {"output.dir": str(out), "segmentation.k": 5, "output.formats": ["html", "json", "csv"]}
    return build_report(load_config(sample_data_dir() / "reportgen.toml", settings | overrides))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """The bundled sample data's report (K fixed at its five known groups to skip the K search)."""
    return _run(tmp_path_factory.mktemp("browser") / "2026-09", **{"report.period": "2026-09"})


@pytest.fixture(scope="module")
def compared(sample: Outcome) -> Outcome:
    """The same data again, compared with the sample run: the report gets its "what changed" section."""
    return _run(sample.out_dir.parent / "2026-10", **{"report.period": "2026-10",
                                                      "comparison.baseline": str(sample.out_dir)})


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("REPORTGEN_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_report(browser: Browser, path: Path, javascript: bool = True) -> Opened:
    """Open ``path`` from its file URL; every other request is aborted and recorded, errors are collected."""
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    url = path.resolve().as_uri()
    opened = Opened(page, url, [], [])

    def route(request_route: Any) -> None:
        if request_route.request.url == url:
            request_route.continue_()
        else:
            opened.requests.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.on("request", lambda request: opened.requests.append(request.url) if request.url != url else None)
    page.on("console", lambda message: opened.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.goto(url)
    if javascript:
        page.wait_for_selector(READY, state="attached", timeout=20_000)
    return opened


@pytest.fixture(scope="module")
def sample_page(browser: Browser, sample: Outcome) -> Iterator[Opened]:
    opened = open_report(browser, sample.out_dir / "report.html")
    yield opened
    opened.page.context.close()


def _count(page: Page) -> int:
    return int(page.get_attribute("#explorer-status", "data-count"))


def _column(page: Page, index: int) -> list[str]:
    return page.eval_on_selector_all(f"#explorer-table tbody tr td:nth-child({index + 1})",
                                     "cells => cells.map(c => c.textContent)")


def _reset(page: Page) -> None:
    page.fill("#explorer-search", "")
    page.select_option("#focus-segment", "")


def test_opens_offline_without_errors(browser: Browser, sample: Outcome, compared: Outcome) -> None:
    for outcome in (sample, compared):
        opened = open_report(browser, outcome.out_dir / "report.html")
        ready_ms = int(opened.page.get_attribute("html", "data-ready-ms"))
        print(f"{outcome.out_dir.name}: interactive {ready_ms} ms after navigation")
        assert opened.requests == [], opened.requests
        assert opened.errors == [], opened.errors
        assert ready_ms < TIME_TO_INTERACTIVE_MS
        opened.page.context.close()


def test_every_chart_is_live(sample_page: Opened, sample: Outcome) -> None:
    page = sample_page.page
    figures = page.locator("figure.chart")
    assert figures.count() >= 6 + len(sample.analysis.result.segments)
    for i in range(figures.count()):
        figure = figures.nth(i)
        name = figure.get_attribute("data-chart")
        assert "is-live" in figure.get_attribute("class"), name
        drawing = figure.locator(".chart-live svg, .chart-live canvas")
        assert drawing.count() == 1, name
        box = drawing.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50, (name, box)
        assert figure.locator(".chart-body > svg").count() == 0, name  # the static chart was swapped out


def test_segment_focus_filters_explorer_and_dims_charts(sample_page: Opened, sample: Outcome) -> None:
    page = sample_page.page
    summary = json.loads((sample.out_dir / "summary.json").read_text())
    dimmed = "document.querySelectorAll('figure[data-chart=\"map\"] .chart-live path[opacity]').length"
    _reset(page)
    assert _count(page) == summary["data"]["rows_segmented"] == 3_000
    for segment in summary["segments"]:
        page.select_option("#focus-segment", str(segment["id"]))
        assert _count(page) == segment["size"], segment["name"]
        assert page.input_value("#explorer-segment") == str(segment["id"])
        assert set(_column(page, 2)) == {segment["name"]}
    page.wait_for_function(f"{dimmed} > 0")
    page.select_option("#explorer-segment", "")
    assert _count(page) == 3_000 and page.input_value("#focus-segment") == ""


def test_clicking_a_mark_or_legend_entry_focuses_its_segment(sample_page: Opened, sample: Outcome) -> None:
    page = sample_page.page
    _reset(page)
    bar = page.locator('figure[data-chart="silhouette_segments"] .chart-live .mark-rect path').first
    bar.scroll_into_view_if_needed()
    bar.click()
    first = sample.analysis.result.segments[0]
    assert page.input_value("#focus-segment") == str(first.id)
    assert _count(page) == first.size
    bar.click()  # a second click clears the focus
    assert page.input_value("#focus-segment") == ""
    third = sample.analysis.result.segments[2]
    label = page.locator('figure[data-chart="map"] .chart-live .role-legend-label text', has_text=third.name)
    label.scroll_into_view_if_needed()
    label.click(force=True)  # legend entries are clickable too
    assert page.input_value("#focus-segment") == str(third.id) and _count(page) == third.size
    _reset(page)


def test_search_and_sort(sample_page: Opened) -> None:
    page = sample_page.page
    _reset(page)
    page.fill("#explorer-search", "C00042")
    assert _count(page) == 1 and _column(page, 0) == ["C00042"]
    page.fill("#explorer-search", "affluent")
    assert 0 < _count(page) < 3_000 and set(_column(page, 2)) == {"Affluent big spenders"}
    page.fill("#explorer-search", "")
    header = page.locator("#explorer-table thead th").nth(3)  # the first key feature
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    values = [float(v.replace(",", "")) for v in _column(page, 3)]
    data = json.loads(page.text_content("#report-data"))["explorer"]
    assert values == sorted(values) and values[0] == min(v for v in data["values"][0] if v is not None)
    header.locator("button").click()
    values = [float(v.replace(",", "")) for v in _column(page, 3)]
    assert header.get_attribute("aria-sort") == "descending" and values == sorted(values, reverse=True)
    assert values[0] == max(v for v in data["values"][0] if v is not None)
    page.locator("#explorer-table thead th").nth(0).locator("button").click()
    assert _column(page, 0)[:3] == ["C00001", "C00002", "C00003"]


def test_csv_export_holds_the_filtered_rows(sample_page: Opened, sample: Outcome) -> None:
    page = sample_page.page
    _reset(page)
    segment = sample.analysis.result.segments[1]
    page.select_option("#explorer-segment", str(segment.id))
    with page.expect_download() as download:
        page.click("#explorer-export")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == _count(page) == segment.size
    with (sample.out_dir / "segments.csv").open(encoding="utf-8") as handle:
        expected = {r["customer_id"] for r in csv.DictReader(handle) if r["segment_id"] == str(segment.id)}
    assert {r["customer_id"] for r in rows} == expected
    assert {r["segment_name"] for r in rows} == {segment.name}
    assert list(rows[0])[-1] == "distance_to_centroid" and "total_spend" in rows[0]
    page.fill("#explorer-search", "C0000")
    with page.expect_download() as download:
        page.click("#explorer-export")
    searched = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert len(searched) - 1 == _count(page) and all(line.startswith("C0000") for line in searched[1:])


def test_csv_export_neutralises_formulas(browser: Browser, tmp_path: Path) -> None:
    result = make_result(2)
    svgs, notes = build_charts(result)
    customers = make_customers(result)
    ids = np.array([str(i) for i in customers.ids], dtype=object)
    ids[:4] = ["=HYPERLINK(\"http://x\")", "+1+1", "-42", "@SUM(A1)"]
    customers = dataclasses.replace(customers, ids=ids, features={"Income": np.full(len(ids), -1250.5)})
    (path,) = render_html(result, customers, RenderContext("2026-11-22", charts=svgs, chart_notes=notes), tmp_path)
    opened = open_report(browser, path)
    with opened.page.expect_download() as download:
        opened.page.click("#explorer-export")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [r[0] for r in rows[1:5]] == ["'=HYPERLINK(\"http://x\")", "'+1+1", "-42", "'@SUM(A1)"]
    assert rows[1][3] == "-1250.5"  # negative numbers stay numbers
    assert opened.errors == [] and opened.requests == []
    opened.page.context.close()


def test_migration_chart_has_tooltips(browser: Browser, compared: Outcome) -> None:
    opened = open_report(browser, compared.out_dir / "report.html")
    page = opened.page
    assert page.locator("#compare").count() == 1
    cell = page.locator('figure[data-chart="migration"] .chart-live .mark-rect path').first
    cell.scroll_into_view_if_needed()
    cell.hover(force=True)  # the count drawn over the cell takes the pointer; it shows the same tooltip
    tooltip = page.locator("#vg-tooltip-element.visible")
    tooltip.wait_for(timeout=5_000)
    text = tooltip.inner_text()
    assert "segment now" in text and "customers" in text and "segment in 2026-09" in text
    opened.page.context.close()


def test_screenshot_artifact(sample_page: Opened, artifacts: Path) -> None:
    page = sample_page.page
    _reset(page)
    page.select_option("#focus-segment", "2")
    page.locator("#overview").scroll_into_view_if_needed()
    shot = artifacts / "html-report.png"
    page.screenshot(path=str(shot))
    page.locator("#explorer").screenshot(path=str(artifacts / "html-explorer.png"))
    print(f"screenshots saved in {artifacts}")
    assert shot.stat().st_size > 20_000
    _reset(page)


def test_print_hides_the_controls(sample_page: Opened) -> None:
    page = sample_page.page
    page.emulate_media(media="print")
    try:
        assert not page.locator(".focus-control").is_visible()
        assert not page.locator("#explorer").is_visible()
        assert page.locator('figure[data-chart="sizes"] .chart-live svg').is_visible()
    finally:
        page.emulate_media(media="screen")


def test_static_charts_without_javascript(browser: Browser, sample: Outcome) -> None:
    opened = open_report(browser, sample.out_dir / "report.html", javascript=False)
    page = opened.page
    figures = page.locator("figure.chart")
    assert figures.count() >= 6
    for i in range(figures.count()):
        svg = figures.nth(i).locator(".chart-body > svg")
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50, figures.nth(i).get_attribute("data-chart")
    assert not page.locator(".focus-control").is_visible()
    assert not page.locator(".explorer-app").is_visible()
    assert "needs JavaScript" in page.inner_text("#explorer")
    assert opened.requests == []
    opened.page.context.close()


# --- accessibility: axe-core's WCAG 2.1 A and AA rules, reflow, keyboard ----------------------------------------

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
REFERENCE = ("sample", "marketing", "retail")


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's script, as vendored (pinned) by the axe-playwright-python test dependency; never fetched."""
    try:
        from importlib.resources import files

        return (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
    except (ImportError, FileNotFoundError) as exc:  # pragma: no cover - depends on the environment
        if os.environ.get("CI") == "true":
            pytest.fail(f"axe-core not installed ({exc}) (required when CI=true)")
        pytest.skip(f"axe-core not installed: {exc}")


def _open_at(browser: Browser, path: Path, width: int, scheme: str = "light") -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto(path.resolve().as_uri())
    page.wait_for_selector(READY, state="attached", timeout=20_000)
    return page


@pytest.mark.parametrize("width", [1400, 320])
@pytest.mark.parametrize("report", REFERENCE)
def test_axe_finds_no_wcag_violation(browser: Browser, reference_reports: dict[str, Path], axe_source: str,
                                     report: str, width: int) -> None:
    page = _open_at(browser, reference_reports[report] / "report.html", width, "dark" if width == 320 else "light")
    try:
        page.evaluate(axe_source)
        results = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
        assert results["testEngine"]["version"].startswith("4.")
        assert len(results["passes"]) > 20  # the rules ran on real content
        problems = [(v["id"], len(v["nodes"]), [n["target"] for n in v["nodes"][:3]]) for v in results["violations"]]
        assert problems == [], problems
        # Reflow (WCAG 1.4.10): nothing wider than the viewport; wide tables and charts scroll inside their card.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        page.context.close()


def test_headings_captions_and_chart_descriptions(browser: Browser, reference_reports: dict[str, Path]) -> None:
    page = _open_at(browser, reference_reports["sample"] / "report.html", 1400)
    try:
        assert page.locator("h1").count() == 1 and page.title().startswith(page.locator("h1").inner_text())
        assert page.locator("table").count() == page.locator("table > caption").count() > 10
        figures = page.locator("figure.chart")
        for i in range(figures.count()):
            name = figures.nth(i).get_attribute("data-chart")
            label = page.evaluate("f => document.getElementById(f.getAttribute('aria-labelledby')).textContent",
                                  figures.nth(i).element_handle())
            description = page.evaluate("f => document.getElementById(f.getAttribute('aria-describedby'))"
                                        ".textContent", figures.nth(i).element_handle())
            assert label.strip() and description.strip().endswith("."), name
            assert figures.nth(i).locator(".chart-body").get_attribute("aria-hidden") == "true", name
        # The customer map's ~1,000 points are out of the accessibility tree; its summary names the segments' count.
        snapshot = page.locator('figure[data-chart="map"]').aria_snapshot()
        assert "Scatter plot of" in snapshot and len(snapshot.splitlines()) < 10, snapshot[:500]
    finally:
        page.context.close()


def test_keyboard_skip_link_then_focus_and_explorer(browser: Browser, reference_reports: dict[str, Path]) -> None:
    page = _open_at(browser, reference_reports["sample"] / "report.html", 1400)
    try:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the report"
        assert page.locator(".skip-link").first.is_visible()  # shown when focused
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#explorer"
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#explorer"
        total = _count(page)
        page.focus("#focus-segment")
        page.keyboard.press("ArrowDown")  # the segment focus is a native select: arrows change it
        assert page.input_value("#focus-segment") == "0" and 0 < _count(page) < total
        page.select_option("#focus-segment", "")
        sort = page.locator("#explorer-table thead th").nth(0).locator("button")
        sort.focus()
        page.keyboard.press("Enter")
        assert page.locator("#explorer-table thead th").nth(0).get_attribute("aria-sort") in ("ascending", "descending")
        page.focus("#explorer-next")
        page.keyboard.press("Enter")
        assert "2" in page.inner_text("#explorer-page")
    finally:
        page.context.close()
