"""Tests for reportgen.inputs.files: formats, sniffing, encodings and the DataError for every bad input."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import random
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reportgen.config import DataConfig
from reportgen.errors import DataError
from reportgen.inputs.files import LoadedTable, file_sha256, read_table

NAMES_TEXT = "name,city\nMüller,café\nSmith,Paris\n"


def read(path: Path, **settings: object) -> LoadedTable:
    return read_table(path, DataConfig(**settings))


def error_of(path: Path, **settings: object) -> str:
    """The DataError message for reading ``path``; checks it is one line, names the file and chains nothing."""
    with pytest.raises(DataError) as excinfo:
        read(path, **settings)
    err = excinfo.value
    message = str(err)
    assert "\n" not in message
    assert str(path) in message
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)
    return message


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- separators, decimal marks, line endings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "sep_note", "decimal_note"),
    [
        ("id,name,score\n1,Ann,1.5\n2,Bob,2.25\n", "separator: ','", None),
        ("id;name;score\n1;Ann;1,5\n2;Bob;2,25\n", "separator: ';'", "decimal: ','"),
        ("id;name;score\n1;Ann;1.5\n2;Bob;2.25\n", "separator: ';'", None),
        ("id\tname\tscore\n1\tAnn\t1.5\n2\tBob\t2.25\n", "separator: TAB", None),
        ("id|name|score\n1|Ann|1.5\n2|Bob|2.25\n", "separator: '|'", None),
    ],
    ids=["comma", "semicolon-decimal-comma", "semicolon-decimal-dot", "tab", "pipe"],
)
def test_separator_and_decimal_are_sniffed(tmp_path: Path, content: str, sep_note: str, decimal_note: str | None):
    table = read(write(tmp_path, "data.csv", content))
    assert list(table.frame.columns) == ["id", "name", "score"]
    assert table.frame["id"].tolist() == [1, 2]
    assert table.frame["name"].tolist() == ["Ann", "Bob"]
    assert table.frame["score"].tolist() == [1.5, 2.25]
    assert sep_note in table.notes
    assert (decimal_note in table.notes) if decimal_note else not any(n.startswith("decimal") for n in table.notes)
    assert table.rows_read == 2


def test_quoted_separators_do_not_fool_the_sniffer(tmp_path: Path):
    table = read(write(tmp_path, "data.csv", 'label,n\n"a;b;c",1\n"x;y",2\n"p;q;r;s",3\n'))
    assert table.frame["label"].tolist() == ["a;b;c", "x;y", "p;q;r;s"]
    assert "separator: ','" in table.notes


@pytest.mark.parametrize("sep", ["tab", "TAB", "\\t", "\t"])
def test_configured_tab_separator(tmp_path: Path, sep: str):
    table = read(write(tmp_path, "data.txt", "a\tb\n1\t2\n"), sep=sep)
    assert table.frame.to_dict("list") == {"a": [1], "b": [2]}
    assert "separator: TAB (configured)" in table.notes


def test_configured_separator_and_decimal(tmp_path: Path):
    table = read(write(tmp_path, "data.csv", "a;b\n1,5;2\n3,25;4\n"), sep=";", decimal=",")
    assert table.frame["a"].tolist() == [1.5, 3.25]
    assert "decimal: ',' (configured)" in table.notes


def test_single_column_file(tmp_path: Path):
    table = read(write(tmp_path, "emails.csv", "email\na@example.com\nb@example.com\n"))
    assert table.frame["email"].tolist() == ["a@example.com", "b@example.com"]
    assert "separator: ',' (single column)" in table.notes


def test_crlf_without_final_newline(tmp_path: Path):
    table = read(write(tmp_path, "data.csv", b"id,name\r\n1,Ann\r\n2,Bob"))
    assert table.frame["name"].tolist() == ["Ann", "Bob"]
    assert table.rows_read == 2


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_quoted_newline_inside_a_field(tmp_path: Path, newline: str):
    content = f'id,comment{newline}1,"line one{newline}line two"{newline}2,"say ""hi"""{newline}'
    table = read(write(tmp_path, "data.csv", content))
    assert table.rows_read == 2
    assert table.frame["comment"].tolist() == [f"line one{newline}line two", 'say "hi"']


# --- encodings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "note"),
    [
        (NAMES_TEXT.encode("utf-8"), "encoding: utf-8"),
        (NAMES_TEXT.encode("utf-8-sig"), "encoding: utf-8-sig"),
        (NAMES_TEXT.encode("utf-16"), "encoding: utf-16"),
        (codecs.BOM_UTF16_BE + NAMES_TEXT.encode("utf-16-be"), "encoding: utf-16"),
        (NAMES_TEXT.encode("cp1252"), "encoding: cp1252"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "cp1252"],
)
def test_encodings_are_detected(tmp_path: Path, raw: bytes, note: str):
    table = read(write(tmp_path, "people.csv", raw))
    assert list(table.frame.columns) == ["name", "city"]
    assert table.frame["name"].tolist() == ["Müller", "Smith"]
    assert table.frame["city"].tolist() == ["café", "Paris"]
    assert note in table.notes


def test_cp1252_beyond_the_sniffed_sample_falls_back(tmp_path: Path):
    rows = "".join(f"{i},Customer number {i}\n" for i in range(5000))
    path = write(tmp_path, "late.csv", ("id,name\n" + rows + "5000,Müller\n").encode("cp1252"))
    assert path.stat().st_size > 64 * 1024
    table = read(path)
    assert table.frame["name"].iloc[-1] == "Müller"
    assert table.rows_read == 5001
    assert [n for n in table.notes if n.startswith("encoding")] == ["encoding: cp1252"]


def test_configured_encoding(tmp_path: Path):
    path = write(tmp_path, "latin.csv", NAMES_TEXT.encode("latin-1"))
    table = read(path, encoding="latin-1")
    assert table.frame["city"].tolist() == ["café", "Paris"]
    assert "encoding: latin-1 (configured)" in table.notes
    assert "cannot be decoded as utf-8" in error_of(path, encoding="utf-8")
    assert "unknown encoding: klingon" in error_of(path, encoding="klingon")


def test_undecodable_bytes_ask_for_an_encoding(tmp_path: Path):
    message = error_of(write(tmp_path, "odd.csv", b"name,n\nA\x81B,1\n"))
    assert message.endswith(": cannot be decoded as utf-8 or cp1252; set data.encoding")


def test_bom_is_stripped_from_the_first_name_even_when_encoding_is_configured(tmp_path: Path):
    table = read(write(tmp_path, "bom.csv", NAMES_TEXT.encode("utf-8-sig")), encoding="utf-8")
    assert list(table.frame.columns) == ["name", "city"]


# --- column names and values ----------------------------------------------------------------------------------


def test_column_names_are_stripped_and_blank_ones_named(tmp_path: Path):
    table = read(write(tmp_path, "data.csv", " id ,, Annual Income (k$) ,  \n1,x,15,y\n"))
    assert list(table.frame.columns) == ["id", "column_2", "Annual Income (k$)", "column_4"]
    assert "blank column name at position 2 named 'column_2'" in table.notes


def test_na_tokens_in_the_header_are_names(tmp_path: Path):
    table = read(write(tmp_path, "data.csv", "NA,None,?\n1,2,3\n"))
    assert table.frame.to_dict("list") == {"NA": [1], "None": [2], "?": [3]}


@pytest.mark.parametrize("header", ["id,name,id", "id,name, id "], ids=["exact", "after-stripping"])
def test_duplicate_column_name(tmp_path: Path, header: str):
    path = write(tmp_path, "dup.csv", f"{header}\n1,a,2\n")
    assert "duplicate column name 'id'" in error_of(path)


def test_zero_padded_ids_stay_strings(tmp_path: Path):
    content = "CustomerID,zip,amount,code\n0001,01234,10,7\n0002,02345,20,0\n0010,,30,12\n"
    table = read(write(tmp_path, "ids.csv", content))
    frame = table.frame
    assert frame["CustomerID"].tolist() == ["0001", "0002", "0010"]
    assert frame["zip"].tolist()[:2] == ["01234", "02345"] and pd.isna(frame["zip"].iloc[2])
    assert frame["amount"].tolist() == [10, 20, 30] and pd.api.types.is_integer_dtype(frame["amount"])
    assert frame["code"].tolist() == [7, 0, 12] and pd.api.types.is_integer_dtype(frame["code"])
    assert "zero-padded ids kept as text: CustomerID, zip" in table.notes


def test_na_tokens_are_missing_only_as_whole_cells(tmp_path: Path):
    content = "id,v,s\n1,-,N/A\n2,?,null\n3,None,NA\n4,-5,n/a\n5,6,a-b\n"
    frame = read(write(tmp_path, "na.csv", content)).frame
    assert frame["v"].isna().tolist() == [True, True, True, False, False]
    assert frame["v"].tolist()[3:] == [-5, 6]
    assert frame["s"].isna().tolist() == [True, True, True, True, False]
    assert frame["s"].iloc[4] == "a-b"


def test_ragged_row_names_the_line(tmp_path: Path):
    message = error_of(write(tmp_path, "ragged.csv", "a,b\n1,2\n3,4,5\n"))
    assert "Expected 2 fields in line 3, saw 3" in message


def test_hash_and_row_count(tmp_path: Path):
    raw = b"id,name\n1,Ann\n2,Bob\n3,Cy\n"
    path = write(tmp_path, "data.csv", raw)
    table = read(path)
    assert table.sha256 == hashlib.sha256(raw).hexdigest() == file_sha256(path)
    assert table.path == path and table.rows_read == 3
    with pytest.raises(DataError, match=r"missing\.csv"):
        file_sha256(tmp_path / "missing.csv")


# --- gzip -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["data.csv.gz", "DATA.TSV.GZ", "export.bin"])
def test_gzip_text(tmp_path: Path, name: str):
    table = read(write(tmp_path, name, gzip.compress(b"id\tname\n1\tAnn\n2\tBob\n")))
    assert table.frame.to_dict("list") == {"id": [1, 2], "name": ["Ann", "Bob"]}
    assert "separator: TAB" in table.notes


@pytest.mark.parametrize("rows", [10, 200_000], ids=["cut-in-sample", "cut-after-sample"])
def test_truncated_gzip(tmp_path: Path, rows: int):
    rng = np.random.default_rng(1)
    text = "id,value\n" + "".join(f"{i},{v}\n" for i, v in enumerate(rng.integers(0, 10**9, rows)))
    packed = gzip.compress(text.encode())
    path = write(tmp_path, "cut.csv.gz", packed[: int(len(packed) * 0.6)])
    assert "the file is not a valid gzip archive (truncated or corrupt)" in error_of(path)


def test_plain_text_named_gz_is_not_a_gzip_archive(tmp_path: Path):
    message = error_of(write(tmp_path, "plain.csv.gz", "a,b\n1,2\n"))
    assert "the file is not a valid gzip archive (truncated or corrupt)" in message


# --- parquet --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["data.parquet", "data.PQ", "data.bin"])
def test_parquet_skips_nested_columns(tmp_path: Path, name: str):
    attrs = pa.array([[("k", 1)], []], pa.map_(pa.string(), pa.int64()))
    table = pa.table({"id": ["0001", "0002"], "spend": [1.5, 2.0], "tags": [[1], [2, 3]], "info": [{"x": 1}, {"x": 2}],
                      "attrs": attrs})
    path = tmp_path / name
    pq.write_table(table, path)
    loaded = read(path)
    assert loaded.frame.to_dict("list") == {"id": ["0001", "0002"], "spend": [1.5, 2.0]}
    for column in ("tags", "info", "attrs"):
        assert f"skipped nested column '{column}'" in loaded.notes


def test_parquet_from_pandas_keeps_data_columns_only(tmp_path: Path):
    path = tmp_path / "indexed.parquet"
    pd.DataFrame({" age ": [30, 40]}, index=[10, 20]).to_parquet(path)
    assert read(path).frame.to_dict("list") == {"age": [30, 40]}


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        (pa.table({"tags": [[1], [2]]}), "no readable columns (nested columns are not supported)"),
        (pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"]), "duplicate column name 'a'"),
        (pa.table({"a": pa.array([], pa.int64())}), "has a header but no data rows"),
    ],
    ids=["all-nested", "duplicate", "no-rows"],
)
def test_bad_parquet(tmp_path: Path, table: pa.Table, fragment: str):
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path)
    assert fragment in error_of(path)


def test_corrupt_parquet(tmp_path: Path):
    assert ": cannot be read (" in error_of(write(tmp_path, "broken.parquet", b"PAR1 this is not parquet"))


# --- excel ----------------------------------------------------------------------------------------------------


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


TWO_SHEETS = {
    "Customers": [[" CustomerID ", "Age"], ["0001", 30], ["0002", 41]],
    "Orders": [["order", "amount"], ["A1", 9.5], ["A2", "-"], ["A3", 3.0]],
}


@pytest.mark.parametrize(
    ("sheet", "columns", "note"),
    [
        (None, ["CustomerID", "Age"], None),
        ("Orders", ["order", "amount"], "sheet: 'Orders'"),
        (1, ["order", "amount"], "sheet: 'Orders'"),
        ("1", ["order", "amount"], "sheet: 'Orders'"),
        (0, ["CustomerID", "Age"], "sheet: 'Customers'"),
    ],
)
def test_excel_sheet_choice(tmp_path: Path, sheet: str | int | None, columns: list[str], note: str | None):
    table = read(workbook(tmp_path / "book.xlsx", TWO_SHEETS), sheet=sheet)
    assert list(table.frame.columns) == columns
    assert note is None or note in table.notes
    if columns[0] == "CustomerID":
        assert table.frame["CustomerID"].tolist() == ["0001", "0002"]
    else:
        assert table.frame["amount"].isna().tolist() == [False, True, False]


@pytest.mark.parametrize("sheet", ["Nope", 5])
def test_excel_unknown_sheet(tmp_path: Path, sheet: str | int):
    message = error_of(workbook(tmp_path / "book.xlsx", TWO_SHEETS), sheet=sheet)
    assert f"no sheet {sheet!r} (sheets: 'Customers', 'Orders')" in message


def test_excel_drops_empty_unnamed_columns_and_names_blank_ones(tmp_path: Path):
    rows = [["id", None, None, "spend"], [1, None, "x", 10], [2, None, "y", 20]]
    table = read(workbook(tmp_path / "book.xlsx", {"S": rows}))
    assert list(table.frame.columns) == ["id", "column_3", "spend"]
    assert table.frame["column_3"].tolist() == ["x", "y"]
    assert "dropped empty unnamed column 2" in table.notes


def test_excel_non_text_headers_become_strings(tmp_path: Path):
    table = read(workbook(tmp_path / "book.xlsx", {"S": [[2024, " spend "], [1, 2.5]]}))
    assert table.frame.to_dict("list") == {"2024": [1], "spend": [2.5]}


def test_excel_sniffed_from_unknown_extension(tmp_path: Path):
    table = read(workbook(tmp_path / "export.dat", TWO_SHEETS))
    assert table.frame["Age"].tolist() == [30, 41]


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ([[None, None], ["a", "b"], [1, 2]], "sheet 'S' has an empty header row"),
        ([["a", "b"]], "has a header but no data rows"),
        ([], "sheet 'S' is empty"),
        ([["id", "id"], [1, 2]], "duplicate column name 'id'"),
    ],
    ids=["empty-header", "header-only", "empty-sheet", "duplicate"],
)
def test_bad_excel(tmp_path: Path, rows: list[list[object]], fragment: str):
    assert fragment in error_of(workbook(tmp_path / "bad.xlsx", {"S": rows}))


def test_corrupt_xlsx(tmp_path: Path):
    assert ": cannot be read (" in error_of(write(tmp_path, "broken.xlsx", "id,name\n1,a\n"))


# --- files that are not tables --------------------------------------------------------------------------------


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90\x91h6"


@pytest.mark.parametrize(
    "content", [random.Random(0).randbytes(4096), PNG, b"id,name\n1,\x01\x02\x03\x04\x05\x06\x07\x08\n"],
    ids=["random", "png", "control-bytes"],
)
def test_binary_content(tmp_path: Path, content: bytes):
    assert error_of(write(tmp_path, "data.csv", content)).endswith(": not a readable table (binary content)")


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.csv", b""), ("blank.csv", b"  \n\t\r\n  "), ("empty.csv.gz", gzip.compress(b"")),
     ("empty.parquet", b""), ("empty.xlsx", b""), ("blank.tsv", b"\n" * 70_000)],
)
def test_empty_file(tmp_path: Path, name: str, content: bytes):
    assert error_of(write(tmp_path, name, content)).endswith(": the file is empty")


@pytest.mark.parametrize("content", ["id,name\n", "id,name", "id,name\r\n\r\n", "\ufeffid;name\n"])
def test_header_only(tmp_path: Path, content: str):
    assert error_of(write(tmp_path, "head.csv", content)).endswith(": has a header but no data rows")


def test_missing_file(tmp_path: Path):
    path = tmp_path / "nope.csv"
    assert error_of(path) == f"input file not found: {path}"


def test_directory(tmp_path: Path):
    assert error_of(tmp_path).endswith(": is a directory, not a file")


# --- the shared real datasets ---------------------------------------------------------------------------------


def test_marketing_campaign(datasets_dir: Path):
    table = read(datasets_dir / "marketing_campaign.csv")
    frame = table.frame
    assert frame.shape == (2240, 29) and table.rows_read == 2240
    assert (frame.columns[0], frame.columns[-1]) == ("ID", "Response")
    assert "separator: TAB" in table.notes
    assert int(frame["Income"].isna().sum()) == 24
    assert frame["Income"].max() == 666666
    assert frame["Response"].iloc[-1] in (0, 1) and not frame["Response"].astype(str).str.contains("\r").any()
    assert table.sha256 == "cd0affa36b1b981e80ba0e27767e9b3ab723f7a3dba948f722af81abc6b990ea"


def test_mall_customers(datasets_dir: Path):
    table = read(datasets_dir / "Mall_Customers.csv")
    frame = table.frame
    assert list(frame.columns) == ["CustomerID", "Genre", "Age", "Annual Income (k$)", "Spending Score (1-100)"]
    assert frame.shape == (200, 5)
    assert frame["CustomerID"].iloc[0] == "0001" and frame["CustomerID"].iloc[-1] == "0200"
    assert frame["Genre"].value_counts().to_dict() == {"Female": 112, "Male": 88}
    assert frame["Annual Income (k$)"].between(15, 137).all()
    assert frame["Spending Score (1-100)"].iloc[-1] == 83


LONG_IDS = [str(12_345_678_901_234_567 + 7 * i) for i in range(40)]  # 17 digits: beyond exact float64


def test_long_ids_with_a_blank_stay_exact_text(tmp_path: Path):
    # One blank id made pandas read the column as floats: the 40 ids collapsed into fewer values.
    rows = [f"{'' if i == 3 else cid},{i * 1.5},{i % 4}" for i, cid in enumerate(LONG_IDS)]
    table = read(write(tmp_path, "long.csv", "customer_id,spend,visits\n" + "\n".join(rows) + "\n"))
    ids = table.frame["customer_id"]
    assert ids.dropna().tolist() == [cid for i, cid in enumerate(LONG_IDS) if i != 3] and ids.isna().sum() == 1
    assert pd.api.types.is_float_dtype(table.frame["spend"])
    assert "16+ digit ids kept as text: customer_id" in table.notes


def test_long_parquet_ids_with_nulls_stay_exact(tmp_path: Path):
    values = [int(cid) for cid in LONG_IDS]
    values[5] = None
    path = tmp_path / "long.parquet"
    pq.write_table(pa.table({"account": pa.array(values, pa.int64()), "small": pa.array([1, None] * 20, pa.int64()),
                             "spend": pa.array(np.arange(40.0))}), path)
    table = read(path)
    assert table.frame["account"].dropna().tolist() == [cid for i, cid in enumerate(LONG_IDS) if i != 5]
    assert pd.api.types.is_float_dtype(table.frame["small"])  # small integers with nulls are exact as floats
    assert "16+ digit ids kept as text: account" in table.notes
