"""The comparison with a baseline run: its charts, its HTML section, and the one-page PDF summary it extends."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from reportgen.compare.stability import RetrainAdvice
from reportgen.render import RenderContext
from reportgen.render.charts.compare import MAX_FEATURES, compare_charts
from reportgen.render.charts.report import build_charts, to_svg
from reportgen.render.html.document import render_html
from reportgen.render.pdf.document import render_pdf
from reportgen.result import AnalysisResult
from reportgen.result.changes import FeatureDrift
from tests.factories import make_comparison, make_customers, make_result

GENERATED = "2026-11-22T09:30:00+00:00"


def _compared(n_segments: int, **changes: object) -> AnalysisResult:
    result = make_result(n_segments)
    return dataclasses.replace(result, comparison=dataclasses.replace(make_comparison(result), **changes))


def _html(result: AnalysisResult, out: Path, charts: bool = True) -> BeautifulSoup:
    svgs, notes = build_charts(result) if charts else ({}, {})
    (path,) = render_html(result, make_customers(result), RenderContext(GENERATED, None, svgs, notes), out)
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def result() -> AnalysisResult:
    return _compared(5)


@pytest.fixture(scope="module")
def soup(result: AnalysisResult, tmp_path_factory: pytest.TempPathFactory) -> BeautifulSoup:
    return _html(result, tmp_path_factory.mktemp("html"))


def test_charts_and_notes(result: AnalysisResult) -> None:
    charts, notes = compare_charts(result)
    assert set(charts) == set(notes) == {"migration", "drift", "mix"}
    mig = result.comparison.migration
    assert f"{mig.both:,}" in notes["migration"] and "both periods" in notes["migration"]
    svg = to_svg("migration", charts["migration"])
    assert all(s.name in svg for s in result.segments)
    assert "Seasonal gift buyers" in svg  # the retired baseline segment keeps its row
    assert compare_charts(make_result(3)) == ({}, {})


def test_drift_chart_skips_unmeasured_and_caps_features(result: AnalysisResult) -> None:
    drift = result.comparison.drift
    many = tuple(FeatureDrift(f"f{i}", "numeric", 0.002 * i, 0.01, "wasserstein/σ", "none", False, False)
                 for i in range(MAX_FEATURES + 20))
    empty = FeatureDrift("Gone", "numeric", math.nan, math.nan, "wasserstein/σ", "none", False, True, "no values")
    compared = dataclasses.replace(result, comparison=dataclasses.replace(
        result.comparison, drift=dataclasses.replace(drift, features=(*many, empty)), mix=None))
    charts, notes = compare_charts(compared)
    assert "mix" not in charts and "1 feature(s) without values" in notes["drift"]
    svg = to_svg("drift", charts["drift"])
    assert "Gone" not in svg and f"f{MAX_FEATURES + 19}" in svg and "f0<" not in svg
    assert svg.count("<path") + svg.count("<text") < 3_000


def test_section_advice_and_identities(result: AnalysisResult, soup: BeautifulSoup) -> None:
    section = soup.select_one("section#compare")
    assert section is not None
    assert _words(section.h2.get_text()) == "What changed since 2026-Q2"
    advice = section.select_one(".advice.advice-retrain")
    assert "Retrain the segmentation model" in advice.get_text()
    assert all(reason in _words(advice.get_text()) for reason in result.comparison.advice.reasons)
    rows = section.select("table.compare-identities tbody tr")
    assert len(rows) == len(result.segments) and "new" in rows[-1].get_text()
    assert "Retired since 2026-Q2" in section.get_text() and "Seasonal gift buyers" in section.get_text()
    assert soup.select_one('nav.toc a[href="#compare"]').get_text() == "What changed"


def test_section_customers_drift_and_mix(result: AnalysisResult, soup: BeautifulSoup) -> None:
    section = soup.select_one("section#compare")
    text = _words(section.get_text())
    mig, mix = result.comparison.migration, result.comparison.mix
    assert all(f"{n:,}" in text for n in (mig.both, mig.added, mig.lost))
    assert section.select_one('figure[data-chart="migration"] svg') is not None
    assert len(section.select("table.compare-moves tbody tr")) == len(mig.largest_moves)
    rows = section.select("table.compare-drift tr.drifted")
    assert {row["data-feature"] for row in rows} == set(result.comparison.drift.drifted_features)
    assert all(row["data-feature"] in row.td.get_text() and "yes" in row.get_text() for row in rows)
    assert "No data-set drift" in text and "50%" in text
    assert section.select("table.compare-drift sup.caution") and "Small sample" in text
    assert f"${mix.old_mean:,.0f}" in text and "mix effect" in text and "behaviour effect" in text
    assert section.select_one('figure[data-chart="mix"] svg') is not None
    assert [_words(li.get_text()) for li in soup.select("#summary .since-list li")] == list(
        result.comparison.sentences)


def test_keep_advice_unmeasured_ari_and_no_mix(tmp_path: Path) -> None:
    advice = RetrainAdvice("keep", ("No retraining threshold crossed: ARI was not measured.",), math.nan)
    soup = _html(_compared(3, advice=advice, ari=math.nan, mix=None), tmp_path, charts=False)
    box = soup.select_one("section#compare .advice.advice-keep")
    assert "Keep last month's model" in box.get_text() and "not measured" in box.get_text()
    assert soup.select_one("#compare-mix") is None


def test_nothing_without_comparison(tmp_path: Path) -> None:
    result = make_result(4)
    svgs, _ = build_charts(result)
    assert not {"migration", "drift", "mix"} & set(svgs)
    soup = _html(result, tmp_path, charts=False)
    assert soup.select_one("#compare") is None and soup.select_one(".since") is None
    assert soup.select_one('a[href="#compare"]') is None and "What changed" not in soup.get_text()


@pytest.mark.parametrize("n_segments", [4, 6])
def test_pdf_summary_still_fits_one_page(n_segments: int, tmp_path: Path) -> None:
    result = _compared(n_segments)
    svgs, notes = build_charts(result) if n_segments == 4 else ({}, {})
    (path,) = render_pdf(result, make_customers(result), RenderContext(GENERATED, None, svgs, notes), tmp_path)
    reader = PdfReader(path)
    pages = [_words(page.extract_text()) for page in reader.pages]
    assert "Executive summary" in pages[1] and "Since 2026-Q2" in pages[1]
    assert all(sentence in pages[1] for sentence in result.comparison.sentences)
    assert result.highlights[-1] in pages[1] and "Customers were grouped by how alike they are" in pages[1]
    assert pages[2].startswith("Contents") and "What changed" in pages[2]
    section = next(i for i, text in enumerate(pages) if text.startswith("What changed since 2026-Q2"))
    assert "Retrain the segmentation model" in pages[section]
    if svgs:  # chart text is drawn as text, so the charts can be found in the section's pages
        rest = " ".join(pages[section:section + 4])
        assert "Segment now" in rest and "population stability index" in rest
