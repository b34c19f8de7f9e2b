"""Open a transaction log for DuckDB: sniff its format, read a sample, and give the SQL that scans it in place.

UTF-8 CSV/TSV (optionally gzipped) and Parquet are scanned where they lie. Other shapes are first streamed, a
block at a time, into a UTF-8 CSV in the caller's working folder, which DuckDB then scans out of core: text in
another encoding (cp1252, latin-1, UTF-16 …), whitespace-aligned text (columns separated by runs of spaces) and
Excel ``.xlsx`` sheets. The sample (the first rows, as text) lets :mod:`reportgen.inputs.logs.columns` and
:mod:`reportgen.inputs.logs.dates` judge the columns by their values.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from itertools import pairwise
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow.parquet as pq

from reportgen.config import DataConfig
from reportgen.errors import DataError
from reportgen.inputs.sniff import (
    clean_names,
    read_magic,
    read_sample,
    reading,
    require_file,
    sheet_name,
    sniff_separator,
    unquoted,
)

SAMPLE_ROWS = 5000
_BLOCK = 1 << 20
_SEPARATORS = ",;\t|"
# A line of a table drawn by a SQL client or a report: dashes, equals signs, pluses and pipes, or '(12 rows)'.
_RULE = re.compile(r"[\s|+:]*[-=_]+[-=_\s|+:]*|\s*\(\d[\d,]* rows?\)\s*")
_DATUM = re.compile(r"[-+(]?[$€£]?[\d.,:/\-]*\d[\d.,:/\-]*\)?")


@dataclass(frozen=True)
class LogSource:
    """A log as DuckDB will read it.

    ``path`` is the file scanned (the log itself, or its UTF-8 copy), ``kind`` is ``parquet`` or ``text``
    (UTF-8 delimited text, ``gzip`` compressed or not), ``sample`` the first rows as text (None when blank),
    ``types`` the Parquet type of each column, and ``layout`` how the original file was read.
    """

    original: Path
    path: Path
    kind: str
    names: list[str]
    sample: pd.DataFrame
    sep: str = ","
    gzip: bool = False
    encoding: str = "utf-8"
    layout: str = "delimited"  # delimited | aligned | fixed | xlsx | parquet
    boundaries: tuple[int, ...] = ()  # column starts of a fixed-width file
    types: dict[str, str] = field(default_factory=dict)
    decimal: str = "."
    header: bool = True  # False: the first line is data (columns named column_1, column_2, …)
    ruled: bool = False  # rule lines (----+----) or '(N rows)' footers, as SQL clients print, to skip

    @property
    def converted(self) -> bool:
        """Whether DuckDB scans a UTF-8 copy rather than the file itself."""
        return self.path != self.original


def _frame(names: list[str], rows: list[list[Any]]) -> pd.DataFrame:
    """The sample as a frame of text cells (None when blank), every row cut or padded to the header's width."""
    width = len(names)
    cells = [[_text(v) for v in [*row, *[None] * width][:width]] for row in rows[:SAMPLE_ROWS]]
    return pd.DataFrame(cells, columns=names, dtype=object)


def _text(value: Any) -> str | None:
    """A cell as the text a CSV export would hold: ISO dates, integers without '.0', None when blank."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return str(int(value))
    text = str(value).strip()
    return text or None


def open_log(path: Path, data: DataConfig, workdir: Path | None, notes: list[str]) -> LogSource:
    """Sniff a log and, given a ``workdir``, make it scannable by DuckDB (converting what DuckDB cannot read).

    Parameters
    ----------
    path
        CSV/TSV/TXT (optionally ``.gz``), whitespace-aligned text, Parquet or ``.xlsx``.
    data
        ``sep``, ``encoding`` and ``sheet`` are honoured.
    workdir
        Folder for the UTF-8 copy; None to sniff only (header and sample, nothing converted).
    notes
        Receives what was sniffed (``encoding: cp1252``, ``separator: runs of spaces`` …).

    Raises
    ------
    DataError
        If the file is missing, empty, binary or cannot be decoded.
    """
    require_file(path)
    magic = read_magic(path)
    suffix = path.suffix.lower()
    if magic == b"PAR1" or suffix in (".parquet", ".pq"):
        return _parquet(path, notes)
    if magic.startswith(b"PK") or suffix in (".xlsx", ".xlsm"):
        return _xlsx(path, data, workdir, notes)
    gz = magic[:2] == b"\x1f\x8b"
    encoding, text, complete = read_sample(path, gz, data.encoding, notes)
    if not text.replace("\ufeff", "").strip():
        raise DataError(f"{path}: the file is empty")
    lines = [line for line in text.lstrip("\ufeff").split("\n")[: None if complete else -1] if line.strip()]
    ruled = [line for line in lines if _RULE.fullmatch(line)]
    lines = [line for line in lines if not _RULE.fullmatch(line)]
    notes.extend(["rule lines under the header (----) and row-count footers skipped"] if ruled else [])
    source = _aligned(path, lines, data, gz, encoding, notes)
    if source is None:
        sep = sniff_separator(path, unquoted(text), complete, data.sep, notes)
        rows = list(csv.reader(lines, delimiter=sep))
        header = not rows or not headerless(rows[0], notes)
        names = clean_names(path, rows[0] if header else [None] * len(rows[0]), [])
        source = LogSource(path, path, "text", names, _frame(names, rows[1:] if header else rows), sep, gz, encoding,
                           header=header)
    source = replace(_decimal(source, data, notes), ruled=bool(ruled))
    if workdir is None:
        return source
    if source.layout == "delimited" and not ruled and codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        return source  # DuckDB reads UTF-8 text in place (a UTF-8 BOM sits in the skipped header line)
    return convert_text(source, encoding, workdir, notes)


def _decimal(source: LogSource, data: DataConfig, notes: list[str]) -> LogSource:
    """The decimal mark: as configured, else a comma when the sample's decimal numbers mostly use one (a text file
    not separated by commas)."""
    if data.decimal or (source.layout == "delimited" and source.sep == ","):
        return replace(source, decimal=data.decimal or ".")
    cells = pd.Series(source.sample.to_numpy().ravel(), dtype=object).dropna().astype(str)
    commas, points = cells.str.fullmatch(r"-?\d+,\d+").sum(), cells.str.fullmatch(r"-?\d+\.\d+").sum()
    if commas > points:
        notes.append("decimal: ','")
        return replace(source, decimal=",")
    return source


def convert_text(source: LogSource, encoding: str, workdir: Path, notes: list[str]) -> LogSource:
    """Stream a text log into a UTF-8 CSV in ``workdir``, decoding ``encoding`` and splitting aligned columns.

    UTF-8 guessed from the first 64 KB and failing further on means a legacy encoding: the copy is made again from
    cp1252, as the customer-table reader does.
    """
    guessed = codecs.lookup(encoding).name == "utf-8" and "encoding: utf-8" in notes
    with reading(source.original, source.gzip):
        try:
            return _convert(source, encoding, workdir, notes)
        except UnicodeDecodeError:
            if not guessed:
                raise
        notes[:] = [note for note in notes if not note.startswith("encoding:")] + ["encoding: cp1252"]
        return _convert(source, "cp1252", workdir, notes)


def _convert(source: LogSource, encoding: str, workdir: Path, notes: list[str]) -> LogSource:
    target = workdir / "log-utf8.csv"
    opener = gzip.open if source.gzip else open
    with opener(source.original, "rb") as raw, target.open("w", encoding="utf-8", newline="") as out:
        lines = _decoded_lines(raw, encoding)
        if source.layout == "delimited":
            for line in lines:
                if not (source.ruled and _RULE.fullmatch(line.rstrip("\n"))):
                    out.write(line)
            sep = source.sep
        else:
            writer = csv.writer(out, lineterminator="\n")
            for line in lines:
                if line.strip() and not _RULE.fullmatch(line.rstrip("\n")):
                    writer.writerow(_split(line.rstrip("\r\n"), source))
            sep = ","
    if encoding.lower().replace("-", "").replace("_", "") not in ("utf8", "utf8sig"):
        notes.append(f"read through a UTF-8 copy (from {encoding})")
    return replace(source, path=target, sep=sep, gzip=False, encoding="utf-8")


def _decoded_lines(raw: IO[bytes], encoding: str) -> Iterator[str]:
    """The text of a binary stream, line by line (endings kept), decoded a block at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    tail = ""
    while block := raw.read(_BLOCK):
        text = tail + decoder.decode(block)
        *whole, tail = re.split(r"(?<=\n)", text.replace("\r\n", "\n").replace("\r", "\n"))
        yield from whole
    tail += decoder.decode(b"", final=True)
    if tail:
        yield tail if tail.endswith("\n") else tail + "\n"


def _split(line: str, source: LogSource) -> list[str]:
    """The cells of one line of an aligned file: split on runs of spaces, or cut at the column starts.

    A fixed-width line with as many runs of non-spaces as columns is split on the spaces too, so a value wider than
    those of the sample (read when the columns were found) is still read whole.
    """
    cells = line.split()
    if source.layout == "aligned" or len(cells) == len(source.boundaries):
        return cells
    edges = [*source.boundaries, None]
    return [line[a:b].strip() for a, b in pairwise(edges)]


def _aligned(path: Path, lines: list[str], data: DataConfig, gz: bool, encoding: str,
             notes: list[str]) -> LogSource | None:
    """A whitespace-aligned text log (no comma, semicolon, TAB or pipe in its header), or None if it is not one.

    Every line splitting into as many runs of non-spaces as the header is read that way; otherwise the columns are
    cut where every sampled line has a space (a fixed-width file whose names or values hold single spaces).
    """
    if data.sep or len(lines) < 2 or any(s in lines[0] for s in _SEPARATORS) or len(lines[0].split()) < 2:
        return None
    header = lines[0].lstrip("\ufeff")
    width = len(header.split())
    if all(len(line.split()) == width for line in lines[1:]):
        notes.append("separator: runs of spaces (whitespace-aligned text)")
        named = not headerless(header.split(), notes)
        names = clean_names(path, header.split() if named else [None] * width, [])
        rows = [line.split() for line in lines[1 if named else 0:]]
        return LogSource(path, path, "text", names, _frame(names, rows), ",", gz, encoding, "aligned", header=named)
    longest = max(len(line) for line in lines)
    blank = [all(i >= len(line) or line[i] == " " for line in lines) for i in range(longest)]
    starts = tuple(i for i in range(longest) if not blank[i] and (i == 0 or blank[i - 1]))
    if len(starts) < 2:
        return None
    source = LogSource(path, path, "text", [], pd.DataFrame(), ",", gz, encoding, "fixed", starts)
    names = clean_names(path, _split(header, source), notes)
    notes.append(f"separator: fixed-width columns starting at characters {', '.join(str(s + 1) for s in starts)}")
    return replace(source, names=names, sample=_frame(names, [_split(line, source) for line in lines[1:]]))


def headerless(cells: list[str], notes: list[str]) -> bool:
    """Whether a first line is data rather than names: two cells or more, every one a number, a date or a time."""
    if len(cells) < 2 or not all(c and _DATUM.fullmatch(c.strip()) for c in cells):
        return False
    notes.append("no header line: the first line is data; columns named column_1, column_2, …")
    return True


def _parquet(path: Path, notes: list[str]) -> LogSource:
    import duckdb  # reads the first rows without decoding a whole row group (pyarrow would, ~130 MB at 1M rows)

    with reading(path):
        keep = [f for f in pq.read_schema(path) if not f.name.startswith("__index_level_")]
        names = clean_names(path, [f.name for f in keep], notes)
    try:
        with duckdb.connect() as con:
            columns = ", ".join('"' + f.name.replace('"', '""') + '"' for f in keep)
            rows = [list(r) for r in con.execute(f"SELECT {columns} FROM read_parquet(?) LIMIT {SAMPLE_ROWS}",
                                                 [str(path)]).fetchall()]
    except duckdb.Error as exc:
        raise DataError(f"{path}: cannot be read ({' '.join(str(exc).split())[:160]})") from None
    return LogSource(path, path, "parquet", names, _frame(names, rows), layout="parquet",
                     types={n: str(f.type) for n, f in zip(names, keep, strict=True)})


def _xlsx(path: Path, data: DataConfig, workdir: Path | None, notes: list[str]) -> LogSource:
    """An Excel log: the sheet's rows streamed (read-only) into a UTF-8 CSV; only a sample without ``workdir``."""
    import openpyxl  # only Excel logs need it

    # The file is opened here so that it is closed even when openpyxl refuses the workbook's XML half-way.
    with reading(path), warnings.catch_warnings(), path.open("rb") as handle:
        # openpyxl warns about styles and data validation it ignores; neither matters for reading values.
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        try:
            name = sheet_name(path, book.sheetnames, data.sheet)
            rows = book[name].iter_rows(values_only=True)
            header = next(rows, None)
            if header is None or all(_text(v) is None for v in header):
                raise DataError(f"{path}: sheet {name!r} has no header row")
            names = clean_names(path, list(header), notes)
            notes.extend([f"sheet: {name!r}"] if data.sheet is not None else [])
            if workdir is None:
                sample = [list(r) for _, r in zip(range(SAMPLE_ROWS), rows, strict=False)]
                return LogSource(path, path, "text", names, _frame(names, sample), layout="xlsx")
            target = workdir / "log-utf8.csv"
            sample = []
            with target.open("w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(names)
                for row in rows:
                    cells = [_text(v) for v in [*row, *[None] * len(names)][: len(names)]]
                    if any(c is not None for c in cells):
                        writer.writerow(["" if c is None else c for c in cells])
                        if len(sample) < SAMPLE_ROWS:
                            sample.append(cells)
        finally:
            book.close()
    return LogSource(path, target, "text", names, _frame(names, sample), layout="xlsx")
