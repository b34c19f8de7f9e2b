"""With no config, every shared customer table gives a report a manager can act on: 3-8 segments with distinct
names free of column names, specific actions for most segments, ranked by value, audience files, and an executive
summary in plain words (read back from the PDF)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from reportgen import build_report
from reportgen.config import load_config

TABLES = ("marketing_campaign.csv", "Mall_Customers.csv", "bank_churners.csv", "shop_customer_data.csv")
STATISTICS = re.compile(r"σ|z-score|\bz\s*=|silhouette|\bK\s*=|\bK-Means\b")


@pytest.fixture(scope="module", params=TABLES)
def zero_config_run(request: pytest.FixtureRequest, datasets_dir: Path,
                    tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, dict]:
    out = tmp_path_factory.mktemp("insight") / "out"
    config = load_config(None, {"data.path": str(datasets_dir / request.param), "output.dir": str(out),
                                "output.formats": ["json", "pdf", "csv"]})
    build_report(config)
    return request.param, out, json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text(encoding="utf-8").splitlines()))


def _summary_page(pdf: Path) -> str:
    pages = [page.extract_text() for page in PdfReader(pdf).pages]
    return next(text for text in pages if text.lstrip().startswith("Executive summary"))


@pytest.mark.slow
def test_segments_names_and_actions(zero_config_run: tuple[str, Path, dict]) -> None:
    table, _, summary = zero_config_run
    segments = summary["segments"]
    assert 3 <= len(segments) <= 8, table
    names = [s["name"] for s in segments]
    assert len(set(names)) == len(names)
    columns = [c["name"] for c in summary["data"]["columns"]]
    for name in names:
        assert not any(column in name for column in columns if len(column) > 3 or "_" in column), (table, name)
    specific = [s for s in segments if s["recommendations"] and not s["recommendations"][0]["fallback"]]
    assert len(specific) >= 0.8 * len(segments), (table, names)
    for segment in segments:
        assert segment["portrait"].startswith("Customers ")
        assert sum(r["lead"] for r in segment["recommendations"]) == 1
        if any(abs(st["z"]) >= 0.35 for st in segment["stats"]):
            assert "average" not in segment["name"].lower(), (table, segment["name"])


@pytest.mark.slow
def test_ranked_by_value_with_audience_files(zero_config_run: tuple[str, Path, dict]) -> None:
    table, out, summary = zero_config_run
    recommendations = summary["recommendations"]
    stakes = [r["value_at_stake"] for r in recommendations]
    assert stakes == sorted(stakes, reverse=True), table
    ids = {row[0]: row[1] for row in _rows(out / "segments.csv")}
    for rec in recommendations:
        rows = _rows(out / rec["audience_file"])
        assert len(rows) - 1 == rec["audience"] > 0
        assert all(ids[customer] == segment for customer, segment, _ in rows[1:])
        assert all(row[1] == str(rec["segment_id"]) for row in rows[1:])


@pytest.mark.slow
def test_executive_summary_in_plain_words(zero_config_run: tuple[str, Path, dict]) -> None:
    table, out, summary = zero_config_run
    text = _summary_page(out / "report.pdf")
    assert not STATISTICS.search(text), (table, STATISTICS.search(text))
    features = [c for c in summary["data"]["numeric_features"] if "_" in c or " (" in c]
    assert not any(feature in text for feature in features), table
    assert "of value" in text and "customers" in text


@pytest.mark.slow
def test_columns_understood(zero_config_run: tuple[str, Path, dict]) -> None:
    table, _, summary = zero_config_run
    columns = {c["name"]: c for c in summary["data"]["columns"]}
    assert all(c["label"] for c in columns.values() if c["kind"] in ("numeric", "categorical"))
    if table == "bank_churners.csv":
        assert summary["data"]["id_column"] == "CLIENTNUM"
        assert "near-duplicate" in columns["Avg_Open_To_Buy"]["reason"]
        assert all("model's output" in c["reason"] for name, c in columns.items() if name.startswith("Naive_Bayes"))
        assert columns["Attrition_Flag"]["kind"] == "ignored"
        roles = {role: column for role, column in summary["roles"]}
        assert roles["utilization"] == "Avg_Utilization_Ratio" and roles["recency"] == "Months_Inactive_12_mon"
        assert dict(summary["units"])["Months_Inactive_12_mon"] == "months"
    if table == "marketing_campaign.csv":
        assert "0/1 flag" in columns["Complain"]["reason"]
        assert dict(summary["units"])["TotalSpend"] == "currency"
