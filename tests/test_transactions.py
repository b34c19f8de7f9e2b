"""Tests for reportgen.inputs.logs.transactions: column detection, the exclusion rules, per-customer features and
bad input.

The real UCI Online Retail log is checked customer by customer against an independent pandas computation.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.config import DataConfig, TransactionsConfig
from reportgen.errors import ConfigError, DataError
from reportgen.inputs.logs.transactions import (
    LogAggregate,
    LogColumns,
    aggregate_log,
    detect_log_columns,
    looks_like_log,
)

RETAIL_HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
                 "Country"]
NON_PRODUCT = {"POST", "DOT", "M", "BANK CHARGES", "AMAZONFEE", "B", "C2", "D", "S", "CRUK", "PADS", "ADJUST",
               "ADJUST2", "TEST001", "TEST002"}
SMALL_LOG = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
0999,P1,old line,1,2023-03-01 10:00:00,5.00,100,France
1001,P1,red mug,2,2024-01-10 10:00:00,5.00,100,France
1001,P2,blue mug,1,2024-01-10 10:00:00,20.00,100,France
1002,P1,red mug,4,2024-02-09 09:00:00,5.00,100,Germany
1002,P1,red mug,4,2024-02-09 09:00:00,5.00,100,Germany
1003,P3,teapot,1,2024-03-20 12:00:00,50.00,100,France
1003,POST,postage,1,2024-03-20 12:00:00,15.00,100,France
C1004,P1,red mug,-2,2024-03-25 12:00:00,5.00,100,France
1005,P2,blue mug,3,2024-03-01 08:00:00,10.00,200.0,Spain
1005,P3,teapot,1,2024-03-01 08:00:00,5.00,200.0,Belgium
1006,P4,lamp,1,2023-12-31 23:59:00,100.00,C-7,EIRE
1006,P5,free sample,5,2023-12-31 23:59:00,0,C-7,EIRE
1007,P4,lamp,1,2024-03-31 10:00:00,100.00,C-7,EIRE
1008,P1,red mug,1,2024-03-15 11:00:00,5.00,,France
C1009,P1,red mug,-1,2024-02-01 10:00:00,5.00,300,France
1010,P2,blue mug,1,2024-01-05 10:00:00,10.00,400,France
C1011,P2,blue mug,-1,2024-01-06 10:00:00,10.00,400,France
"""
SMALL_CFG = {"as_of": "2024-04-01", "window": "12M", "recent_days": 30}
# Worked out by hand from SMALL_LOG: "200.0" is customer 200, whose Spain/Belgium tie goes to Belgium.
SMALL_EXPECTED = pd.DataFrame({
    "customer_id": ["100", "200", "C-7"],
    "recency_days": [12, 31, 1],
    "frequency": [3, 1, 2],
    "monetary": [90.0, 35.0, 200.0],
    "avg_order_value": [100 / 3, 35.0, 100.0],
    "tenure_days": [82, 31, 92],
    "mean_days_between": [35.0, math.nan, 91.0],
    "distinct_products": [3, 2, 1],
    "return_rate": [0.1, 0.0, 0.0],
    "recent_spend": [40.0, 0.0, 100.0],
    "country": ["France", "Belgium", "EIRE"],
})


def run(path: Path, data: dict | None = None, **cfg: object) -> LogAggregate:
    return aggregate_log(path, DataConfig(**(data or {})), TransactionsConfig(**cfg))


def write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, kind: type[Exception] = DataError, data: dict | None = None, **cfg: object) -> str:
    """The one-line message of the error aggregating ``path`` raises; checks it names the file."""
    with pytest.raises(kind) as excinfo:
        run(path, data, **cfg)
    message = str(excinfo.value)
    assert "\n" not in message
    assert kind is ConfigError or str(path) in message
    return message


def reference_features(path: Path) -> tuple[pd.DataFrame, set[str]]:
    """Online Retail per customer the plain pandas way: purchases and returns, and the returns-only customers."""
    log = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"}, keep_default_na=False,
                      na_values={"CustomerID": [""]})
    log = log.drop_duplicates()
    log = log[log["CustomerID"].notna()]
    code = log["StockCode"].str.strip()
    log = log[~code.isin(NON_PRODUCT) & ~code.str.fullmatch(r"gift.0001.*")]
    log = log[(log["UnitPrice"] > 0) & (log["Quantity"] != 0)]
    log = log.assign(value=log["Quantity"] * log["UnitPrice"], day=pd.to_datetime(log["InvoiceDate"]).dt.floor("D"),
                     customer=log["CustomerID"].astype(str))
    is_return = log["InvoiceNo"].str.startswith("C") | (log["Quantity"] < 0)
    buys, returns = log[~is_return], log[is_return]
    per = buys.groupby("customer").agg(last=("day", "max"), frequency=("InvoiceNo", "nunique"), gross=("value", "sum"))
    returned = returns.groupby("customer")["value"].sum().abs().reindex(per.index, fill_value=0.0)
    # Float sums carry noise around an exact zero (12346 buys and returns 77,183.60); cents are exact.
    per["monetary"] = (per["gross"] - returned).round(6)
    per["recency_days"] = (pd.Timestamp("2011-12-10") - per["last"]).dt.days
    per["has_returns"] = returned > 0
    return per, set(returns["customer"]) - set(buys["customer"])


@pytest.fixture(scope="module")
def retail_path(datasets_dir: Path) -> Path:
    return datasets_dir / "online_retail.csv.gz"


@pytest.fixture(scope="module")
def retail(retail_path: Path) -> LogAggregate:
    return run(retail_path, as_of="2011-12-10", window="all")


@pytest.fixture(scope="module")
def reference(retail_path: Path) -> tuple[pd.DataFrame, set[str]]:
    return reference_features(retail_path)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return write(tmp_path, SMALL_LOG)


# --- Online Retail -----------------------------------------------------------------------------------------------


def test_retail_matches_independent_pandas(retail: LogAggregate, reference: tuple[pd.DataFrame, set[str]]) -> None:
    ref, _ = reference
    ours = retail.customers.set_index("customer_id")
    kept = ref[ref["monetary"] > 0]
    assert list(ours.index) == sorted(kept.index)
    assert (ours["recency_days"] == kept["recency_days"]).all()
    assert (ours["frequency"] == kept["frequency"]).all()
    np.testing.assert_allclose(ours["monetary"], kept["monetary"], rtol=0, atol=1e-6)
    with_returns = kept.index[kept["has_returns"]]
    assert len(with_returns) > 1000  # the comparison covers plenty of customers with cancellations
    np.testing.assert_allclose(ours.loc[with_returns, "monetary"], kept.loc[with_returns, "monetary"], atol=1e-6)


@pytest.mark.parametrize(("customer", "recency", "frequency", "monetary"), [
    ("16446", 1, 2, 2.90),  # 80,995 × 2.08 bought and cancelled on 2011-12-09; 2.90 of other purchases remain
    ("14911", 2, 198, 128768.24),  # EIRE wholesaler with many C invoices
    ("17841", 2, 124, 39861.49),  # 40,495.99 bought, 634.50 returned
    ("12352", 37, 7, 1265.41),  # 1,385.74 bought, 120.33 returned
])
def test_retail_named_customers(retail: LogAggregate, reference: tuple[pd.DataFrame, set[str]], customer: str,
                                recency: int, frequency: int, monetary: float) -> None:
    row = retail.customers.set_index("customer_id").loc[customer]
    ref = reference[0].loc[customer]
    assert (row["recency_days"], row["frequency"]) == (recency, frequency) == (ref["recency_days"], ref["frequency"])
    assert row["monetary"] == pytest.approx(monetary, abs=1e-6) == ref["monetary"]


def test_retail_customer_netting_to_zero_is_excluded(retail: LogAggregate,
                                                     reference: tuple[pd.DataFrame, set[str]]) -> None:
    ref, returns_only = reference
    assert "12346" not in set(retail.customers["customer_id"])
    assert ref.loc["12346", "monetary"] == 0  # 74,215 × 1.04 bought and cancelled
    excluded = dict((c.label, c.count) for c in retail.excluded_customers)
    assert excluded == {"net monetary value ≤ 0": int((ref["monetary"] <= 0).sum()),
                        "no purchase in window (returns only)": len(returns_only)}
    assert excluded["net monetary value ≤ 0"] >= 1


def test_retail_reconciliation_adds_up(retail: LogAggregate) -> None:
    counts = [(c.label, c.count) for c in retail.reconciliation]
    assert [label for label, _ in counts] == ["raw rows", "outside the window", "exact duplicate rows",
                                              "missing customer id", "non-product codes",
                                              "zero or negative unit price", "lines used"]
    assert counts[0] == ("raw rows", 541_909)
    assert counts[2] == ("exact duplicate rows", 5_268)
    assert counts[0][1] - sum(count for _, count in counts[1:-1]) == counts[-1][1]
    assert retail.totals["lines_used"] == counts[-1][1]
    assert retail.totals["active_customers"] == len(retail.customers)
    assert retail.totals["revenue"] == pytest.approx(retail.customers["monetary"].sum(), abs=1e-4)
    assert (retail.as_of, retail.window_start, retail.window) == ("2011-12-10", None, "all")


def test_retail_every_rule_excludes_rows(retail_path: Path) -> None:
    result = run(retail_path)  # default 12M window: as of 2011-12-10, from 2010-12-10
    assert result.window_start == "2010-12-10" and result.as_of == "2011-12-10"
    assert all(c.count > 0 for c in result.reconciliation), result.reconciliation
    assert result.customers["recency_days"].max() <= 365


def test_retail_is_detected_from_its_header(retail_path: Path, datasets_dir: Path) -> None:
    cfg = TransactionsConfig()
    assert looks_like_log(retail_path, DataConfig(), cfg)
    assert not looks_like_log(datasets_dir / "Mall_Customers.csv", DataConfig(), cfg)
    assert not looks_like_log(datasets_dir / "marketing_campaign.csv", DataConfig(), cfg)
    assert not looks_like_log(retail_path, DataConfig(input="customers"), cfg)


# --- A hand-made log ---------------------------------------------------------------------------------------------


def test_small_log_features_are_exact(small: Path) -> None:
    result = run(small, **SMALL_CFG)
    pd.testing.assert_frame_equal(result.customers, SMALL_EXPECTED, check_dtype=False)
    assert [(c.label, c.count) for c in result.reconciliation] == [
        ("raw rows", 17), ("outside the window", 1), ("exact duplicate rows", 1), ("missing customer id", 1),
        ("non-product codes", 1), ("zero or negative unit price", 1), ("lines used", 12)]
    assert [(c.label, c.count) for c in result.excluded_customers] == [
        ("net monetary value ≤ 0", 1), ("no purchase in window (returns only)", 1)]
    assert result.totals == pytest.approx({"active_customers": 3, "revenue": 325.0, "orders": 6,
                                           "average_order_value": 325 / 6, "lines_used": 12, "returned_value": 10.0})
    assert result.columns == LogColumns("CustomerID", "InvoiceNo", "InvoiceDate", "Quantity", "UnitPrice", None,
                                        "StockCode", None, "Country")


def test_window_selection(small: Path) -> None:
    result = run(small, as_of="2024-04-01", window="30D")
    assert (result.window_start, result.as_of) == ("2024-03-02", "2024-04-01")
    assert list(result.customers["customer_id"]) == ["100", "C-7"]
    assert result.customers["monetary"].tolist() == [40.0, 100.0]
    assert result.reconciliation[1].count == 12  # every line before 2 March, duplicates included
    assert run(small, as_of="2024-03-31", window="1M").window_start == "2024-02-29"
    assert run(small, as_of="2024-04-01", window="2Y").window_start == "2022-04-01"
    assert run(small, as_of="2024-04-01", window="4W").window_start == "2024-03-04"
    default = run(small, window="all")
    assert (default.as_of, default.window_start) == ("2024-04-01", None)  # the day after the last line


def test_rules_can_be_switched_off(small: Path) -> None:
    result = run(small, **SMALL_CFG, drop_duplicates=False, exclude_codes=[], cancel_prefix=None,
                 negative_quantity_is_return=False)
    counts = dict((c.label, c.count) for c in result.reconciliation)
    assert counts["exact duplicate rows"] == 0 and counts["non-product codes"] == 0
    row = result.customers.set_index("customer_id").loc["100"]
    # Both copies of 1002 and the postage count; the return is now a negative purchase line of invoice C1004.
    assert (row["monetary"], row["frequency"], row["return_rate"]) == (90.0 + 20 + 15, 4, 0.0)


def test_config_mapped_log_with_amount_column(tmp_path: Path) -> None:
    path = write(tmp_path, "client ref;order;when;sku;line value;shop\n"
                           "A1;O1;05/01/2024 10:00;S1;12,50;web\n"
                           "A1;O1;05/01/2024 10:00;S2;7,50;web\n"
                           "A1;O2;20/02/2024 15:30;S1;30,00;store\n"
                           "A1;R1;21/02/2024 09:00;S1;-10,00;store\n"
                           "A1;O3;10/03/2024 12:00;S3;40,00;web\n"
                           "B2;O4;01/03/2024 08:00;S1;0;web\n"
                           "B2;O5;02/03/2024 08:00;S2;15,00;store\n", "shop.txt")
    result = run(path, {"sep": ";", "decimal": ","}, customer="client ref", timestamp="when", amount="line value",
                 channel="shop", product="sku", timestamp_format="%d/%m/%Y %H:%M", cancel_prefix=None,
                 as_of="2024-04-01", window="all")
    assert result.columns == LogColumns("client ref", "order", "when", None, None, "line value", "sku", "shop", None)
    rows = result.customers.set_index("customer_id")
    assert rows.loc["A1", ["recency_days", "frequency", "monetary", "tenure_days", "channel"]].tolist() == \
        [22, 3, 80.0, 87, "web"]
    assert rows.loc["A1", "return_rate"] == pytest.approx(10 / 90)
    assert rows.loc["B2", ["recency_days", "frequency", "monetary", "channel"]].tolist() == [30, 1, 15.0, "store"]
    assert ("zero or missing amount", 1) in [(c.label, c.count) for c in result.reconciliation]
    assert "country" not in result.customers.columns


def test_parquet_input_matches_csv(small: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(small, dtype={"InvoiceNo": str, "CustomerID": str}, parse_dates=["InvoiceDate"])
    frame.to_parquet(tmp_path / "log.parquet", index=False)
    result = run(tmp_path / "log.parquet", **SMALL_CFG)
    pd.testing.assert_frame_equal(result.customers, run(small, **SMALL_CFG).customers)
    assert result.reconciliation == run(small, **SMALL_CFG).reconciliation


def test_float_customer_ids_become_integers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"InvoiceNo": ["1", "2", "3"], "InvoiceDate": pd.to_datetime(["2024-01-01"] * 3),
                          "Quantity": [1, 2, 3], "UnitPrice": [1.5, 2.0, 1.0], "CustomerID": [17850.0, np.nan, 12.0]})
    frame.to_parquet(tmp_path / "ids.parquet", index=False)
    result = run(tmp_path / "ids.parquet", window="all")
    assert result.customers["customer_id"].tolist() == ["12", "17850"]


def test_gzip_csv_and_same_result_twice(small: Path, tmp_path: Path) -> None:
    packed = tmp_path / "log.csv.gz"
    packed.write_bytes(gzip.compress(small.read_bytes()))
    first, second = run(packed, **SMALL_CFG), run(packed, **SMALL_CFG, threads=1)
    pd.testing.assert_frame_equal(first.customers, second.customers)
    pd.testing.assert_frame_equal(first.customers, SMALL_EXPECTED, check_dtype=False)


@pytest.mark.parametrize(("columns", "expected"), [
    (RETAIL_HEADER, LogColumns("CustomerID", "InvoiceNo", "InvoiceDate", "Quantity", "UnitPrice", None, "StockCode",
                               None, "Country")),
    (["Customer ID", "invoice_no", "Order Date", "QTY", "Price", "Total", "Channel"],
     LogColumns("Customer ID", "invoice_no", "Order Date", "QTY", "Price", None, None, "Channel", None)),
    (["client", "order_id", "timestamp", "Revenue"], LogColumns("client", "order_id", "timestamp", amount="Revenue")),
    (["CustomerID", "Recency", "Frequency", "Monetary"], None),
    (["customer", "invoice", "date", "quantity"], None),
])
def test_detect_log_columns(columns: list[str], expected: LogColumns | None) -> None:
    assert detect_log_columns(columns, TransactionsConfig()) == expected


def test_explicit_columns_win() -> None:
    cfg = TransactionsConfig(customer="account", timestamp="booked", amount="net")
    found = detect_log_columns(["account", "CustomerID", "InvoiceNo", "booked", "net", "Quantity", "UnitPrice"], cfg)
    assert found == LogColumns("account", "InvoiceNo", "booked", "Quantity", "UnitPrice", "net")
    assert detect_log_columns(["InvoiceNo", "booked", "net"], cfg) is None


# --- Bad input ---------------------------------------------------------------------------------------------------


def test_no_customer_or_date_column(tmp_path: Path) -> None:
    path = write(tmp_path, "who,InvoiceNo,when,Quantity,UnitPrice\n1,A,2024-01-01,1,1.0\n")
    message = error_of(path)
    assert "customer" in message and "timestamp" in message and "'who'" in message and "'when'" in message
    assert "'Client'" in error_of(path, customer="Client", timestamp="when")


def test_unparseable_timestamp(small: Path, tmp_path: Path) -> None:
    path = write(tmp_path, SMALL_LOG.replace("2024-03-15 11:00:00", "15/03/2024 11:00"), "dates.csv")
    message = error_of(path, **SMALL_CFG)
    assert "'InvoiceDate'" in message and "'15/03/2024 11:00'" in message and "timestamp_format" in message
    assert "has 17 value(s) that are not the format '%d/%m/%Y %H:%M', e.g. '20" in \
        error_of(small, timestamp_format="%d/%m/%Y %H:%M")


def test_window_without_transactions(small: Path) -> None:
    message = error_of(small, as_of="2030-01-01", window="30D")
    assert "2029-12-02 to 2030-01-01" in message and "2023-03-01 to 2024-03-31" in message
    assert "'InvoiceDate'" in message


def test_all_amounts_zero(tmp_path: Path) -> None:
    path = write(tmp_path, "InvoiceNo,InvoiceDate,Quantity,UnitPrice,CustomerID\n1,2024-01-01,1,0,7\n"
                           "2,2024-01-02,3,0,8\n")
    message = error_of(path)
    assert "zero" in message and "'Quantity' × 'UnitPrice'" in message


def test_no_lines_left(tmp_path: Path) -> None:
    path = write(tmp_path, "InvoiceNo,InvoiceDate,Quantity,UnitPrice,CustomerID\n1,2024-01-01,1,2.5,\n")
    assert "missing customer id (column 'CustomerID'): 1" in error_of(path)


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("missing.csv", None, "input file not found"),
    ("log.csv.gz", b"\x1f\x8b\x08\x00garbage", "not a valid gzip archive"),
    ("log.parquet", b"PAR1 this is not parquet PAR1", "cannot be read"),
    ("ragged.csv", b"InvoiceNo,InvoiceDate,Quantity,UnitPrice,CustomerID\n1,2024-01-01,1,2.5,7,extra,cells\n",
     "cannot be read"),
    ("book.xlsx", b"PK\x03\x04 not really", "cannot be read"),
    ("empty.csv", b"", "empty"),
])
def test_unreadable_files(tmp_path: Path, name: str, content: bytes | None, expected: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert expected in error_of(path)


def test_truncated_gzip_body(small: Path, tmp_path: Path) -> None:
    body = SMALL_LOG + "".join(f"{2000 + i},P1,mug,1,2024-01-02 10:00:00,1.0,{i},France\n" for i in range(20000))
    packed = gzip.compress(body.encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    assert "cannot be read" in error_of(path, window="all")


@pytest.mark.parametrize(("setting", "key"), [
    ({"window": "12 months"}, "transactions.window"),
    ({"as_of": "01/04/2024"}, "transactions.as_of"),
    ({"memory_limit": "lots"}, "transactions.memory_limit"),
])
def test_bad_settings(small: Path, setting: dict, key: str) -> None:
    assert key in error_of(small, ConfigError, **setting)
