"""The PDF brief as an assistive reader gets it: tagged structure, language, title, alternative text, full pages.

Read back with pypdf from the three reference reports (bundled sample, marketing_campaign.csv with its example
config, the online_retail.csv.gz log): structure tree and MarkInfo, /Lang, a title shown in the window, headings,
lists and tables with header cells, /Alt on every figure (the chart descriptions the HTML report uses), bookmarks,
and no page left nearly empty except where a section ends.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from pypdf import PdfReader

REFERENCE = ("sample", "marketing", "retail")
MIN_FILL = 0.25  # share of a page's text area a page must fill, unless a section ends on it


def _elements(node: object) -> list[dict]:
    """Every structure element under ``node``, depth first."""
    found, todo = [], [node]
    while todo:
        current = todo.pop()
        current = current.get_object() if hasattr(current, "get_object") else current
        if isinstance(current, list):
            todo += reversed(current)
            continue
        if not hasattr(current, "get"):
            continue  # a marked-content id
        if current.get("/S") is not None:
            found.append(current)
        kids = current.get("/K")
        if kids is not None:
            todo.append(kids)
    return found


@pytest.fixture(scope="module")
def readers(reference_reports: dict[str, Path]) -> dict[str, PdfReader]:
    return {name: PdfReader(folder / "report.pdf") for name, folder in reference_reports.items()}


@pytest.mark.parametrize("report", REFERENCE)
def test_tagged_with_language_title_and_metadata(readers: dict[str, PdfReader], report: str) -> None:
    reader = readers[report]
    catalog = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert catalog["/MarkInfo"]["/Marked"].value is True
    assert str(catalog["/Lang"]) == "en"
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"]
    title = reader.metadata.title
    assert title and title.strip() and "segment" in (title + reader.metadata.subject).lower()
    assert reader.metadata.subject.startswith("Customer segmentation of")
    assert reader.metadata.creator.startswith("reportgen")
    assert len(reader.outline) >= 5  # bookmarks for the sections


@pytest.mark.parametrize("report", REFERENCE)
def test_structure_has_headings_lists_tables_and_described_figures(readers: dict[str, PdfReader],
                                                                   report: str) -> None:
    reader = readers[report]
    elements = _elements(reader.trailer["/Root"]["/StructTreeRoot"])
    kinds = Counter(str(e["/S"]) for e in elements)
    assert kinds["/H1"] == 1 and kinds["/H2"] >= 5 and kinds["/H3"] >= 3, kinds
    assert kinds["/L"] >= 3 and kinds["/LI"] >= 5
    assert kinds["/Table"] >= 5 and kinds["/TH"] >= 20 and kinds["/TD"] > kinds["/TH"]
    figures = [e for e in elements if e["/S"] == "/Figure"]
    assert len(figures) >= 6
    for figure in figures:
        alt = str(figure.get("/Alt", ""))
        assert len(alt) > 30 and alt.endswith("."), alt
    alts = [str(f["/Alt"]) for f in figures]
    assert any(a.startswith("Bar chart of the share of customers") for a in alts)
    assert any(a.startswith("Scatter plot of") for a in alts)
    assert len(set(alts)) == len(alts)  # each chart says what it shows, not a generic label


def test_chart_alt_text_is_the_html_description(reference_reports: dict[str, Path],
                                                readers: dict[str, PdfReader]) -> None:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((reference_reports["marketing"] / "report.html").read_text(encoding="utf-8"), "html.parser")
    html = {p.get_text() for p in soup.select("figure.chart > p.sr-only")}
    pdf = {str(e["/Alt"]) for e in _elements(readers["marketing"].trailer["/Root"]["/StructTreeRoot"])
           if e["/S"] == "/Figure"}
    assert pdf and pdf <= html


def _page_fill(page: object, margin_pt: float = 20 * 72 / 25.4) -> float:
    """How far down the page's text area (inside the 20 mm top and bottom margins) the lowest text reaches, 0–1;
    chart labels count, since they are text inside the charts' drawings."""
    height = float(page.mediabox[3])
    top, bottom = height - margin_pt, margin_pt
    lows: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if text.strip() and bottom - 2 < y < top + 2:
            lows.append(y)

    page.extract_text(visitor_text=visit)
    return (top - min(lows)) / (top - bottom) if lows else 0.0


def _section_starts(reader: PdfReader) -> set[int]:
    """Pages (0-based) where a top-level section (a first-level bookmark) begins."""
    return {reader.get_destination_page_number(item) for item in reader.outline if not isinstance(item, list)}


@pytest.mark.parametrize("report", REFERENCE)
def test_no_page_left_nearly_empty_except_where_a_section_ends(readers: dict[str, PdfReader], report: str) -> None:
    reader = readers[report]
    starts = _section_starts(reader)
    fills = [_page_fill(page) for page in reader.pages]
    assert max(fills) > 0.9  # the measure sees full pages as full
    sparse = [(number + 1, round(fill, 2)) for number, fill in enumerate(fills[:-1])
              if fill < MIN_FILL and number + 1 not in starts]
    assert sparse == [], f"pages under a quarter filled in the middle of a section: {sparse}"


ASCII_MINUS = re.compile(r"(?<![\w.\-])-\.?\d")  # a hyphen-minus starting a number


@pytest.mark.parametrize("report", REFERENCE)
def test_cover_states_the_takeaway_and_the_dates(readers: dict[str, PdfReader], report: str) -> None:
    cover = " ".join(readers[report].pages[0].extract_text().split())
    assert re.search(r"are \d+% of customers (but bring \d+% of|;)", cover) or "largest of" in cover, cover
    assert "first action:" in cover
    assert re.search(r"(?i)Data covers (orders )?\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d", cover), cover


@pytest.mark.parametrize("report", REFERENCE)
def test_one_minus_sign_in_text_and_charts(reference_reports: dict[str, Path], readers: dict[str, PdfReader],
                                           report: str) -> None:
    from bs4 import BeautifulSoup

    text = "\n".join(page.extract_text() for page in readers[report].pages)
    assert "\u2212" in text  # negative z-scores on the heat map and in the tables
    assert ASCII_MINUS.findall(text) == []
    soup = BeautifulSoup((reference_reports[report] / "report.html").read_text(encoding="utf-8"), "html.parser")
    for hidden in soup.select("script, style, pre.config, svg"):
        hidden.decompose()
    assert ASCII_MINUS.findall(soup.get_text(" ")) == []
