"""Bad and awkward input files through the command line, as an unattended monthly run meets them.

Each case generates its file, runs ``reportgen run`` on it over a folder a previous good run wrote, and checks
one of two outcomes: a one-line error naming the problem with exit code 1 and the previous outputs untouched,
or (when cleaning can rescue the data) a normal run whose summary.json says what was dropped or changed.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import weakref
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from reportgen import memory
from reportgen.cli import main
from reportgen.config import DataConfig
from reportgen.inputs.files import read_table
from reportgen.prepare import features
from reportgen.resources import sample_data_dir

Made = tuple[Path, list[str]]
Maker = Callable[[Path], Made]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def invoke(path: Path, out: Path, *extra: str) -> object:
    return CliRunner().invoke(main, ["run", str(path), "-o", str(out), "--formats", "json,csv", "-q", *extra])


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good run's output folder, which a failing run must leave byte for byte as it was."""
    folder = tmp_path_factory.mktemp("previous")
    source = folder / "customers.csv"
    shutil.copyfile(sample_data_dir() / "customers.csv", source)
    # A fixed K keeps the reference run quick; the K search is not what these tests are about.
    result = invoke(source, folder / "out", "--k", "4")
    assert result.exit_code == 0, result.output
    return folder / "out"


def report_text(summary: dict) -> str:
    """What summary.json says about the data, one fact a line: rows, exclusions, cleaning actions, columns
    (kind, [role] and the reason an ignored one was left out)."""
    data = summary["data"]
    lines = [f"rows read {data['rows_read']}, segmented {data['rows_segmented']}, k {len(summary['segments'])}"]
    lines += [f"excluded {c['count']} {c['label']} ({c['detail']})" for c in data["exclusions"]]
    lines += [f"{a['column']}: {a['action']} x{a['count']} ({a['detail']})" for a in data["actions"]]
    lines += [f"column {c['name']} {c['kind']}" + (f" [{c['role']}]" if c["role"] else "")
              + (f": {c['reason']}" if c["reason"] else "") for c in data["columns"]]
    return "\n".join(lines)


# --- file makers -------------------------------------------------------------------------------------------------


def customers(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """A small, well-behaved customer table with two clear groups."""
    rng = np.random.default_rng(seed)
    big = np.arange(n) % 2 == 0
    return pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(1, n + 1)],
        "spend": np.where(big, rng.normal(2000, 150, n), rng.normal(300, 50, n)).round(2),
        "orders": np.where(big, rng.integers(20, 30, n), rng.integers(1, 6, n)),
        "web_visits": rng.integers(0, 15, n),
        "region": rng.choice(["North", "South", "East"], n),
    })


def text_file(name: str, content: str | bytes, *extra: str, encoding: str = "utf-8") -> Maker:
    def make(tmp_path: Path) -> Made:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path, list(extra)
    return make


def frame_file(frame: pd.DataFrame | Callable[[], pd.DataFrame], name: str = "data.csv", *extra: str,
               encoding: str = "utf-8") -> Maker:
    def make(tmp_path: Path) -> Made:
        table = frame() if callable(frame) else frame
        path = tmp_path / name
        path.write_bytes(table.to_csv(index=False).encode(encoding))
        return path, list(extra)
    return make


def write_config(tmp_path: Path, toml: str) -> Path:
    config = tmp_path / "reportgen.toml"
    config.write_text(toml, encoding="utf-8")
    return config


def with_config(maker: Maker, toml: str) -> Maker:
    def make(tmp_path: Path) -> Made:
        path, extra = maker(tmp_path)
        return path, [*extra, "-c", str(write_config(tmp_path, toml))]
    return make


def rows_of(n: int) -> str:
    return customers(n).to_csv(index=False)


def identical_rows() -> pd.DataFrame:
    return pd.DataFrame({"spend": [120.5] * 20, "orders": [3] * 20, "region": ["North"] * 20})


def all_nan_column() -> pd.DataFrame:
    return customers().assign(loyalty_score=np.nan)


def constant_columns() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(30)], "plan": ["basic"] * 30,
                         "country": ["FR"] * 30, "active": [1] * 30})


def text_only() -> pd.DataFrame:
    n = 30
    return pd.DataFrame({"name": [f"Customer {i}" for i in range(n)], "email": [f"c{i}@example.com" for i in range(n)],
                         "comment": [f"called on day {i}, wants a callback" for i in range(n)]})


def duplicate_ids() -> pd.DataFrame:
    table = customers()
    return pd.concat([table, table.iloc[:3]], ignore_index=True)


def missing_ids() -> pd.DataFrame:
    table = customers(30)
    table.loc[[2, 5], "customer_id"] = None
    return table


def long_ids_one_missing() -> pd.DataFrame:
    """17-digit ids (beyond what a float holds) with one blank: read as floats they collided."""
    table = customers(30)
    table["customer_id"] = [str(12_345_678_901_234_567 + 3 * i) for i in range(30)]
    table.loc[4, "customer_id"] = None
    return table


def ragged() -> str:
    lines = rows_of(30).splitlines()
    lines[6] += ",unexpected"
    return "\n".join(lines) + "\n"


def placeholder_dates() -> pd.DataFrame:
    born = ["1975-03-01", "1988-11-12", "1969-07-30"] * 10
    born[4], born[9] = "9999-12-31", "0001-01-01"
    seen = pd.date_range("2025-01-01", periods=30, freq="3D").strftime("%Y-%m-%d")
    return customers(30).assign(born=born, seen=seen)


def tz_parquet(tmp_path: Path) -> Made:
    path = tmp_path / "customers.parquet"
    customers(30).assign(last_login=pd.date_range("2025-01-01", periods=30, freq="D", tz="Europe/Paris"),
                         signup=pd.date_range("2020-01-01", periods=30, freq="W")).to_parquet(path)
    return path, ["-c", str(write_config(tmp_path, '[data]\nreference_date = "2025-06-30"\n'))]


def excel_first_sheet_empty(tmp_path: Path) -> Made:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame().to_excel(writer, sheet_name="cover")
        customers(30).to_excel(writer, sheet_name="data", index=False)
    return path, []


def few_distinct() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(10)], "spend": [10.0, 500.0] * 5,
                         "orders": [1, 9] * 5})


NON_ASCII = customers(30).assign(
    city=["Zürich", "Málaga", "Åre"] * 10,
    name=[f"José Müller Ñoño {i}" for i in range(30)],
).rename(columns={"region": "Région"})


def cp1252_table() -> pd.DataFrame:
    return customers(30).assign(segment_hint=["Café “premium”", "Öko – basic", "€ saver"] * 10)


def quoted_newlines() -> str:
    table = customers(30).assign(note=[f"first line {i}\nsecond line, with a comma" for i in range(30)])
    return table.to_csv(index=False)


def formatted_numbers() -> str:
    table = customers(30)
    lines = ["customer_id,spend,price,discount,orders"]
    for i, row in table.iterrows():
        spend = "N/A" if i == 3 else "-" if i == 7 else f'"{row.spend:,.2f}"'
        lines.append(f"{row.customer_id},{spend},${5 + i % 7},{10 + i % 5}%,{row.orders}")
    return "\n".join(lines) + "\n"


def infinities() -> str:
    text = rows_of(30).splitlines()
    text[3] = text[3].replace(text[3].split(",")[1], "inf", 1)
    text[8] = text[8].replace(text[8].split(",")[1], "-inf", 1)
    return "\n".join(text) + "\n"


def huge_values() -> pd.DataFrame:
    table = customers(30)
    table.loc[:11, "spend"] = 1e308  # enough of them that the IQR fences themselves overflow
    table["lifetime_value"] = [1e308, -1e308] * 15
    return table


def negative_spend() -> pd.DataFrame:
    table = customers(30)
    table.loc[::4, "spend"] = -table.loc[::4, "spend"]
    return table


def dates() -> pd.DataFrame:
    n = 30
    days = pd.date_range("2023-01-01", periods=n, freq="9D")
    signup = days.strftime("%Y-%m-%d").tolist()
    signup[5] = "2023-02-30"
    mixed = [d.strftime(["%Y-%m-%d", "%d/%m/%Y", "%b %d %Y"][i % 3]) for i, d in enumerate(days)]
    return customers(n).assign(signup=signup, last_order=days.strftime("%d.%m.%Y"), first_contact=mixed)


def excel_sheets(tmp_path: Path) -> Made:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        customers(30).to_excel(writer, sheet_name="customers", index=False)
        pd.DataFrame({"note": ["exported monthly"]}).to_excel(writer, sheet_name="about", index=False)
        customers(12, seed=3).to_excel(writer, sheet_name="old", index=False)
    return path, []


def excel_empty_header(tmp_path: Path) -> Made:
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    table = customers(20)
    for col in range(1, table.shape[1] + 1):
        sheet.cell(row=1, column=col).value = ""  # a header row that exists but holds nothing
    for r, row in enumerate(table.itertuples(index=False), start=2):
        for c, value in enumerate(row, start=1):
            sheet.cell(row=r, column=c).value = value.item() if hasattr(value, "item") else value
    book.save(path)
    return path, []


def truncated_gzip(tmp_path: Path) -> Made:
    path = tmp_path / "customers.csv.gz"
    packed = gzip.compress(rows_of(400).encode())
    path.write_bytes(packed[: len(packed) // 2])
    return path, []


def nested_parquet(tmp_path: Path) -> Made:
    path = tmp_path / "nested.parquet"
    table = pa.table({"orders": [[1, 2], [3], []], "address": [{"city": "Paris", "zip": "75001"}] * 3})
    pq.write_table(table, path)
    return path, []


def binary_csv(tmp_path: Path) -> Made:
    path = tmp_path / "export.csv"
    rng = random.Random(0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(4096)))
    return path, []


def excel_two_row_header(tmp_path: Path) -> Made:
    """Group labels merged over the columns they head, and the column names in a second header row."""
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Customer", None, "Purchases", None, None])
    sheet.append(["customer_id", "region", "spend", "orders", "web_visits"])
    for row in customers(30)[["customer_id", "region", "spend", "orders", "web_visits"]].itertuples(index=False):
        sheet.append([value.item() if hasattr(value, "item") else value for value in row])
    sheet.merge_cells("A1:B1")
    sheet.merge_cells("C1:E1")
    book.save(path)
    return path, []


def excel_merged_name(tmp_path: Path) -> Made:
    """One header row in which a name is merged over two columns: the second one has no name of its own."""
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["customer_id", "spend", None, "orders"])
    for row in customers(30).itertuples(index=False):
        sheet.append([row.customer_id, float(row.spend), float(row.spend) / 10, int(row.orders)])
    sheet.merge_cells("B1:C1")
    book.save(path)
    return path, []


def _workbook_with_sheet(path: Path, sheet_xml: bytes) -> Path:
    """An .xlsx whose first sheet's XML is replaced by ``sheet_xml``."""
    book = openpyxl.Workbook()
    book.active.append(["customer_id", "spend"])
    book.save(path)
    original = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item.filename, sheet_xml if item.filename == "xl/worksheets/sheet1.xml"
                         else source.read(item.filename))
    return path


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i + 1} "{("&lol" + str(i or "") + ";") * 10}">' for i in range(9)) + "]>")
SHEET = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def excel_billion_laughs(tmp_path: Path) -> Made:
    xml = (LAUGHS + SHEET + '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
           "</sheetData></worksheet>")
    return _workbook_with_sheet(tmp_path / "book.xlsx", xml.encode()), []


def partly_nested_parquet(tmp_path: Path) -> Made:
    path = tmp_path / "customers.parquet"
    table = pa.Table.from_pandas(customers(30), preserve_index=False)
    table = table.append_column("tags", pa.array([["new", "web"], [], None] * 10))
    pq.write_table(table.append_column("address", pa.array([{"city": "Lyon", "zip": "69001"}] * 30)), path)
    return path, []


def blank_rows() -> str:
    return rows_of(30).replace("\n", "\n,,,,\n", 5)


def wide() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    values = rng.normal(size=(60, 500)) + np.repeat([[0.0], [3.0]], 30, axis=0)
    return pd.DataFrame(values.round(4), columns=[f"m{i:03d}" for i in range(500)])


def many_levels() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 60_000
    levels = np.concatenate([np.arange(50_000), rng.integers(0, 50_000, n - 50_000)])
    return pd.DataFrame({"store": [f"S-{x:05d}" for x in levels], "spend": rng.gamma(2.0, 300.0, n).round(2),
                         "orders": rng.integers(1, 40, n), "web_visits": rng.integers(0, 20, n)})


LONG_NAME = "monthly_average_basket_value_" + "x" * 271
ODD_NAMES = customers(30).rename(columns={"spend": "الإنفاق_الشهري", "orders": "הזמנות", "web_visits": LONG_NAME,
                                          "region": "地域 🌏"})
SCRIPT = "<script>alert(1)</script>"

def rules_file(action: str = "Act on {{ segment }}.", when: str = "size > 0") -> Maker:
    """The small table with a rules file holding one rule (its action and condition as given)."""
    rule = (f'[[rule]]\nid = "hostile"\ntitle = "Hostile rule"\naction = {json.dumps(action)}\n'
            f'rationale = "r"\npriority = 1\nwhen = {json.dumps(when)}\n')

    def make(tmp_path: Path) -> Made:
        (tmp_path / "rules.toml").write_text(rule, encoding="utf-8")
        return with_config(frame_file(customers(30)), '[rules]\nfile = "rules.toml"\n')(tmp_path)
    return make


def derived(expression: str) -> Maker:
    return with_config(frame_file(customers(30)), f"[features.derived]\nX = {json.dumps(expression)}\n")


ACTION_FAILS = "rules.toml: rule 'hostile': 'action' fails to render with sample values ("
DUPLICATE_ERROR = '[data]\nduplicate_ids = "error"\nid_column = "customer_id"\n'

CASES: list[tuple[str, Maker, int, str]] = [
    ("empty-file", text_file("data.csv", b""), 1, "the file is empty"),
    ("blank-lines-only", text_file("data.csv", "\n\n  \n"), 1, "the file is empty"),
    ("header-only", text_file("data.csv", "customer_id,spend,orders\n"), 1, "has a header but no data rows"),
    ("single-customer", text_file("data.csv", rows_of(1)), 1,
     "data.csv: only 1 customer row(s); at least 3 are needed"),
    ("two-customers", text_file("data.csv", rows_of(2)), 1, "data.csv: only 2 customer row(s)"),
    ("too-few-after-cleaning", with_config(frame_file(customers(4).assign(customer_id=["C1", None, None, "C4"])),
                                           '[data]\nid_column = "customer_id"\n'), 1,
     "data.csv: only 2 customer row(s) left after cleaning (2 missing customer id); at least 3 are needed"),
    ("fewer-than-k", text_file("data.csv", rows_of(3), "--k", "5"), 1,
     "segmentation.k = 5 is larger than the number of customers (3)"),
    ("k-above-distinct", frame_file(few_distinct, "data.csv", "--k", "4"), 1,
     "segmentation.k = 4 is larger than the number of distinct customers (2 different feature profiles"),
    ("identical-rows", frame_file(identical_rows), 1, "no usable feature column (spend: constant (always 120.5)"),
    ("all-nan-column", frame_file(all_nan_column), 0, "ran: column loyalty_score ignored: all values missing"),
    ("constant-columns", frame_file(constant_columns), 1, "no usable feature column (plan: constant"),
    ("text-only", frame_file(text_only), 1, "no usable feature column (name: near-unique text"),
    ("duplicate-ids-keep-first", frame_file(duplicate_ids), 0,
     "ran: excluded 3 duplicate customer id (kept the first row of each id in 'customer_id')"),
    ("duplicate-ids-error", with_config(frame_file(duplicate_ids), DUPLICATE_ERROR), 1,
     "column 'customer_id' has 3 repeated customer ids"),
    ("missing-ids", frame_file(missing_ids), 0,
     "ran: rows read 30, segmented 28 | excluded 2 missing customer id (column 'customer_id')"),
    ("long-ids-one-missing", frame_file(long_ids_one_missing), 0,
     "ran: rows read 30, segmented 29 | excluded 1 missing customer id (column 'customer_id') | column customer_id id"),
    ("blank-rows", text_file("data.csv", blank_rows()), 0,
     "ran: rows read 35, segmented 30 | excluded 5 empty row (every cell blank) | column customer_id id"),
    ("only-an-id-column", frame_file(customers()[["customer_id"]]), 1,
     "data.csv: no usable feature column (the only column is the id 'customer_id')"),
    ("all-ids-missing", frame_file(customers(30).assign(customer_id=None)), 0,
     "ran: rows read 30, segmented 30 | column customer_id ignored: all values missing"),
    ("wrong-delimiter", with_config(text_file("data.csv", rows_of(30).replace(",", ";")), '[data]\nsep = ","\n'), 1,
     "data.sep = ',' does not occur in the header"),
    ("tab-separated-named-csv", text_file("data.csv", customers(30).to_csv(index=False, sep="\t")), 0,
     "ran: column customer_id id | column spend numeric [monetary] | column region categorical"),
    ("semicolon-decimal-comma", text_file("data.csv", customers(30).to_csv(index=False, sep=";", decimal=",")), 0,
     "ran: column spend numeric [monetary] | column region categorical"),
    ("trailing-separator", text_file("data.csv", "".join(line + ",\n" for line in rows_of(30).splitlines())), 0,
     "ran: column column_6 ignored: all values missing"),
    ("extra-field-on-every-row", text_file("data.csv", "\n".join(
        line if i == 0 else line + ",x" for i, line in enumerate(rows_of(30).splitlines())) + "\n"), 1,
     "data.csv: cannot be read (Expected 5 fields in line 2, saw 6)"),
    ("plain-text-named-gz", text_file("customers.csv.gz", rows_of(30)), 1, "not a valid gzip archive"),
    ("latin-1", frame_file(NON_ASCII, "data.csv", encoding="latin-1"), 0,
     "ran: column Région categorical | column name ignored: near-unique text"),
    ("cp1252", frame_file(cp1252_table, "data.csv", encoding="cp1252"), 0, "ran: column segment_hint categorical"),
    ("utf-16-bom", frame_file(NON_ASCII, "data.csv", encoding="utf-16"), 0, "ran: column Région categorical"),
    ("utf-16-no-bom", frame_file(NON_ASCII, "data.csv", encoding="utf-16-le"), 0,
     "ran: column Région categorical"),
    ("encoding-configured-wrong", with_config(frame_file(cp1252_table, "data.csv", encoding="cp1252"),
                                              '[data]\nencoding = "utf-8"\n'), 1,
     "data.csv: line 2 (byte 0xe9): cannot be decoded as utf-8; check data.encoding"),
    ("encoding-unknown", with_config(frame_file(customers(30)), '[data]\nencoding = "klingon"\n'), 1,
     "data.csv: cannot be read (unknown encoding: klingon); set data.encoding to one such as utf-8, cp1252"),
    ("utf-8-bom", frame_file(NON_ASCII, "data.csv", encoding="utf-8-sig"), 0,
     "ran: column customer_id id | column Région categorical"),
    ("quoted-newlines", text_file("data.csv", quoted_newlines()), 0,
     "ran: rows read 30, segmented 30 | column note ignored: near-unique text"),
    ("cr-line-endings", text_file("data.csv", rows_of(30).replace("\n", "\r")), 0,
     "ran: rows read 30, segmented 30 | column customer_id id"),
    ("ragged-row", text_file("data.csv", ragged()), 1, "cannot be read (Expected 5 fields in line 7, saw 6)"),
    ("wrapped-header", text_file("data.csv", rows_of(30).replace("spend", '"Annual\nspend"', 1)), 0,
     "ran: column Annual spend numeric"),
    ("formatted-numbers", text_file("data.csv", formatted_numbers()), 0,
     "ran: spend: missing → median x2 | column price numeric | column discount numeric"),
    ("infinities", text_file("data.csv", infinities()), 0, "ran: spend: infinite value → missing x2"),
    ("huge-values", frame_file(huge_values), 0,
     "ran: spend: value too large → missing x12 | lifetime_value: value too large → missing x30"
     " | column lifetime_value ignored: all values missing after cleaning"),
    # Negative spend is a net refund, not an error: the customers stay and spend keeps its monetary role.
    ("negative-spend", frame_file(negative_spend), 0,
     "ran: rows read 30, segmented 30 | column spend numeric [monetary]"),
    ("dates", frame_file(dates), 0,
     "ran: signup: unparseable date → missing x1 | column last_order date | column first_contact ignored"),
    ("date-format-changed", with_config(frame_file(dates), '[data.date_formats]\nsignup = "%d/%m/%Y"\n'), 1,
     "Config value 'data.date_formats.signup': '%d/%m/%Y' does not parse 30 of the 30 values (e.g. '2023-01-01')"),
    ("date-format-invalid", with_config(frame_file(dates), '[data.date_formats]\nsignup = "%Y-%Q"\n'), 1,
     "Config value 'data.date_formats.signup': not a date format ('Q' is a bad directive in format '%Y-%Q') but "
     "received '%Y-%Q'"),
    ("date-format-for-a-missing-column", with_config(frame_file(dates), '[data.date_formats]\nsignupp = "%Y"\n'), 1,
     "Config value 'data.date_formats.signupp': column 'signupp' named in the config is not in the data (did you "
     "mean 'signup'?)"),
    ("placeholder-dates", frame_file(placeholder_dates), 0,
     "ran: born: implausible date → missing x2 (outside 1800 to 2200) | column seen date"),
    ("tz-aware-parquet", tz_parquet, 0, "ran: column last_login date | column signup date"),
    ("excel-sheets", excel_sheets, 0, "ran: rows read 30, segmented 30"),
    ("excel-sheet-by-name", with_config(excel_sheets, '[data]\nsheet = "old"\n'), 0, "ran: rows read 12, segmented 12"),
    ("excel-unknown-sheet", with_config(excel_sheets, '[data]\nsheet = "Q4"\n'), 1,
     "book.xlsx: no sheet 'Q4' (sheets: 'customers', 'about', 'old')"),
    ("excel-merged-header", excel_two_row_header, 0,
     "ran: rows read 30, segmented 30 | column customer_id id | column region categorical | column spend numeric"
     " [monetary] | column orders numeric [frequency] | column web_visits numeric [web_visits]"),
    # The unnamed column holds spend / 10: named column_3, then left out as a near-duplicate of spend.
    ("excel-merged-name", excel_merged_name, 0,
     "ran: column spend numeric [monetary] | column column_3 ignored: near-duplicate: moves in step with Spend"),
    ("excel-billion-laughs", excel_billion_laughs, 1,
     "book.xlsx: not a readable workbook (its XML cannot be parsed: limit on input amplification factor (from DTD "
     "and entities) breached"),
    ("csv-named-xlsx", text_file("book.xlsx", rows_of(30)), 1, "book.xlsx: cannot be read (File is not a zip file)"),
    ("empty-xlsx", text_file("book.xlsx", b""), 1, "book.xlsx: the file is empty"),
    ("excel-empty-header", excel_empty_header, 1, "has an empty header row"),
    ("excel-first-sheet-empty", excel_first_sheet_empty, 1,
     "sheet 'cover' is empty; set data.sheet to one of 'cover', 'data'"),
    ("truncated-gzip", truncated_gzip, 1, "not a valid gzip archive"),
    ("nested-parquet", nested_parquet, 1, "no readable columns (nested columns are not supported)"),
    ("partly-nested-parquet", partly_nested_parquet, 0,
     "ran: rows read 30, segmented 30 | tags: column not read x30 (nested type list<element: string> is not "
     "supported) | address: column not read x30 (nested type struct<city: string, zip: string>"),
    ("binary-as-csv", binary_csv, 1, "not a readable table (binary content)"),
    ("nul-byte-in-a-cell", text_file("data.csv", rows_of(30).replace("North", "No\x00rth", 1)), 0,
     "ran: rows read 30, segmented 30 | column region categorical"),
    ("numbers-as-column-names", frame_file(customers(30).rename(columns={"spend": "2024", "orders": "2025"})), 0,
     "ran: column 2024 numeric | column 2025 numeric"),
    ("500-columns", frame_file(wide), 0, "ran: rows read 60, segmented 60 | column m499 numeric"),
    ("50k-levels", frame_file(many_levels, "data.csv", "--k", "3"), 0,
     "ran: column store ignored: too many categories (50,000 > max_categories 20)"),
    ("odd-column-names", frame_file(ODD_NAMES), 0,
     f"ran: column الإنفاق_الشهري numeric | column הזמנות numeric | column {LONG_NAME} numeric | column 地域 🌏"),
    ("rule-action-huge-power", rules_file("{{ (((9**99)**99)**99)**99 }}"), 1,
     ACTION_FAILS + "'2951266543065275214875348022619773631435927251704383288606388463767694343347802033270941100"
     "4889 ** 99' would be an integer of more than 4096 bits)"),
    ("rule-action-nested-loops", rules_file(
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"), 1,
     ACTION_FAILS + "ran more than 100,000 loop iterations)"),
    ("rule-action-lipsum", rules_file("{{ lipsum(1000000) }}"), 1,
     ACTION_FAILS + "lipsum of more than 10,000 words is not allowed)"),
    ("rule-action-format-width", rules_file("{{ '%999999999d'|format(1) }}"), 1,
     ACTION_FAILS + "format widths and precisions above 1000 (or given as '*') are not allowed)"),
    ("rule-action-format-missing-argument", rules_file("{{ '{0}'.format() }}"), 1,
     ACTION_FAILS + "tuple index out of range)"),
    ("rule-action-pop-empty", rules_file("{{ [].pop() }}"), 1, ACTION_FAILS + "pop from empty list)"),
    ("rule-action-self-calling-macro", rules_file("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"), 1,
     "rules.toml: rule 'hostile': 'action' fails to render with sample values (it calls itself without end)"),
    ("rule-action-bad-codec", rules_file("{{ 'x'.encode('rot13') }}"), 1,
     ACTION_FAILS + "'rot13' is not a text encoding"),
    ("rule-when-format-on-text", rules_file(when="'%999999999d' % size + '%999999999d' % size == 'x'"), 1,
     "rules.toml: rule 'hostile': 'when' is invalid: arithmetic on text is not allowed"),
    ("derived-power-tower", derived("10**10**10"), 1,
     "Config value 'features.derived.X': exponent 1e+10 is larger than 100 but received '10**10**10'"),
    ("derived-400-digit-literal", derived("1" * 400), 1,
     "Config value 'features.derived.X': the number 111111111111… (400 digits) is too large"),
    ("script-column-name", frame_file(customers(30).rename(columns={"orders": SCRIPT})), 0,
     f"ran: column {SCRIPT} numeric"),
]


@pytest.mark.parametrize(("case", "make", "code", "expected"), CASES, ids=[case[0] for case in CASES])
def test_bad_input(case: str, make: Maker, code: int, expected: str, tmp_path: Path, previous_run: Path) -> None:
    path, extra = make(tmp_path)
    out = tmp_path / "out"
    shutil.copytree(previous_run, out)
    before = snapshot(out)

    result = invoke(path, out, *extra)

    output = result.output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == code, output
    assert not list(tmp_path.glob(".out.tmp-*")) and not list(tmp_path.glob(".out.old-*"))
    if code:
        assert output.count("\n") == 1 and output.startswith("Error: "), output
        assert expected in output, output
        assert snapshot(out) == before
    else:
        assert expected.startswith("ran: ") and output == "", output
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["run"]["input_name"] == path.name
        report = report_text(summary)
        for fragment in expected.removeprefix("ran: ").split(" | "):
            assert fragment in report, report


# --- too large for the memory available ----------------------------------------------------------------------------


def small_numbers_csv(path: Path, rows: int) -> Path:
    """A CSV that grows about sevenfold in memory: two one-digit numbers and eight empty cells a row."""
    block = "".join(f"{i % 10},{(i * 7) % 10},,,,,,,,\n" for i in range(10_000))
    with path.open("w", encoding="utf-8") as handle:
        handle.write("a,b,c,d,e,f,g,h,i,j\n")
        for _ in range(rows // 10_000):
            handle.write(block)
    return path


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the process's mappings from /proc")
def test_file_too_large_for_a_real_memory_limit(tmp_path: Path, previous_run: Path) -> None:
    """Under a real address-space limit the run stops with one line before reading the file, and is not killed."""
    limit = 2_500_000_000
    path = small_numbers_csv(tmp_path / "big.csv", 5_000_000)  # 60 MB; its run needs more than the whole limit
    out = tmp_path / "out"
    shutil.copytree(previous_run, out)
    before = snapshot(out)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env.pop("REPORTGEN_MEMORY_LIMIT", None)
    # The limit is set first thing in the child (as `ulimit -v` would), not in a preexec_fn forked from pytest.
    start = (f"import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
             "sys.argv[0] = 'reportgen'; runpy.run_module('reportgen', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", start, "run", str(path), "-o", str(out), "--formats", "json,csv",
                           "-q"], capture_output=True, text=True, env=env, timeout=120, check=False)

    assert proc.returncode == 1, proc.stderr  # a kill would be negative (or 137 through a shell)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"Error: {path}: too large for the memory available: the 60 MB file (about "), \
        proc.stderr
    assert "the address-space limit (RLIMIT_AS) of 2.5 GB leaves " in proc.stderr
    assert "keep only the columns to segment on, split or sample the rows, or raise the limit" in proc.stderr
    assert snapshot(out) == before


def test_memory_limit_from_the_environment(tmp_path: Path, previous_run: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = frame_file(customers(30))(tmp_path)
    out = tmp_path / "out"
    shutil.copytree(previous_run, out)
    before = snapshot(out)
    monkeypatch.setenv("REPORTGEN_MEMORY_LIMIT", "1MB")
    result = invoke(path, out)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}: too large for the memory available: the ")
    assert "but REPORTGEN_MEMORY_LIMIT=1MB leaves 0 bytes; keep only the columns" in result.output
    monkeypatch.setenv("REPORTGEN_MEMORY_LIMIT", "lots")
    result = invoke(path, out)
    assert result.exit_code == 1
    assert result.output == ("Error: Environment variable REPORTGEN_MEMORY_LIMIT: expected a size such as 2GB or "
                             "512MB but received 'lots'\n")
    assert snapshot(out) == before


def test_files_that_fit_are_not_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTGEN_MEMORY_LIMIT", "64GB")
    path = small_numbers_csv(tmp_path / "fits.csv", 20_000)
    assert read_table(path, DataConfig()).rows_read == 20_000


@pytest.mark.parametrize(
    ("failure", "stage", "message"),
    [
        (MemoryError(), "read", "data.csv: not enough memory to read the file (765 bytes); keep only the columns"),
        (pd.errors.ParserError("Error tokenizing data. C error: out of memory"), "read",
         "data.csv: not enough memory to read the file (765 bytes)"),
        (MemoryError(), "clean", "data.csv: ran out of memory while processing it"),
    ],
    ids=["read", "tokenizer", "analysis"],
)
def test_running_out_of_memory_anyway_is_one_line(failure: Exception, stage: str, message: str, tmp_path: Path,
                                                  previous_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the estimate was short, a failed allocation still ends in one line and the old outputs stay."""
    path, _ = frame_file(customers(30))(tmp_path)
    out = tmp_path / "out"
    shutil.copytree(previous_run, out)
    before = snapshot(out)
    read_csv = pd.read_csv

    def fail(*args: object, **kwargs: object) -> object:
        if stage == "read" and "nrows" not in kwargs:
            raise failure
        return read_csv(*args, **kwargs)

    def fail_schema(*args: object, **kwargs: object) -> object:
        raise failure

    monkeypatch.setattr(pd, "read_csv", fail)
    if stage == "clean":
        monkeypatch.setattr(features, "infer_schema", fail_schema)
    result = invoke(path, out)
    assert result.exit_code == 1 and isinstance(result.exception, (SystemExit, type(None))), repr(result.exception)
    assert result.output.count("\n") == 1 and result.output.startswith("Error: "), result.output
    assert message in result.output, result.output
    assert snapshot(out) == before


@pytest.mark.parametrize("seed", [0, 1])
def test_memory_estimate_is_close_to_the_table(tmp_path: Path, seed: int) -> None:
    table = customers(3000, seed).assign(signup="2024-01-31", note=[f"called {i} times" for i in range(3000)])
    path = tmp_path / "data.csv"
    table.to_csv(path, index=False)
    probe = pd.read_csv(path, header=None, nrows=1000, dtype=str, na_filter=False)
    rows, estimate = memory.text_estimate(probe, path.stat().st_size, "utf-8")
    actual = read_table(path, DataConfig()).frame.memory_usage(deep=True).sum()
    assert abs(rows - 3000) < 150
    assert 0.7 * actual < estimate < 1.5 * actual


@pytest.mark.parametrize(("text", "size"), [("2GB", 2 * 1024**3), ("512 MiB", 512 * 1024**2), ("1.5g", 1.5 * 1024**3),
                                            ("1000", 1000), ("64kb", 65536)])
def test_parse_size(text: str, size: float) -> None:
    assert memory.parse_size(text) == int(size)


def test_memory_budget_on_this_machine() -> None:
    budget = memory.memory_budget()
    assert budget is None or (budget.available > 0 and budget.source)


def _resident_kb() -> int:
    return next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("VmRSS:"))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_give_back_collects_and_returns_freed_memory() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self  # a reference cycle: only the collector frees it

    cycle = Node()
    alive = weakref.ref(cycle)
    del cycle
    blocks = [bytearray(4_000) for _ in range(40_000)]  # about 160 MB of heap blocks
    pin = bytearray(4_000)  # a live block above them: freeing them alone returns nothing to the system
    before = _resident_kb()
    del blocks
    memory.give_back()
    del pin
    assert alive() is None
    assert _resident_kb() < before - 100_000, "freed heap memory stayed resident"


# --- edited baseline files -----------------------------------------------------------------------------------------


def _edit_json(name: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        data = json.loads((folder / name).read_text(encoding="utf-8"))
        replaced = change(data)
        (folder / name).write_text(json.dumps(data if replaced is None else replaced), encoding="utf-8")
    return edit


def _text(name: str, text: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_text(text, encoding="utf-8")


def _first_segment(key: str, value: object) -> Callable[[dict], None]:
    return lambda summary: summary["segments"][0].__setitem__(key, value)


BASELINE_CASES = [
    ("summary-run-is-text", _edit_json("summary.json", lambda s: s.__setitem__("run", "x")),
     "summary.json: 'run' is not an object (file edited or corrupt)"),
    ("summary-data-is-a-list", _edit_json("summary.json", lambda s: s.__setitem__("data", [1])),
     "summary.json: 'data' is not an object (file edited or corrupt)"),
    ("summary-segment-id-not-integer", _edit_json("summary.json", _first_segment("id", 1.5)),
     "summary.json: segment #1 has an id that is not a unique whole number from 0 (1.5)"),
    ("summary-size-infinity", _text("summary.json", '{"format_version": 1, "segments": [{"id": 0, "size": Infinity}]}'),
     "summary.json: not valid JSON (ValueError: Infinity is not a number JSON allows)"),
    ("summary-deep-nesting", _text("summary.json", '{"format_version": 1, "x": ' + "[" * 200_000 + "]" * 200_000 + "}"),
     "summary.json: not a reportgen file (nested too deeply)"),
    ("summary-segments-empty", _edit_json("summary.json", lambda s: s.__setitem__("segments", {})),
     "summary.json: 'segments' is not a non-empty list (file edited or corrupt)"),
    ("model-categories-number", _edit_json("model.json", lambda m: m.__setitem__("categories", 5)),
     "model.json: 'categories' is not a list of level lists (file edited or corrupt)"),
    ("model-pca-list", _edit_json("model.json", lambda m: m.__setitem__("pca", [1])),
     "model.json: 'pca' is not an object (file edited or corrupt)"),
    ("model-200k-centroids", _edit_json("model.json", lambda m: m.__setitem__("centroids", [[0.0]] * 200_000)),
     "model.json: 'centroids' must list 1 to 1000 segments (file edited or corrupt)"),
    ("reference-numeric-list", _edit_json("reference.json", lambda r: r.__setitem__("numeric", [1])),
     "baseline statistics are malformed"),
]


@pytest.mark.parametrize(("case", "edit", "expected"), BASELINE_CASES, ids=[c[0] for c in BASELINE_CASES])
def test_edited_baseline(case: str, edit: Callable[[Path], None], expected: str, tmp_path: Path,
                         previous_run: Path) -> None:
    baseline = tmp_path / "baseline"
    shutil.copytree(previous_run, baseline)
    edit(baseline)
    out = tmp_path / "out"
    shutil.copytree(previous_run, out)
    before, kept = snapshot(out), snapshot(baseline)

    result = invoke(previous_run.parent / "customers.csv", out, "--k", "4", "--baseline", str(baseline))

    assert "Traceback" not in result.output and result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: "), result.output
    assert expected in result.output, result.output
    assert snapshot(out) == before and snapshot(baseline) == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline", "out"]


def test_an_id_starting_with_an_apostrophe_matches_its_own_baseline(tmp_path: Path) -> None:
    table = customers(40).assign(customer_id=[f"'C{i}" if i % 2 else f"=C{i}" for i in range(40)])
    path = tmp_path / "data.csv"
    table.to_csv(path, index=False)
    first, second = tmp_path / "first", tmp_path / "second"
    assert invoke(path, first, "--k", "2").exit_code == 0
    result = invoke(path, second, "--k", "2", "--baseline", str(first))
    assert result.exit_code == 0, result.output
    migration = json.loads((second / "summary.json").read_text(encoding="utf-8"))["comparison"]["migration"]
    assert (migration["added"], migration["lost"], migration["both"]) == (0, 0, 40)


# --- memory growth beyond the estimate -----------------------------------------------------------------------------


def _gzip_that_grows(path: Path) -> Path:
    """An ordinary first megabyte (compressed), then about 1.5 GB of one row repeated, in gzip members of their own."""
    rng = np.random.default_rng(0)
    rows = 60_000
    head = pd.DataFrame({"customer_id": [f"C{i:07d}" for i in range(rows)],
                         "spend": rng.normal(500, 200, rows).round(3), "orders": rng.integers(1, 40, rows),
                         "visits": rng.normal(10, 3, rows).round(4)})
    repeated = gzip.compress(("C9999999,123.456,7,8.9\n" * 45_000).encode(), compresslevel=9)  # ~1 MB each
    with path.open("wb") as handle:
        handle.write(gzip.compress(head.to_csv(index=False).encode(), compresslevel=1))
        for _ in range(1_500):
            handle.write(repeated)
    return path


def test_growth_past_the_estimate_stops_the_read(tmp_path: Path, previous_run: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = _gzip_that_grows(tmp_path / "grows.csv.gz")
    assert memory.gzip_size(path) < 100_000_000  # the estimate sees tens of megabytes
    out = tmp_path / "out"
    shutil.copytree(previous_run, out)
    before = snapshot(out)
    resident = memory._proc("/proc/self/status")["VmRSS"]
    monkeypatch.setenv("REPORTGEN_MEMORY_LIMIT", str(resident + 700 * 2**20))

    result = invoke(path, out)

    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"Error: {path}: too large for the memory available: reading it took "), \
        result.output
    assert "more than the run can afford (" in result.output and "REPORTGEN_MEMORY_LIMIT=" in result.output
    assert memory._proc("/proc/self/status")["VmRSS"] < resident + 1_000 * 2**20
    assert snapshot(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["grows.csv.gz", "out"]


def test_a_sheet_larger_than_its_dimension_is_estimated_from_its_xml(tmp_path: Path, previous_run: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``<dimension>`` claiming 2 rows over 40 MB of XML: the estimate goes by the XML, and refuses it at once."""
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>C{r}</t></is></c><c r="B{r}"><v>{r % 97}.5</v></c>'
                   "</row>" for r in range(2, 400_000))
    xml = (SHEET + '<dimension ref="A1:B2"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>customer_id</t></is>'
           '</c><c r="B1" t="inlineStr"><is><t>spend</t></is></c></row>' + rows + "</sheetData></worksheet>")
    path = _workbook_with_sheet(tmp_path / "book.xlsx", xml.encode())
    out = tmp_path / "out"
    shutil.copytree(previous_run, out)
    before = snapshot(out)
    resident = memory._proc("/proc/self/status")["VmRSS"]
    monkeypatch.setenv("REPORTGEN_MEMORY_LIMIT", str(resident + memory.need_for(len(xml) // 3)))
    start = time.monotonic()
    result = invoke(path, out)
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"Error: {path}: too large for the memory available: the "), result.output
    assert f"(about {len(xml) // 300:,} rows)" in result.output and time.monotonic() - start < 10
    assert snapshot(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "out"]


def _under_address_space_limit(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    start = (f"import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
             "sys.argv[0] = 'reportgen'; runpy.run_module('reportgen', run_name='__main__')")
    return subprocess.run([sys.executable, "-c", start, *args], capture_output=True, text=True, env=env, timeout=120,
                          check=False)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="sets a Linux process limit")
def test_charts_under_an_address_space_limit_say_what_they_need(tmp_path: Path, previous_run: Path) -> None:
    """The chart engine cannot start below 64 GiB of address space: one line before any work, nothing written;
    the same limit lets a JSON and CSV run through."""
    out = tmp_path / "out"
    shutil.copytree(previous_run, out)
    before = snapshot(out)
    data = str(previous_run.parent / "customers.csv")
    proc = _under_address_space_limit(8 * 10**9, "run", data, "-o", str(out), "--formats", "html,json", "--k", "4",
                                      "-q")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ("Error: HTML output needs an address-space limit (ulimit -v, prlimit --as) of at least "
                           "70 GB, but it is 8 GB: the chart engine reserves 64 GiB of address space it does not use; "
                           "bound memory with ulimit -d or prlimit --data, a cgroup limit or REPORTGEN_MEMORY_LIMIT "
                           "instead, or write --formats json,csv\n")
    assert snapshot(out) == before and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    proc = _under_address_space_limit(8 * 10**9, "run", data, "-o", str(out), "--formats", "json,csv", "--k", "4",
                                      "-q")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
