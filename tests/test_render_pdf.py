"""PDF brief: pages, outline, running header and footer, metadata, one-page summary, offline fetching."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from reportgen.config import Config, effective_config
from reportgen.errors import RenderError
from reportgen.render import RenderContext
from reportgen.render.charts.report import build_charts
from reportgen.render.html.document import render_html
from reportgen.render.pdf.document import LocalOnlyFetcher, render_pdf
from reportgen.resources import templates_dir
from reportgen.result import AnalysisResult
from tests.factories import make_customers, make_result

SECTIONS = ("Executive summary", "Contents", "Segment overview", "Segment profiles", "All recommendations",
            "Appendix: method and data quality")


def _render(result: AnalysisResult, out: Path, charts: bool = True, template_dir: Path | None = None) -> PdfReader:
    svgs, notes = build_charts(result) if charts else ({}, {})
    ctx = RenderContext("2026-11-22T09:30:00+00:00", template_dir, svgs, notes)
    (path,) = render_pdf(result, make_customers(result), ctx, out)
    assert path == out / "report.pdf"
    return PdfReader(path)


def _text(reader: PdfReader, index: int) -> str:
    return " ".join(reader.pages[index].extract_text().split())


def _outline(entries: list, depth: int = 0) -> list[tuple[int, str]]:
    titles = []
    for entry in entries:
        if isinstance(entry, list):
            titles += _outline(entry, depth + 1)
        else:
            titles.append((depth, entry.title))
    return titles


@pytest.fixture(scope="module")
def result() -> AnalysisResult:
    return make_result(5)


@pytest.fixture(scope="module")
def reader(result: AnalysisResult, tmp_path_factory: pytest.TempPathFactory) -> PdfReader:
    return _render(result, tmp_path_factory.mktemp("pdf"))


def test_pages_and_metadata(result: AnalysisResult, reader: PdfReader) -> None:
    assert len(reader.pages) > 5
    assert reader.metadata.title.startswith(result.report.title)
    assert reader.metadata.author == (result.report.author or result.report.company)
    assert reader.metadata.creation_date.year == 2026
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_outline_holds_sections_and_segments(result: AnalysisResult, reader: PdfReader) -> None:
    outline = _outline(reader.outline)
    top = [title for depth, title in outline if depth == 0]
    assert list(SECTIONS) == [t for t in top if t in SECTIONS]
    nested = [title for depth, title in outline if depth == 1]
    assert all(s.name in nested for s in result.segments)
    assert result.report.title not in top  # the cover title is not a section


def test_summary_is_page_two_and_complete(result: AnalysisResult, reader: PdfReader) -> None:
    summary = _text(reader, 1)
    assert "Executive summary" in summary
    assert all(s.name in summary for s in result.segments)
    assert "Key findings" in summary and result.highlights[-1] in summary
    assert _text(reader, 2).count("Contents") == 1  # the summary ended on its own page


def test_running_header_footer_and_toc_numbers(result: AnalysisResult, reader: PdfReader) -> None:
    pages = len(reader.pages)
    summary = _text(reader, 1)
    assert f"Page 2 of {pages}" in summary
    assert result.report.title in summary and result.report.period in summary
    assert "Page 1 of" not in _text(reader, 0)  # the cover has no furniture
    contents = _text(reader, 2)
    assert re.search(r"Executive summary ?\.{5,} ?2\b", contents)
    assert re.search(r"All recommendations ?\.{5,} ?\d+\b", contents)
    assert all(f"Page {i + 1} of {pages}" in _text(reader, i) for i in range(1, pages))


def test_six_segments_keep_a_one_page_summary(tmp_path: Path) -> None:
    result = make_result(6)
    reader = _render(result, tmp_path, charts=False)
    summary = _text(reader, 1)
    assert all(s.name in summary for s in result.segments) and result.highlights[-1] in summary
    assert "Contents" in _text(reader, 2)


def test_letter_page_size(tmp_path: Path) -> None:
    base = make_result(2)
    reader = _render(dataclasses.replace(base, report=dataclasses.replace(base.report, page_size="Letter")),
                     tmp_path, charts=False)
    assert tuple(round(float(v)) for v in reader.pages[0].mediabox[2:]) == (612, 792)


def test_user_template_is_used(tmp_path: Path) -> None:
    (tmp_path / "_cover.html").write_text('<section class="cover" id="cover"><p>Board pack {{ report.period }}</p>'
                                         "</section>")
    reader = _render(make_result(2), tmp_path, charts=False, template_dir=tmp_path)
    assert "Board pack 2026-Q3" in _text(reader, 0)


@pytest.mark.parametrize("url", ["https://example.com/logo.png", "file:///etc/hostname"])
def test_outside_resources_are_refused(tmp_path: Path, url: str) -> None:
    (tmp_path / "_cover.html").write_text(f'<section class="cover" id="cover"><img src="{url}"></section>')
    with pytest.raises(RenderError, match="refused to load"):
        _render(make_result(2), tmp_path, charts=False, template_dir=tmp_path)


def test_sandbox_refuses_attribute_escape(tmp_path: Path) -> None:
    (tmp_path / "_cover.html").write_text("{{ ''.__class__.__mro__ }}")
    with pytest.raises(RenderError, match="sandbox"):
        _render(make_result(2), tmp_path, charts=False, template_dir=tmp_path)


def test_fetcher_allows_only_data_and_template_files(tmp_path: Path) -> None:
    fetcher = LocalOnlyFetcher([templates_dir()])
    assert fetcher.fetch("data:text/plain;base64,aGk=").url.startswith("data:")
    assert fetcher.fetch((templates_dir() / "report.css").as_uri()) is not None
    for url in ("http://example.com/a.css", (tmp_path / "x.css").as_uri(), "ftp://example.com/x"):
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)


def test_charts_are_drawn_as_text_and_unknown_charts_refused(result: AnalysisResult, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="refused"):
        LocalOnlyFetcher([templates_dir()], build_charts(result)[0]).fetch("chart:no_such_chart")
    reader = _render(result, tmp_path)
    text = " ".join(_text(reader, i) for i in range(len(reader.pages)))
    assert "K (number of segments)" in text and "mean silhouette" in text  # the elbow and silhouette charts' axes


def test_config_appendix_lists_only_what_was_set(result: AnalysisResult, tmp_path: Path) -> None:
    """The PDF's effective configuration shows the keys that differ from the defaults; the HTML shows every key,
    defaults in grey."""
    config = Config.model_validate({"data": {"sep": "\t"}, "segmentation": {"k_min": 4},
                                    "cleaning": {"ranges": {"Year_Birth": {"min": 1920}}}})
    changed = dataclasses.replace(result, run=dataclasses.replace(result.run, config=effective_config(config)))
    reader = _render(changed, tmp_path, charts=False)
    page = next(i for i in range(len(reader.pages)) if "Effective configuration" in _text(reader, i)
                and "Contents" not in _text(reader, i))
    text = "".join(_text(reader, i) for i in range(page, len(reader.pages)))
    for shown in ('sep = "\\t"', "k_min = 4", "[cleaning.ranges.Year_Birth]", "min = 1920"):
        assert shown in text, shown
    for hidden in ("n_init", "k_max", "max = (unset)", "[transactions]", "encoding"):
        assert hidden not in text, hidden
    html = render_html(changed, make_customers(changed), RenderContext("2026-11-22"), tmp_path)[0].read_text()
    block = BeautifulSoup(html, "html.parser").find("pre", class_="config")
    defaults = " ".join(s.get_text() for s in block.select("span.cfg-default"))
    assert "n_init = 10" in defaults and "k_min = 4" not in defaults and "k_min = 4" in block.get_text()


def test_the_garbage_collector_is_paused_only_while_laying_out(tmp_path: Path) -> None:
    import gc

    import weasyprint

    from reportgen.render.pdf.document import write_pdf

    page = "<p>" + "text " * 20_000 + "</p>" + "<div><span>x</span></div>" * 3_000
    collections = []
    gc.callbacks.append(lambda phase, info: collections.append(phase) if phase == "start" else None)
    try:
        weasyprint.HTML(string=page).write_pdf(tmp_path / "plain.pdf")
        unpaused, collections[:] = len(collections), []
        write_pdf(page, tmp_path / "a.pdf", None, "test PDF")
        assert gc.isenabled() and unpaused > 20 and len(collections) <= 1
        gc.disable()
        write_pdf("<p>x</p>", tmp_path / "b.pdf", None, "test PDF")
        assert not gc.isenabled()  # a caller's choice is left as it was
    finally:
        gc.enable()
        gc.callbacks.pop()
    assert len(PdfReader(tmp_path / "a.pdf").pages) == len(PdfReader(tmp_path / "plain.pdf").pages) > 5


class _RecordingCharts(dict):
    """Charts that note which WeasyPrint step was under way when each was looked up (or fail on ``failing``)."""

    def __init__(self, svgs: dict[str, str], steps: list[str], failing: str | None = None) -> None:
        super().__init__(svgs)
        self.steps, self.failing, self.looked_up = steps, failing, []

    def __getitem__(self, name: str) -> str:
        if name == self.failing:
            raise RenderError(f"chart {name!r} could not be drawn")
        self.looked_up.append((name, self.steps[-1]))
        return super().__getitem__(name)


@pytest.fixture
def weasyprint_steps() -> list[str]:
    import logging

    steps: list[str] = ["start"]
    handler = logging.Handler()
    handler.emit = lambda record: steps.append(record.getMessage())  # type: ignore[method-assign]
    progress = logging.getLogger("weasyprint.progress")
    level = progress.level
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    yield steps
    progress.removeHandler(handler)
    progress.setLevel(level)


def test_hook_chart_images_each_chart_is_loaded_when_its_page_is_laid_out(
        result: AnalysisResult, tmp_path: Path, weasyprint_steps: list[str]) -> None:
    """Canary of the first hook into WeasyPrint (``weasyprint.document.original_get_image_from_uri``)."""
    from reportgen.render.context import render_page
    from reportgen.render.pdf.chartread import drawing_from_svg
    from reportgen.render.pdf.document import write_pdf

    svgs, notes = build_charts(result)
    charts = _RecordingCharts(svgs, weasyprint_steps)
    page = render_page(result, RenderContext("2026-11-22", None, charts, notes), "pdf")
    write_pdf(page, tmp_path / "report.pdf", None, "test PDF", charts,
              {name: drawing_from_svg(svg) for name, svg in svgs.items()})
    assert [name for name, _ in charts.looked_up] == list(svgs)  # once each, in the order the chart process draws
    pages = [int(step.rsplit(" ", 1)[1]) for _, step in charts.looked_up if step.startswith("Step 5")]
    assert len(pages) == len(svgs) and pages == sorted(pages) and pages[-1] > pages[0] + 2  # page by page


def test_hook_chart_forms_each_chart_is_a_form_with_its_own_fonts(result: AnalysisResult, tmp_path: Path,
                                                                 weasyprint_steps: list[str]) -> None:
    """Canary of the second hook into WeasyPrint (``weasyprint.pdf._use_references``)."""
    from reportgen.render.context import render_page
    from reportgen.render.pdf.chartread import drawing_from_svg
    from reportgen.render.pdf.document import write_pdf

    svgs, notes = build_charts(result)
    drawings = _RecordingCharts({name: drawing_from_svg(svg) for name, svg in svgs.items()}, weasyprint_steps)
    page = render_page(result, RenderContext("2026-11-22", None, svgs, notes), "pdf")
    write_pdf(page, tmp_path / "report.pdf", None, "test PDF", svgs, drawings)
    assert sorted(name for name, _ in drawings.looked_up) == sorted(svgs)
    assert {step for _, step in drawings.looked_up} == {"Step 7 - Adding PDF metadata"}  # once all pages are drawn
    reader = PdfReader(tmp_path / "report.pdf")
    text = " ".join(_text(reader, i) for i in range(len(reader.pages)))
    assert "mean silhouette" in text and "K (number of segments)" in text  # chart text stays text
    xobjects = {name: x.get_object() for page in reader.pages
                for name, x in (page["/Resources"].get("/XObject") or {}).items()
                if name.startswith("/i")}  # WeasyPrint names images i...
    assert len(xobjects) == len(svgs) and all(x["/Subtype"] == "/Form" for x in xobjects.values())
    assert all("/Font" in x["/Resources"] for x in xobjects.values())  # each with its own fonts
    profiles = {x["/Resources"]["/ColorSpace"]["/cs0"][1].idnum for x in xobjects.values()}
    assert len(profiles) == 1  # the sRGB profile every chart carries is written once


def test_a_chart_that_fails_while_laid_out_names_itself(result: AnalysisResult, tmp_path: Path,
                                                       weasyprint_steps: list[str]) -> None:
    from reportgen.render.context import render_page
    from reportgen.render.pdf.document import write_pdf

    svgs, notes = build_charts(result)
    charts = _RecordingCharts(svgs, weasyprint_steps, failing="silhouette_k")
    page = render_page(result, RenderContext("2026-11-22", None, charts, notes), "pdf")
    with pytest.raises(RenderError, match="chart 'silhouette_k' could not be drawn"):
        write_pdf(page, tmp_path / "report.pdf", None, "test PDF", charts)


def test_a_chart_svg_that_cannot_be_converted_is_a_render_error() -> None:
    from reportgen.render.pdf.chartread import drawing_from_svg

    with pytest.raises(RenderError, match="could not be converted"):
        drawing_from_svg("<svg><unclosed")


def test_chart_size_comes_from_the_svg_root_in_any_attribute_order() -> None:
    from reportgen.render.pdf.images import ChartImage

    svg = '<svg xmlns="http://www.w3.org/2000/svg" height="20" viewBox="0 0 10 20" width="10.5"><g width="3"/></svg>'
    assert ChartImage("a", {"a": svg}, None).get_intrinsic_size(1, 16) == (10.5, 20.0, 10.5 / 20)
    with pytest.raises(RenderError, match="chart 'b' has no width and height"):
        ChartImage("b", {"b": "<svg viewBox='0 0 1 1'/>"}, None).size()
