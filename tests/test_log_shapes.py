"""Order logs of other shapes, recognised without a config: the shared Superstore and retail logs, checked
customer by customer against an independent pandas computation, and one log written as whitespace-aligned text,
Excel and Parquet giving the same customers.csv as its CSV."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.config import DataConfig, TransactionsConfig
from reportgen.inputs.logs.dates import detect_format
from reportgen.inputs.logs.transactions import aggregate_log, detect_log_columns, log_mapping, looks_like_log


def _run(path: Path, out: Path, *more: str) -> pd.DataFrame:
    """``reportgen run`` with no config; the customers.csv it writes."""
    result = CliRunner().invoke(main, ["run", str(path), "--window", "all", "--formats", "csv,json", "-o", str(out),
                                       *more])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "customers.csv", dtype={"customer_id": str})


def _expected(lines: pd.DataFrame, customer: str, day: pd.Series, order: pd.Series, amount: str) -> pd.DataFrame:
    """Frequency, recency and monetary the README's rules give, computed with pandas alone: exact duplicate lines
    dropped, an order is an invoice (or a customer's day), recency counts from the day after the last line."""
    kept = lines.assign(_day=day, _order=order).loc[~lines.duplicated()]
    as_of = kept["_day"].max() + pd.Timedelta(days=1)
    per = kept.groupby(customer).agg(frequency=("_order", "nunique"), last=("_day", "max"),
                                     monetary=(amount, "sum"))
    per["recency_days"] = (as_of - per["last"]).dt.days
    return per.drop(columns="last").sort_index()


def _compare(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.set_index("customer_id").sort_index()
    assert list(got.index) == list(expected.index)
    assert (got["frequency"].to_numpy() == expected["frequency"].to_numpy()).all()
    assert (got["recency_days"].to_numpy() == expected["recency_days"].to_numpy()).all()
    np.testing.assert_allclose(got["monetary"].to_numpy(), expected["monetary"].to_numpy(), rtol=0, atol=1e-6)


def test_superstore_zero_config_matches_pandas(datasets_dir: Path, tmp_path: Path) -> None:
    path = datasets_dir / "superstore.csv"
    got = _run(path, tmp_path / "out")
    lines = pd.read_csv(path, encoding="cp1252", dtype=str)
    day = pd.to_datetime(lines["Order Date"], format="%m/%d/%Y")
    lines["Sales"] = lines["Sales"].astype(float)
    expected = _expected(lines, "Customer ID", day, lines["Order ID"], "Sales")
    assert len(got) == len(expected) == 793
    _compare(got, expected)
    # Profit is kept as the margin feature, summed per customer.
    profit = lines.assign(Profit=lines["Profit"].astype(float)).groupby("Customer ID")["Profit"].sum().sort_index()
    np.testing.assert_allclose(got.set_index("customer_id").sort_index()["margin"], profit, atol=1e-6)


def test_retail_log_without_invoices_matches_pandas(datasets_dir: Path, tmp_path: Path) -> None:
    path = datasets_dir / "retail_transactions.csv"
    assert looks_like_log(path, DataConfig(), TransactionsConfig())
    got = _run(path, tmp_path / "out")
    lines = pd.read_csv(path, dtype=str)
    day = pd.to_datetime(lines["trans_date"], format="%d-%b-%y")
    lines["tran_amount"] = lines["tran_amount"].astype(float)
    # No invoice column: an order is a customer's purchases on one day.
    expected = _expected(lines, "customer_id", day, day, "tran_amount")
    assert len(got) == len(expected) == 6889
    _compare(got, expected)
    summary = (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    assert "an order is a customer's purchases on one day" in summary


def test_customer_tables_are_not_taken_for_logs(datasets_dir: Path) -> None:
    for name in ("marketing_campaign.csv", "bank_churners.csv", "shop_customer_data.csv", "Mall_Customers.csv"):
        assert not looks_like_log(datasets_dir / name, DataConfig(), TransactionsConfig()), name
    # --input customers still forces a table.
    assert not looks_like_log(datasets_dir / "retail_transactions.csv", DataConfig(input="customers"),
                              TransactionsConfig())


def test_init_says_which_column_plays_which_role(datasets_dir: Path) -> None:
    cols, reasons = log_mapping(datasets_dir / "superstore.csv", DataConfig(), TransactionsConfig())
    assert (cols.customer, cols.invoice, cols.timestamp, cols.amount, cols.margin) == (
        "Customer ID", "Order ID", "Order Date", "Sales", "Profit")
    assert any(line.startswith("amount: column 'Sales'") for line in reasons)


@pytest.fixture(scope="module")
def subset(datasets_dir: Path) -> pd.DataFrame:
    """The first 1,500 Superstore lines, as text, with the columns a log needs (names and values with spaces)."""
    lines = pd.read_csv(datasets_dir / "superstore.csv", encoding="cp1252", dtype=str, nrows=1500)
    return lines[["Order ID", "Order Date", "Customer ID", "Product ID", "Sales", "Quantity", "Profit"]]


def test_aligned_xlsx_and_parquet_copies_give_the_same_customers(subset: pd.DataFrame, tmp_path: Path) -> None:
    csv_path = tmp_path / "log.csv"
    subset.to_csv(csv_path, index=False, encoding="cp1252")
    aligned = tmp_path / "log.txt"  # fixed-width: 'Order Date' holds a space
    aligned.write_text(subset.to_string(index=False) + "\n", encoding="utf-16")
    typed = subset.assign(**{"Order Date": pd.to_datetime(subset["Order Date"], format="%m/%d/%Y"),
                             "Sales": subset["Sales"].astype(float), "Quantity": subset["Quantity"].astype(int),
                             "Profit": subset["Profit"].astype(float)})
    xlsx, parquet = tmp_path / "log.xlsx", tmp_path / "log.parquet"
    typed.to_excel(xlsx, index=False)
    typed.to_parquet(parquet, index=False)
    compact = tmp_path / "compact.txt"  # runs of spaces, no value holding a space
    compact.write_text(subset.rename(columns=lambda c: c.replace(" ", "_")).to_string(index=False), encoding="utf-8")
    reference = (_run(csv_path, tmp_path / "csv"), (tmp_path / "csv" / "customers.csv").read_bytes())
    assert len(reference[0]) == subset["Customer ID"].nunique()
    for path in (aligned, xlsx, parquet, compact):
        _run(path, tmp_path / path.name.replace(".", "_"))
        assert (tmp_path / path.name.replace(".", "_") / "customers.csv").read_bytes() == reference[1], path.name


def test_integer_dates_and_dollar_values(tmp_path: Path) -> None:
    """A CDNOW-like whitespace log: integer dates, a dollar_value amount, no invoice, a return as a negative amount."""
    path = tmp_path / "cdnow.txt"
    path.write_text("customer_id     date  cds  dollar_value\n"
                    "          1 19970101    1         11.77\n"
                    "          1 19970101    2         10.00\n"
                    "          1 19970118    2         29.33\n"
                    "          2 19970102    1         12.00\n"
                    "          2 19970302    1        -12.00\n"
                    "          2 19970402    3         40.00\n", encoding="utf-8")
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    frame = result.customers.set_index("customer_id")
    assert frame.loc["1", "frequency"] == 2 and frame.loc["1", "monetary"] == pytest.approx(51.10)
    assert frame.loc["2", "frequency"] == 2 and frame.loc["2", "monetary"] == pytest.approx(40.00)
    assert frame.loc["1", "recency_days"] == (pd.Timestamp("1997-04-03") - pd.Timestamp("1997-01-18")).days
    assert result.reconciliation[-1].detail.startswith("1 of them returns")
    assert any("YYYYMMDD" in note for note in result.notes)


@pytest.mark.parametrize(("values", "expected", "said"), [
    (["3/1/2014", "13/1/2014"], "%d/%m/%Y", "day first"),
    (["1/3/2014", "1/13/2014"], "%m/%d/%Y", "month first"),
    (["11-Feb-13", "01-Mar-12"], "%d-%b-%y", "DD-Mon-YY"),
    (["1/3/14", "2/5/14"], "%m/%d/%y", "assumed"),
    (["03.01.2014", "04.02.2014"], "%d.%m.%Y", "day first"),
    (["2014-01-03 10:00", "2014-02-01"], None, "ISO"),
])
def test_date_formats_from_the_values(values: list[str], expected: str | None, said: str) -> None:
    with duckdb.connect() as con:
        found = detect_format(con, values, "d", lambda fmt: 0)
    assert found.format == expected and said in found.note


def test_ambiguous_sample_is_decided_by_the_whole_column() -> None:
    with duckdb.connect() as con:
        found = detect_format(con, ["1/3/2014", "2/4/2014"], "d", lambda fmt: 0 if fmt == "%d/%m/%Y" else 5)
    assert found.format == "%d/%m/%Y" and "day first" in found.note


def test_semicolon_log_with_decimal_commas_in_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes("Client ID;Purchase Date;Article;Total Amount\r\n"
                     "A7;03.01.2014;Café crème;12,50\r\n"
                     "A7;15.01.2014;Thé “vert”;7,25\r\n"
                     "B2;04.02.2014;Café;1,00\r\n"
                     "B2;04.02.2014;Café;0,00\r\n".encode("cp1252"))
    assert looks_like_log(path, DataConfig(), TransactionsConfig())
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    frame = result.customers.set_index("customer_id")
    assert frame["monetary"].to_dict() == pytest.approx({"A7": 19.75, "B2": 1.0})
    assert frame["frequency"].to_dict() == {"A7": 2, "B2": 1}
    assert ("zero or missing amount", 1) in [(c.label, c.count) for c in result.reconciliation]
    assert "decimal: ','" in result.notes and "encoding: cp1252" in result.notes


@pytest.mark.parametrize(("header", "expected"), [
    (["Transaction_ID", "Date", "Customer_Name", "Product", "Total_Items", "Total_Cost"],
     {"customer": "Customer_Name", "invoice": "Transaction_ID", "timestamp": "Date", "amount": "Total_Cost"}),
    (["order_id", "customer_unique_id", "customer_id", "order_purchase_timestamp", "payment_value"],
     {"customer": "customer_unique_id", "invoice": "order_id", "timestamp": "order_purchase_timestamp",
      "amount": "payment_value"}),
    (["event_time", "event_type", "product_id", "price", "user_id"],
     {"customer": "user_id", "invoice": None, "timestamp": "event_time", "amount": "price"}),
    (["Invoice", "StockCode", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"],
     {"customer": "Customer ID", "invoice": "Invoice", "timestamp": "InvoiceDate", "quantity": "Quantity",
      "unit_price": "Price", "amount": None}),
    (["custId", "txnDate", "shipDate", "netSales", "grossProfit"],
     {"customer": "custId", "timestamp": "txnDate", "amount": "netSales", "margin": "grossProfit"}),
])
def test_log_columns_of_common_exports(header: list[str], expected: dict[str, str | None]) -> None:
    cols = detect_log_columns(header, TransactionsConfig())
    assert cols is not None
    assert {role: getattr(cols, role) for role in expected} == expected


def test_amounts_with_currency_signs_and_thousands(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text('order_no,customer_id,order_date,order_total\n'
                    '1,A,2024-01-02,"$1,234.50"\n'
                    '2,A,2024-01-09,$10.00\n'
                    '3,B,2024-01-03,"$2,000.00"\n'
                    '4,B,2024-01-05,($500.00)\n', encoding="utf-8")
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    frame = result.customers.set_index("customer_id")
    assert frame["monetary"].to_dict() == pytest.approx({"A": 1244.5, "B": 1500.0})
    assert frame["frequency"].to_dict() == {"A": 2, "B": 1}


def test_cdnow_like_log_without_header(tmp_path: Path) -> None:
    """The CDNOW layout: no header line, id, YYYYMMDD date, number of items, dollar value, aligned by spaces."""
    path = tmp_path / "CDNOW_sample.txt"
    path.write_text("00001 19970101  1  11.77\n"
                    "00002 19970112  1  12.00\n"
                    "00002 19970112  5  77.00\n"
                    "00003 19970102  2  20.76\n"
                    "00003 19970330  2  20.76\n"
                    "00003 19970402  2  19.54\n", encoding="utf-8")
    assert looks_like_log(path, DataConfig(), TransactionsConfig())
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    frame = result.customers.set_index("customer_id")
    assert list(frame.index) == ["00001", "00002", "00003"]
    assert frame["frequency"].tolist() == [1, 1, 3]
    assert frame["monetary"].tolist() == pytest.approx([11.77, 89.0, 61.06])
    assert result.reconciliation[0].count == 6


def test_day_and_month_decided_beyond_the_sample(tmp_path: Path) -> None:
    """The first 64 KB leave day and month open; a line further on (25/01/2014) can only be day first."""
    rows = [f"C{i % 500:04d},{1 + i % 12:02d}/{1 + i % 12:02d}/2014,{10 + i % 7}.50" for i in range(6000)]
    path = tmp_path / "log.csv"
    path.write_text("customer,date,amount\n" + "\n".join([*rows, "C0001,25/01/2014,99.00"]) + "\n", encoding="utf-8")
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    assert any("read as D/M/YYYY (%d/%m/%Y), day first" in note for note in result.notes)
    assert result.as_of == "2014-12-13"
    assert result.reconciliation[-1].count == 6001


def test_legacy_byte_after_the_sample(tmp_path: Path) -> None:
    """UTF-8 guessed from the first 64 KB, a cp1252 byte further on: the log is read again as cp1252."""
    rows = [f"C{i % 300:03d},2014-01-{1 + i % 28:02d},{5 + i % 9}.25,plain" for i in range(4000)]
    path = tmp_path / "log.csv"
    path.write_bytes(("customer_id,order_date,sales,note\n" + "\n".join(rows)).encode("utf-8")
                     + "\nC001,2014-02-01,3.00,café\n".encode("cp1252"))
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    assert "encoding: cp1252" in result.notes
    assert result.reconciliation[-1].count == 4001
    days = {1 + i % 28 for i in range(4000) if i % 300 == 1}
    assert result.customers.set_index("customer_id").loc["C001", "frequency"] == len(days) + 1


def test_utf8_bom_log_is_read_in_place(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("\ufeffcustomer_id,order_date,sales\nA,2014-01-02,2.5\nA,2014-01-03,1\nB,2014-01-02,4\n",
                    encoding="utf-8")
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    assert result.customers["monetary"].tolist() == [3.5, 4.0]
    assert not any("UTF-8 copy" in note for note in result.notes)


def test_parquet_log_with_integer_dates(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pd.DataFrame({"user_id": [7, 7, 8], "day": [19970101, 19970201, 19970105],
                  "payment_value": [10.0, -4.0, 3.5]}).to_parquet(path, index=False)
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    frame = result.customers.set_index("customer_id")
    assert frame["monetary"].to_dict() == pytest.approx({"7": 6.0, "8": 3.5})
    assert frame.loc["7", "recency_days"] == 32 and result.as_of == "1997-02-02"  # the 1 February line is a return
    assert any("YYYYMMDD" in note for note in result.notes)


def test_cancellation_prefix_followed_by_a_letter_is_an_order(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("Order ID,Customer ID,Order Date,Sales\nCA-2016-1,A,2016-01-01,10\nCA-2016-2,A,2016-01-05,5\n"
                    "C12,A,2016-01-06,3\n", encoding="utf-8")
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    assert result.customers[["frequency", "monetary"]].to_numpy().tolist() == [[2, 12.0]]
    assert result.reconciliation[-1].detail == "1 of them returns, netted against purchases"


@pytest.mark.parametrize("text", [
    # psql: pipes, a rule line under the header, a row count at the end
    " customer_id | order_date | amount \n-------------+------------+--------\n A           | 2024-01-02 |  10.50\n"
    " A           | 2024-01-09 |   4.50\n B           | 2024-01-03 |   7.00\n(3 rows)\n",
    # a whitespace-aligned report with dashes under the names
    "customer_id  order_date  amount\n-----------  ----------  ------\nA            2024-01-02   10.50\n"
    "A            2024-01-09    4.50\nB            2024-01-03    7.00\n",
])
def test_tables_printed_by_sql_clients(tmp_path: Path, text: str) -> None:
    path = tmp_path / "export.txt"
    path.write_text(text, encoding="utf-8")
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    assert result.customers["monetary"].tolist() == pytest.approx([15.0, 7.0])
    assert result.reconciliation[0].count == 3


def test_german_export(tmp_path: Path) -> None:
    path = tmp_path / "umsatz.csv"
    path.write_bytes("Kundennummer;Rechnungsdatum;Belegnummer;Betrag\n"
                     "K1;03.01.2014;1;12,50\nK1;15.01.2014;2;7,25\nK2;04.02.2014;3;1,00\n".encode("cp1252"))
    cols, _ = log_mapping(path, DataConfig(), TransactionsConfig())
    assert (cols.customer, cols.timestamp, cols.invoice, cols.amount) == (
        "Kundennummer", "Rechnungsdatum", "Belegnummer", "Betrag")
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    assert result.customers["monetary"].tolist() == pytest.approx([19.75, 1.0])


def test_aligned_log_with_a_legacy_byte_after_the_sample(tmp_path: Path) -> None:
    rows = [f"C{i % 300:03d}   2014-01-{1 + i % 28:02d}   {5 + i % 9}.25" for i in range(4000)]
    path = tmp_path / "log.txt"
    path.write_bytes(("customer   order_date   sales\n" + "\n".join(rows)).encode("utf-8")
                     + "\nCé01   2014-02-01   3.00\n".encode("cp1252"))
    result = aggregate_log(path, DataConfig(), TransactionsConfig(window="all"))
    assert "encoding: cp1252" in result.notes and "Cé01" in set(result.customers["customer_id"])
