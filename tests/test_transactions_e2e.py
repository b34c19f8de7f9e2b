"""A transaction log through the whole product: aggregation, RFM beside the segments, reconciliation in the
summary, customers.csv from the same CSV writer, and the report sections."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from reportgen.cli import main


@pytest.fixture(scope="module")
def retail_run(datasets_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("retail") / "report"
    result = CliRunner().invoke(main, ["run", str(datasets_dir / "online_retail.csv.gz"), "--as-of", "2011-12-10",
                                       "--window", "all", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


def test_log_is_recognised_and_reconciled(retail_run: Path) -> None:
    summary = json.loads((retail_run / "summary.json").read_text())
    assert summary["run"]["input_kind"] == "transactions"
    log = summary["transactions"]
    steps = {c["label"]: c["count"] for c in log["reconciliation"]}
    raw, used = log["reconciliation"][0]["count"], log["reconciliation"][-1]["count"]
    assert raw == 541_909
    assert raw - sum(c["count"] for c in log["reconciliation"][1:-1]) == used
    assert all(count > 0 for label, count in steps.items() if "window" not in label)  # window "all" drops none
    assert dict(summary["roles"])["monetary"] == "monetary"
    assert dict(summary["roles"])["recency"] == "recency_days"
    # Every customer with a purchase is either segmented or set aside with a reason.
    set_aside = sum(c["count"] for c in log["excluded_customers"])
    assert summary["data"]["rows_read"] == summary["data"]["rows_segmented"]
    assert summary["data"]["rows_read"] == dict(log["totals"])["active_customers"]
    assert 4_300 < summary["data"]["rows_read"] + set_aside <= 4_372  # 4,372 customer ids in the whole file


def test_customers_csv_has_features_scores_and_segment(retail_run: Path) -> None:
    with (retail_run / "customers.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    summary = json.loads((retail_run / "summary.json").read_text())
    assert len(rows) == summary["data"]["rows_segmented"]
    header = list(rows[0])
    for column in ("customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                   "rfm_group", "segment_id", "segment_name"):
        assert column in header
    by_id = {r["customer_id"]: r for r in rows}
    assert "12346" not in by_id  # 74,215 units bought and cancelled: net value 0, set aside
    assert {r["r_score"] for r in rows} == {"1", "2", "3", "4", "5"}
    segments = {s["id"]: s["size"] for s in summary["segments"]}
    for seg_id, size in segments.items():
        assert sum(r["segment_id"] == str(seg_id) for r in rows) == size


def test_rfm_crosstab_sums_to_segments(retail_run: Path) -> None:
    summary = json.loads((retail_run / "summary.json").read_text())
    rfm = summary["rfm"]
    assert len(rfm["groups"]) == 11
    sizes = {s["id"]: s["size"] for s in summary["segments"]}
    for seg_id, size in sizes.items():
        assert sum(count for s, _, count in rfm["crosstab"] if s == seg_id) == size
    assert sum(c["count"] for c in rfm["groups"]) == summary["data"]["rows_segmented"]


def test_report_shows_customer_base_and_rfm(retail_run: Path) -> None:
    reader = PdfReader(retail_run / "report.pdf")
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for heading in ("Customer base", "From log rows to customers", "RFM groups", "Champions", "Can't lose them"):
        assert heading in text
    html = (retail_run / "report.html").read_text()
    assert 'id="customer-base"' in html and 'id="rfm"' in html


def test_init_recognises_a_log(datasets_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "log.toml"
    result = CliRunner().invoke(main, ["init", str(datasets_dir / "online_retail.csv.gz"), "-o", str(config)])
    assert result.exit_code == 0, result.output
    text = config.read_text()
    assert 'input = "transactions"' in text
    for line in ('customer = "CustomerID"', 'invoice = "InvoiceNo"', 'timestamp = "InvoiceDate"',
                 'quantity = "Quantity"', 'unit_price = "UnitPrice"', 'product = "StockCode"'):
        assert line in text


def test_log_outputs_are_deterministic(datasets_dir: Path, retail_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    result = CliRunner().invoke(main, ["run", str(datasets_dir / "online_retail.csv.gz"), "--as-of", "2011-12-10",
                                       "--window", "all", "-o", str(again), "-q"])
    assert result.exit_code == 0, result.output
    for name in ("summary.json", "segments.csv", "customers.csv", "model.json", "reference.json"):
        assert (again / name).read_bytes() == (retail_run / name).read_bytes(), name
