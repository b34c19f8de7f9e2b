"""The one CSV writer: spreadsheet formula injection is neutralised (OWASP) without harming real numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from reportgen.render.csvout import safe_cell, write_rows


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
