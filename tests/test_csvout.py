"""The one CSV writer: spreadsheet formula injection is neutralised (OWASP) without harming real numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from reportgen.render.csvout import safe_cell, write_columns, write_rows


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("-12.5", "-12.5"),  # a legitimate negative number written as text stays a number
        ("+44", "+44"),
        (-12.5, "-12.5"),
        (np.float64(3.25), "3.25"),
        (np.int64(-7), "-7"),
        (float("nan"), ""),
        (None, ""),
        ("Müller <b>", "Müller <b>"),
    ],
)
def test_safe_cell(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


def test_written_file_reads_back(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "x.csv", ["id", "name", "value"],
                      [["=1+1", "a,b", -3.5], ["C2", 'quote " inside', 2.0]])
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["id", "name", "value"], ["'=1+1", "a,b", "-3.5"], ["C2", 'quote " inside', "2"]]
    assert b"\r\n" not in path.read_bytes()


@pytest.mark.parametrize("quoting", [False, True])
def test_columnar_writer_matches_cell_by_cell_writing(tmp_path: Path, quoting: bool) -> None:
    ids = np.array(["=1+1", "-12.5", "+SUM(A1)", None, "Müller", "@x", "\tT", "a;b", "", "7"], dtype=object)
    if quoting:  # a cell that needs quotes switches to the csv module: same cells either way
        ids[7] = 'a,"b"'
    ints = np.arange(-5, 5)
    floats = np.array([2.0, -3.5, 1.23456789, np.nan, np.inf, 1e20, -0.0000004, 0.1, 3.0, -7.25])
    mixed = np.array([1, 2.5, "x", None, -3, "=y", 0.1, True, "", 4], dtype=object)
    header = ["=id", "n", "x", "mixed"]
    written = write_columns(tmp_path / "columns.csv", header, [ids, ints, floats, mixed])
    expected = tmp_path / "expected.csv"
    with expected.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([safe_cell(h) for h in header])
        writer.writerows([safe_cell(v) for v in row] for row in zip(ids, ints, floats, mixed, strict=True))
    assert written.read_text(encoding="utf-8") == expected.read_text(encoding="utf-8")
