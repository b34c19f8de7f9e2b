"""Whole runs with every output, read back the way a user meets them: the PDF with a PDF reader, the HTML
parsed, the JSON and CSV loaded."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from reportgen.config import load_config
from reportgen.pipeline import Outcome, build_report
from reportgen.resources import sample_data_dir

REPO = Path(__file__).parents[1]


def _run(config_path: Path, out: Path) -> Outcome:
    return build_report(load_config(config_path, {"output.dir": str(out)}))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return _run(sample_data_dir() / "reportgen.toml", tmp_path_factory.mktemp("sample") / "report")


def _outline_titles(reader: PdfReader) -> list[str]:
    titles: list[str] = []

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(reader.outline)
    return titles


def check_pdf(outcome: Outcome) -> PdfReader:
    """The checks every real-data PDF must pass."""
    result = outcome.analysis.result
    reader = PdfReader(outcome.out_dir / "report.pdf")
    pages = len(reader.pages)
    assert pages >= 8
    assert reader.metadata.title.startswith(result.report.title)
    summary = reader.pages[1].extract_text()
    assert "Executive summary" in summary
    flat = " ".join(summary.split())
    for segment in result.segments:
        assert segment.name in flat
    assert f"{result.customers:,}" in flat
    assert f"Page 2 of {pages}" in flat
    outline = _outline_titles(reader)
    for title in ("Executive summary", "Segment overview", "All recommendations", "Appendix: method and data quality"):
        assert title in outline
    assert all(any(s.name in t for t in outline) for s in result.segments)
    return reader


def check_html(outcome: Outcome) -> BeautifulSoup:
    """Self-contained HTML: no external URL anywhere, every chart inline."""
    text = (outcome.out_dir / "report.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup.find_all(src=True):
        assert tag["src"].startswith("data:"), tag["src"][:60]
    for tag in soup.find_all(href=True):
        assert tag["href"].startswith("#"), tag["href"][:60]
    assert not re.search(r"url\((?!['\"]?(#|data:))", text)
    assert "@import" not in text and "<script src" not in text
    n_segments = len(outcome.analysis.result.segments)
    assert len(soup.find_all("svg")) >= 6 + n_segments
    return soup


def test_sample_run_writes_every_output(sample_run: Outcome) -> None:
    names = sorted(p.name for p in sample_run.out_dir.iterdir())
    assert [n for n in names if not n.startswith("audience_")] == [
        ".reportgen-output", "model.json", "reference.json", "report.html", "report.pdf", "segments.csv",
        "summary.json"]
    audiences = {r.audience_file for r in sample_run.analysis.result.recommendations}
    assert {n for n in names if n.startswith("audience_")} == audiences


def test_sample_pdf(sample_run: Outcome) -> None:
    reader = check_pdf(sample_run)
    appendix = " ".join(page.extract_text() for page in reader.pages[-6:])
    assert sample_run.analysis.result.run.input_sha256[:16] in appendix.replace("\n", "")


def test_sample_html(sample_run: Outcome) -> None:
    soup = check_html(sample_run)
    assert soup.find("h2", string="Executive summary") is not None


def test_json_is_the_result(sample_run: Outcome) -> None:
    summary = json.loads((sample_run.out_dir / "summary.json").read_text())
    result = sample_run.analysis.result
    assert summary["format_version"] == 1
    assert [s["name"] for s in summary["segments"]] == [s.name for s in result.segments]
    assert summary["k_selection"]["chosen_k"] == result.k_selection.chosen_k
    assert summary["data"]["rows_read"] == 3000
    assert summary["run"]["seed"] == 42 and len(summary["run"]["input_sha256"]) == 64


def test_segments_csv_matches_sizes(sample_run: Outcome) -> None:
    with (sample_run.out_dir / "segments.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    result = sample_run.analysis.result
    assert len(rows) == result.customers
    for segment in result.segments:
        assert sum(r["segment_id"] == str(segment.id) for r in rows) == segment.size
        assert all(r["segment_name"] == segment.name for r in rows if r["segment_id"] == str(segment.id))
    assert all(float(r["distance_to_centroid"]) >= 0 for r in rows)


def test_model_file_is_plain_json(sample_run: Outcome) -> None:
    model = json.loads((sample_run.out_dir / "model.json").read_text())
    assert model["kind"] == "reportgen-kmeans"
    assert len(model["centroids"]) == len(sample_run.analysis.result.segments)
    assert len(model["scaler"]["center"]) == len(model["numeric"])


@pytest.mark.slow
def test_marketing_campaign_report(datasets_dir: Path, tmp_path: Path) -> None:
    outcome = _run(REPO / "examples" / "marketing_campaign.toml", tmp_path / "out")
    reader = check_pdf(outcome)
    check_html(outcome)
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for said in ("Year_Birth outside plausible range", "out of plausible range → missing", "merged categories",
                 "2014 - Year_Birth"):
        assert said in text


@pytest.mark.slow
def test_mall_customers_report(datasets_dir: Path, tmp_path: Path) -> None:
    outcome = _run(REPO / "examples" / "mall_customers.toml", tmp_path / "out")
    check_pdf(outcome)
    check_html(outcome)
