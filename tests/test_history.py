"""``reportgen history``: a trend report over a folder of real runs, its ordering, its outputs and its errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner, Result
from pypdf import PdfReader

from reportgen.cli import main
from reportgen.compare.history import History, RunPoint, SegmentPoint, collect_runs
from reportgen.config import load_config
from reportgen.errors import BaselineError, DataError
from reportgen.pipeline import build_report
from reportgen.render.html.document import external_reference
from reportgen.render.palette import unused_color
from reportgen.resources import sample_data_dir

# Folder names sort differently from the periods, so the order can only come from the periods.
RUNS = {"run-b": ("2026-01", 1, 5), "run-c": ("2026-02", 2, 5), "run-a": ("2026-03", 3, 4)}
PERIODS = ["2026-01", "2026-02", "2026-03"]
URL_ATTRS = ("src", "href", "srcset", "action", "poster", "xlink:href")


def _drifted(summary: Path, share: float) -> None:
    """Turn a real comparison's drift verdict into a drifted one (the same data never drifts)."""
    data = json.loads(summary.read_text(encoding="utf-8"))
    data["comparison"]["drift"] |= {"share_drifted": share, "dataset_drift": True}
    summary.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runs")
    baseline = None
    for name, (period, seed, k) in RUNS.items():
        config = load_config(sample_data_dir() / "reportgen.toml", {
            "output.dir": str(folder / name), "report.period": period, "output.formats": ["json", "csv"],
            "segmentation.seed": seed, "segmentation.k": k,  # a fixed K skips the K search and keeps this fast
            "comparison.baseline": baseline})
        build_report(config)
        baseline = str(folder / name)
    _drifted(folder / "run-a" / "summary.json", 0.6)
    (folder / "notes").mkdir()  # not a run: no summary.json
    (folder / "README.txt").write_text("monthly runs\n")
    return folder


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def written(runs_dir: Path) -> tuple[Result, Path]:
    result = invoke("history", str(runs_dir))
    return result, runs_dir / "history"


def test_collect_runs_orders_by_period_and_reads_comparisons(runs_dir: Path) -> None:
    runs = collect_runs(runs_dir)
    assert [r.period for r in runs] == PERIODS
    assert [r.folder for r in runs] == ["run-b", "run-c", "run-a"]
    assert [r.drift_share for r in runs] == [None, 0.0, 0.6]
    assert [r.dataset_drift for r in runs] == [None, False, True]
    assert runs[0].advice is None and {r.advice for r in runs[1:]} <= {"keep", "retrain"}
    assert all(r.customers == sum(s.size for s in r.segments) for r in runs)
    assert [len(r.segments) for r in runs] == [5, 5, 4]


def test_history_segments_first_seen_with_latest_distinct_colours(runs_dir: Path) -> None:
    runs = collect_runs(runs_dir)
    history = History.from_runs(runs, unused_color)
    names = [name for name, _ in history.segments]
    assert names == list(dict.fromkeys(s.name for r in runs for s in r.segments))
    colours = dict(history.segments)
    for segment in runs[-1].segments:
        assert colours[segment.name] == segment.color
    assert len(set(colours.values())) == len(colours)  # a retired segment never shares a current one's colour


def test_retired_segment_gets_a_free_colour_and_shared_periods_get_folders() -> None:
    def point(period: str, folder: str, *segments: tuple[str, str]) -> RunPoint:
        return RunPoint(period, folder, 10 * len(segments),
                        tuple(SegmentPoint(name, color, 10, 1 / len(segments), None) for name, color in segments))

    history = History.from_runs([point("2026-01", "a", ("Old", "#4e79a7"), ("Kept", "#f28e2b")),
                                 point("2026-02", "b", ("New", "#4e79a7"), ("Kept", "#f28e2b")),
                                 point("2026-02", "c", ("New", "#4e79a7"), ("Kept", "#59a14f"))], unused_color)
    colours = dict(history.segments)
    assert list(colours) == ["Old", "Kept", "New"]
    assert colours["New"] == "#4e79a7" and colours["Kept"] == "#59a14f"
    assert colours["Old"] not in {"#4e79a7", "#59a14f"}
    assert history.labels == ("2026-01", "2026-02 (b)", "2026-02 (c)")


def test_command_writes_html_and_pdf(written: tuple[Result, Path]) -> None:
    result, out = written
    assert result.exit_code == 0, result.output
    assert str(out / "history.html") in result.output and str(out / "history.pdf") in result.output
    assert {"history.html", "history.pdf"} <= {p.name for p in out.iterdir()}


def test_html_is_self_contained_with_charts_and_ordered_periods(written: tuple[Result, Path]) -> None:
    text = (written[1] / "history.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    for name in ("sizes", "value", "customers", "drift"):
        figure = soup.select_one(f'figure[data-chart="{name}"]')
        assert figure is not None and figure.find("svg") is not None, name
    assert [row["data-period"] for row in soup.select(".history-table tbody tr")] == PERIODS
    assert [block["data-period"] for block in soup.select(".history-period")] == PERIODS
    assert external_reference(text) is None
    for tag in soup.find_all(True):
        for attr in URL_ATTRS:
            value = (tag.get(attr) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag.name, attr, value)
    assert soup.find("link") is None and soup.find("script") is None
    rows = [row.get_text(" ", strip=True) for row in soup.select(".history-table tbody tr")]
    assert "no baseline" in rows[0] and "60% · drifted" in rows[-1]


def test_pdf_has_pages_and_every_period(written: tuple[Result, Path]) -> None:
    reader = PdfReader(written[1] / "history.pdf")
    assert len(reader.pages) >= 1
    text = " ".join(page.extract_text() for page in reader.pages)
    assert f"{PERIODS[0]} – {PERIODS[-1]}" in text  # the running header's period range
    table = text.index("Runs by period")
    positions = [text.find(period, table) for period in PERIODS]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


def test_rerun_replaces_history_and_skips_it_as_a_run(runs_dir: Path, written: tuple[Result, Path],
                                                      tmp_path: Path) -> None:
    again = invoke("history", str(runs_dir))
    assert again.exit_code == 0, again.output
    assert "3 runs" in again.output
    out = tmp_path / "trends"
    elsewhere = invoke("history", str(runs_dir), "-o", str(out))
    assert elsewhere.exit_code == 0, elsewhere.output
    assert (out / "history.pdf").is_file()


def _copy_summaries(runs_dir: Path, target: Path, names: list[str]) -> Path:
    for name in names:
        (target / name).mkdir(parents=True)
        shutil.copy(runs_dir / name / "summary.json", target / name / "summary.json")
    return target


def test_fewer_than_three_runs_is_an_error(runs_dir: Path, tmp_path: Path) -> None:
    folder = _copy_summaries(runs_dir, tmp_path / "two", ["run-a", "run-b"])
    result = invoke("history", str(folder))
    assert result.exit_code == 1
    assert f"needs at least 3 runs, found 2 in {folder}" in result.output
    assert not (folder / "history").exists()
    with pytest.raises(DataError, match="found 2"):
        collect_runs(folder)


def test_corrupt_summary_is_an_error_naming_it(runs_dir: Path, tmp_path: Path) -> None:
    folder = _copy_summaries(runs_dir, tmp_path / "bad", list(RUNS))
    broken = folder / "run-c" / "summary.json"
    broken.write_text('{"format_version": 1, "report": ', encoding="utf-8")
    result = invoke("history", str(folder))
    assert result.exit_code == 1
    assert str(broken) in result.output and len(result.output.strip().splitlines()) == 1
    assert not (folder / "history").exists()


@pytest.mark.parametrize("content", ['{"format_version": 1}', "[1, 2]", '{"format_version": 1, "data": {}}'])
def test_summary_without_the_expected_fields_names_the_file(runs_dir: Path, tmp_path: Path, content: str) -> None:
    folder = _copy_summaries(runs_dir, tmp_path / "odd", list(RUNS))
    (folder / "run-a" / "summary.json").write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError, match=re.escape(str(Path("run-a") / "summary.json"))):
        collect_runs(folder)
