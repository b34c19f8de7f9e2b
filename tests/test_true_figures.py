"""Reported figures are computed on the observed values: every segment mean of an input column equals the mean of
the raw values of that segment's customers, recomputed here from the input file and segments.csv alone."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.resources import sample_data_dir

FAST = ["--formats", "json,csv", "-q"]
EXAMPLES = Path(__file__).parents[1] / "examples"


def _run(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", *args, "-o", str(out), *FAST])
    assert result.exit_code == 0, result.output
    return out


def _declared_invalid(config: Path | None) -> dict[str, tuple[float | None, float | None]]:
    """Bounds outside which the config declares a value missing (``cleaning.ranges`` with action "missing")."""
    if config is None:
        return {}
    ranges = tomllib.loads(config.read_text()).get("cleaning", {}).get("ranges", {})
    return {c: (r.get("min"), r.get("max")) for c, r in ranges.items() if r.get("action", "missing") == "missing"}


def _check_means(table: pd.DataFrame, id_column: str, out: Path, config: Path | None = None) -> int:
    summary = json.loads((out / "summary.json").read_text())
    segments = pd.read_csv(out / "segments.csv", dtype=str, keep_default_na=False)
    segment_of = dict(zip(segments.iloc[:, 0].str.removeprefix("'"), segments["segment_id"].astype(int),
                          strict=True))
    # Without an id column reportgen numbers the rows from 1, in file order.
    ids = (table[id_column].astype(str) if segments.columns[0] != "row"
           else pd.Series([str(i + 1) for i in range(len(table))], index=table.index))
    invalid = _declared_invalid(config)
    checked = 0
    for segment in summary["segments"]:
        rows = ids.map(segment_of).eq(segment["id"]).to_numpy()
        assert rows.sum() == segment["size"]
        for stat in segment["stats"]:
            if stat["feature"] not in table.columns:
                continue  # derived or date features: not an input column
            values = pd.to_numeric(table[stat["feature"]], errors="coerce")[rows]
            low, high = invalid.get(stat["feature"], (None, None))
            values = values.mask(values < low) if low is not None else values
            values = values.mask(values > high) if high is not None else values
            where = (segment["name"], stat["feature"])
            assert stat["missing"] == int(values.isna().sum()), where
            assert stat["mean"] == pytest.approx(float(values.mean()), rel=1e-9, abs=1e-9), where
            assert stat["median"] == pytest.approx(float(values.median()), rel=1e-9, abs=1e-9), where
            checked += 1
    return checked


def test_sample_means_are_the_raw_means(tmp_path: Path) -> None:
    config = sample_data_dir() / "reportgen.toml"
    out = _run(tmp_path, "-c", str(config))
    table = pd.read_csv(sample_data_dir() / "customers.csv")
    assert _check_means(table, "customer_id", out, config) > 20
    summary = json.loads((out / "summary.json").read_text())
    recency = [st for s in summary["segments"] for st in s["stats"] if st["feature"] == "days_since_last_order"]
    fence = max(st["mean"] for st in recency)
    assert fence > 148  # the IQR fence of the column is 148 days: a mean above it is not capped
    assert sum(s["value_share"] for s in summary["segments"]) == pytest.approx(1.0)


def test_capped_outliers_that_dominate_a_mean_are_named(tmp_path: Path) -> None:
    out = _run(tmp_path, "-c", str(sample_data_dir() / "reportgen.toml"))
    summary = json.loads((out / "summary.json").read_text())
    notes = [st["note"] for s in summary["segments"] for st in s["stats"] if st["note"]]
    assert notes and all("outlier fence" in n for n in notes)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "id_column", "sep", "config"), [
    ("marketing_campaign.csv", "ID", "\t", "marketing_campaign.toml"),
    ("Mall_Customers.csv", "CustomerID", ",", None),
    ("bank_churners.csv", "CLIENTNUM", ",", None),
    ("shop_customer_data.csv", "CustomerID", ",", None),
])
def test_shared_tables_means_are_the_raw_means(datasets_dir: Path, tmp_path: Path, name: str, id_column: str,
                                               sep: str, config: str | None) -> None:
    path = datasets_dir / name
    args = ["-c", str(EXAMPLES / config)] if config else [str(path)]
    out = _run(tmp_path, *args)
    table = pd.read_csv(path, sep=sep, dtype={id_column: str})
    if name == "Mall_Customers.csv":
        table[id_column] = table[id_column].astype(str)
    if name == "marketing_campaign.csv":  # rows the config drops (birth years before 1920) are no customers
        table = table[table["Year_Birth"] >= 1920]
    assert _check_means(table, id_column, out, EXAMPLES / config if config else None) >= 2


@pytest.mark.slow
def test_online_retail_value_share_is_net_revenue_share(datasets_dir: Path, tmp_path: Path) -> None:
    out = _run(tmp_path, str(datasets_dir / "online_retail.csv.gz"), "--input", "transactions", "--window", "all")
    summary = json.loads((out / "summary.json").read_text())
    customers = pd.read_csv(out / "customers.csv")
    revenue = customers.groupby("segment_id")["monetary"].sum()
    for segment in summary["segments"]:
        expected = revenue.loc[segment["id"]] / revenue.sum()
        assert abs(segment["value_share"] - expected) < 0.001, segment["name"]
    assert sum(s["value_share"] for s in summary["segments"]) == pytest.approx(1.0)
    monetary = [st for s in summary["segments"] for st in s["stats"] if st["feature"] == "monetary"]
    for segment, stat in zip(summary["segments"], monetary, strict=True):
        assert stat["mean"] == pytest.approx(customers.loc[customers.segment_id == segment["id"], "monetary"].mean(),
                                             rel=1e-6)
    assert np.isfinite([s["value_share"] for s in summary["segments"]]).all()
    totals = dict(summary["transactions"]["totals"])  # net average order value: net revenue per order
    assert totals["average_order_value"] == pytest.approx(totals["revenue"] / totals["orders"], rel=1e-9)
    assert totals["revenue"] == pytest.approx(customers["monetary"].sum(), rel=1e-6)
    assert summary["transactions"]["history_warning"] is None  # window "all" asks for nothing the log lacks


@pytest.fixture(scope="module")
def retail_months(datasets_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """online_retail as of 2011-09-01 (baseline), then 2011-12-01 and 2011-09-01 again against it."""
    log = str(datasets_dir / "online_retail.csv.gz")
    root = tmp_path_factory.mktemp("retail")
    runs = {"sep": ("2011-09-01", None), "dec": ("2011-12-01", "sep"), "self": ("2011-09-01", "sep")}
    out = {}
    for name, (as_of, baseline) in runs.items():
        args = ["run", log, "--input", "transactions", "--as-of", as_of, "--window", "12M", "-o", str(root / name),
                *FAST, *(["--baseline", str(root / baseline)] if baseline else [])]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        out[name] = json.loads((root / name / "summary.json").read_text())
    return out


@pytest.mark.slow
def test_sep_to_dec_drift_measures_customers_not_cleaning(retail_months: dict[str, dict]) -> None:
    drift = {f["feature"]: f for f in retail_months["dec"]["comparison"]["drift"]["features"]}
    for feature in ("return_rate", "mean_days_between"):
        assert drift[feature]["band"] != "major" and drift[feature]["psi"] < 0.1, drift[feature]
    gaps = drift["mean_days_between"]
    assert gaps["baseline_missing_share"] > gaps["missing_share"] > 0.3  # single-purchase customers, compared apart


@pytest.mark.slow
def test_same_month_against_itself_is_unchanged(retail_months: dict[str, dict]) -> None:
    comparison = retail_months["self"]["comparison"]
    assert all(f["psi"] == 0 and f["distance"] == 0 for f in comparison["drift"]["features"])
    names = [s["name"] for s in retail_months["self"]["segments"]]
    assert names == [s["name"] for s in retail_months["sep"]["segments"]]
    moves = comparison["migration"]
    assert moves["stayed"] == moves["both"] > 0 and moves["added"] == moves["lost"] == 0
    assert all(count == 0 for old, new, count, _ in moves["cells"] if old != new)  # a diagonal migration
    assert all(i["status"] == "kept" and i["baseline_id"] == i["segment_id"] for i in comparison["identities"])


@pytest.mark.slow
def test_refit_segment_whose_customers_stayed_keeps_its_identity(retail_months: dict[str, dict]) -> None:
    comparison = retail_months["dec"]["comparison"]
    names = [s["name"] for s in retail_months["dec"]["segments"]]
    assert not any(name.endswith("(new)") and name.removesuffix(" (new)") in names for name in names)
    for move in comparison["migration"]["largest_moves"]:
        assert move["old_name"] != move["new_name"].removesuffix(" (new)")
    kept = [i for i in comparison["identities"] if i["status"] == "kept"]
    by_overlap = [i for i in kept if i["overlap"] >= 0.5 and "in both runs" in i["reason"]]
    # New customers of September are no longer new in December: that one continues by its centre, and says so.
    assert len(by_overlap) >= 2 and all(i in by_overlap or "centre lies within" in i["reason"] for i in kept)


@pytest.mark.slow
def test_a_window_longer_than_the_log_is_named_with_its_dates(retail_months: dict[str, dict]) -> None:
    warning = retail_months["sep"]["transactions"]["history_warning"]
    assert "2010-09-01" in warning and "2010-12-01" in warning and "2011-09-01" in warning
    assert retail_months["dec"]["transactions"]["history_warning"] is None  # Dec 2010 – Nov 2011: all there
    warnings = retail_months["dec"]["comparison"]["history_warnings"]
    assert len(warnings) == 1 and warnings[0].startswith("Baseline: ") and "2010-12-01" in warnings[0]
    assert retail_months["dec"]["comparison"]["sentences"][0] == warnings[0]


def test_no_machine_paths_in_the_json_outputs(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    config = folder / "reportgen.toml"
    config.write_text(f'[data]\npath = "{sample_data_dir() / "customers.csv"}"\n[report]\nlogo = "logo.svg"\n'
                      '[segmentation]\nk = 3\n')
    first = _run(folder, "-c", str(config))
    later = tmp_path / "later"
    result = CliRunner().invoke(main, ["run", "-c", str(config), "-o", str(later), "--baseline", str(first), *FAST])
    assert result.exit_code == 0, result.output
    for out in (first, later):
        for name in ("summary.json", "model.json", "reference.json"):
            text = (out / name).read_text()
            for machine in (str(tmp_path), str(sample_data_dir()), str(Path.home())):
                assert machine not in text, (out.name, name, machine)
    assert json.loads((first / "summary.json").read_text())["report"]["logo"] == "logo.svg"
