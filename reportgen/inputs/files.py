"""Read the input table: CSV/TSV/TXT (optionally gzipped), Parquet or Excel, sniffing what the config leaves unset.

Problems a user can cause raise a one-line :class:`~reportgen.errors.DataError` naming the file; guesses are noted.
"""

from __future__ import annotations

import hashlib
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reportgen import memory
from reportgen.config import DataConfig
from reportgen.errors import DataError
from reportgen.inputs.sniff import (
    PROBE_ROWS,
    clean_names,
    read_magic,
    read_sample,
    reading,
    require_file,
    sheet_name,
    sniff_separator,
    unquoted,
)

# A float holds every integer of up to 15 digits exactly, not every one of 16: longer digit strings are ids.
LONG_ID_DIGITS = 16
EXTRA_NA = ["-", "N/A", "n/a", "NA", "null", "None", "?"]
# pandas' own NA strings too: missing cells must not hide (or fake) a zero-padded id column.
_NA_TOKENS = frozenset([*EXTRA_NA, "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                        "1.#QNAN", "<NA>", "NULL", "NaN", "nan"])
_DECIMAL_CELL = re.compile(r"(?<![^;\n]) *-?\d+([.,])\d+ *(?![^;\r\n])")
_NUMBER = r"\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*"
_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx", ".csv": "text", ".tsv": "text", ".txt": "text"}
_MAGIC = {b"PAR1": "parquet", b"PK\x03\x04": "xlsx"}

Skipped = list[tuple[str, str]]  # columns that could not be read, as (name, reason)


@dataclass(frozen=True)
class LoadedTable:
    """A table as read: columns named as in the file (whitespace and a BOM stripped), the SHA-256 of the file
    bytes as on disk, notes on what was sniffed or skipped, e.g. ``"separator: TAB"``, and the columns that could
    not be read at all as ``(name, reason)``, which the report lists with the cleaning steps."""

    frame: pd.DataFrame
    path: Path
    sha256: str
    rows_read: int
    notes: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()


def file_sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes, read in chunks."""
    with reading(Path(path)), Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_table(path: Path, data: DataConfig) -> LoadedTable:
    """Read a CSV/TSV/TXT (optionally ``.gz``), Parquet or ``.xlsx`` file into a :class:`LoadedTable`.

    Parameters
    ----------
    path
        Input file. Its extension picks the format; an unknown one is sniffed from the first bytes.
    data
        Honours ``sep``, ``encoding`` and ``decimal`` for text files and ``sheet`` (name or 0-based index) for Excel.

    Raises
    ------
    DataError
        If the file is missing, empty, binary or corrupt, has duplicate column names or no data rows.
    """
    path = Path(path)
    require_file(path)
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    gz = path.suffix.lower() == ".gz"
    kind = "text" if gz else _FORMATS.get(path.suffix.lower())
    if kind is None:
        magic = read_magic(path)
        kind, gz = _MAGIC.get(magic, "text"), magic[:2] == b"\x1f\x8b"
    notes: list[str] = []
    skipped: Skipped = []
    frame = {"parquet": _read_parquet, "xlsx": _read_excel, "text": _read_text}[kind](path, data, gz, notes, skipped)
    if len(frame) == 0:
        raise DataError(f"{path}: has a header but no data rows")
    return LoadedTable(frame, path, file_sha256(path), len(frame), tuple(notes), tuple(skipped))


def _read_text(path: Path, data: DataConfig, gz: bool, notes: list[str], skipped: Skipped) -> pd.DataFrame:
    encoding, text, complete = read_sample(path, gz, data.encoding, notes)
    if complete and not text.replace("\ufeff", "").strip():
        raise DataError(f"{path}: the file is empty")
    body = unquoted(text)
    sep = sniff_separator(path, body, complete, data.sep, notes)
    marks = _DECIMAL_CELL.findall(body) if sep == ";" else []
    decimal = data.decimal or ("," if marks.count(",") > marks.count(".") else ".")
    notes.extend([f"decimal: {decimal!r}" + (" (configured)" if data.decimal else "")] if decimal != "." else [])
    # low_memory=False (C engine only): one dtype per column for the whole file, no DtypeWarning from chunked guesses.
    kw: dict[str, Any] = {"sep": sep, "encoding": encoding, "compression": "gzip" if gz else None,
                          "engine": "c" if len(sep) == 1 else "python", "low_memory": len(sep) != 1}
    probe = _csv(path, gz, notes, kw, header=None, nrows=PROBE_ROWS, dtype=str, na_filter=False)
    names = clean_names(path, probe.iloc[0].tolist(), notes)
    kw["estimate"] = memory.check_text(path, gz, probe, kw["encoding"], _NA_TOKENS)
    padded, long = _text_ids(probe)
    notes.extend(_id_notes(names, padded, long))
    return _csv(path, gz, notes, kw, header=0, names=names, index_col=False, decimal=decimal,
                na_values=EXTRA_NA, dtype=dict.fromkeys((names[i] for i in padded + long), str))


def _csv(path: Path, gz: bool, notes: list[str], kw: dict[str, Any], **more: Any) -> pd.DataFrame:
    """read_csv; when UTF-8 was only a guess from the sample and fails further on, switch to cp1252 for good.

    A whole-file read goes through :class:`reportgen.memory.GuardedFile`, which stops it when the process grows
    past what the run can afford.
    """
    options = {key: value for key, value in kw.items() if key != "estimate"}

    def read() -> pd.DataFrame:
        if "nrows" in more:
            return pd.read_csv(path, **options, **more)
        with memory.GuardedFile(path, kw.get("estimate")) as handle:
            return pd.read_csv(handle, **options, **more)

    with reading(path, gz):
        try:
            return read()
        except UnicodeDecodeError:
            if "encoding: utf-8" not in notes:  # configured, from a BOM, or already cp1252: nothing to fall back to
                raise
        options["encoding"] = kw["encoding"] = "cp1252"
        notes[:] = [note for note in notes if not note.startswith("encoding:")] + ["encoding: cp1252"]
        return read()


def _text_ids(probe: pd.DataFrame) -> tuple[list[int], list[int]]:
    """Positions of columns of digit strings that must stay text: some zero-padded (``0001``), and some too long
    (16 digits or more) for a float, which is what a numeric column with a blank cell becomes; only the sampled cells
    below the header row are looked at."""
    columns = [col.dropna() for _, col in probe.iloc[1:].where(~probe.iloc[1:].isin(_NA_TOKENS)).items()]
    digits = [(i, col) for i, col in enumerate(columns) if len(col) and col.str.fullmatch(r"\d+").all()]
    padded = [i for i, col in digits if col.str.match(r"0\d").any()]
    return padded, [i for i, col in digits if i not in padded and col.str.len().max() >= LONG_ID_DIGITS]


def _id_notes(names: list[str], padded: list[int], long: list[int]) -> list[str]:
    return ((["zero-padded ids kept as text: " + ", ".join(names[i] for i in padded)] if padded else [])
            + ([f"{LONG_ID_DIGITS}+ digit ids kept as text: " + ", ".join(names[i] for i in long)] if long else []))


def _read_parquet(path: Path, data: DataConfig, gz: bool, notes: list[str], skipped: Skipped) -> pd.DataFrame:
    with reading(path), pq.ParquetFile(path) as parquet:
        # __index_level_n__ holds an unnamed pandas index: row labels, not data.
        fields = [field for field in parquet.schema_arrow if not field.name.startswith("__index_level_")]
        nested = [field for field in fields if pa.types.is_nested(field.type)]
        notes.extend(f"skipped nested column {field.name!r}" for field in nested)
        skipped.extend((field.name, f"nested type {field.type} is not supported") for field in nested)
        keep = [field.name for field in fields if not pa.types.is_nested(field.type)]
        if not keep:
            raise DataError(f"{path}: no readable columns (nested columns are not supported)")
        names = clean_names(path, keep, notes)
        memory.check(path, lambda: _parquet_size(parquet.metadata, parquet.schema_arrow, keep))
        table = parquet.read(columns=keep).replace_schema_metadata(None)
        long = [i for i, column in enumerate(table.columns) if _inexact_as_float(column)]
        for i in long:  # pandas turns an integer column with nulls into floats: long ids would lose digits
            table = table.set_column(i, table.field(i).name, pc.cast(table.column(i), pa.string()))
        notes.extend(_id_notes(names, [], long))
        frame = table.to_pandas()
    return frame.set_axis(names, axis=1)


def _inexact_as_float(column: pa.ChunkedArray) -> bool:
    """An integer column with nulls holding values a float cannot hold exactly."""
    if not pa.types.is_integer(column.type) or column.null_count == 0:
        return False
    extremes = pc.min_max(column)
    return any(v is not None and abs(v) > 2 ** 53 for v in (extremes["min"].as_py(), extremes["max"].as_py()))


def _parquet_size(metadata: Any, schema: Any, columns: list[str]) -> tuple[int, int]:
    """Rows and in-memory bytes of the named Parquet columns, for the memory check, from the footer: fixed-width
    columns take their width a row, text and binary their uncompressed size or 16 bytes a row, whichever is more
    (dictionary-encoded text is smaller on disk than decoded)."""
    rows, stored = int(metadata.num_rows), {}
    for group in (metadata.row_group(i) for i in range(metadata.num_row_groups)):
        for chunk in (group.column(i) for i in range(group.num_columns)):
            stored[chunk.path_in_schema] = stored.get(chunk.path_in_schema, 0) + chunk.total_uncompressed_size
    total = 0
    for name in columns:
        try:
            total += max(schema.field(name).type.bit_width // 8, 1) * rows
        except ValueError:  # variable width: text, binary
            total += max(stored.get(name, 0), 16 * rows)
    return rows, total


def _excel_size(path: Path) -> tuple[int, int]:
    """Rows and in-memory bytes of an ``.xlsx`` file's largest sheet, for the memory check: rows from its
    ``<dimension>`` (unless the XML is far larger than that many rows could be), bytes half of its XML (the
    size the archive records, beyond which nothing is read): reading builds a Python object per cell."""
    try:
        with zipfile.ZipFile(path) as book:
            sheets = [i for i in book.infolist() if re.fullmatch(r"xl/worksheets/[^/]+\.xml", i.filename)]
            largest = max(sheets, key=lambda info: info.file_size)  # none: not a workbook, reported by the reader
            with book.open(largest) as handle:
                head = handle.read(4096).decode("utf-8", "replace")
    except (OSError, ValueError, zipfile.BadZipFile, zlib.error, EOFError):
        return 0, 0
    dimension = re.search(r'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
    rows = int(dimension.group(1)) - 1 if dimension else largest.file_size // 300
    if rows * 100_000 < largest.file_size:  # no row of a sheet takes 100 kB: the dimension understates it
        rows = largest.file_size // 300
    return max(rows, 0), largest.file_size // 2


def _blank(value: object) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value)) or not str(value).strip()


def _two_row_header(probe: pd.DataFrame) -> bool:
    """Whether a sheet's header spans two rows: group labels over merged (so partly blank) cells in the first,
    a name for every column in the second, and numbers below it in a column that the second row labels."""
    if len(probe) < 3:
        return False
    top, second, body = probe.iloc[0], probe.iloc[1], probe.iloc[2:]
    gaps = [_blank(value) for value in top]
    if not any(gaps) or all(gaps) or any(_blank(v) or re.fullmatch(_NUMBER, str(v)) for v in second):
        return False
    numeric = [col[col.str.strip() != ""] for _, col in body.astype(str).where(body.notna(), "").items()]
    return any(len(col) and col.str.fullmatch(_NUMBER).all() for col in numeric)


def _joined_header(probe: pd.DataFrame, notes: list[str]) -> list[str]:
    """Names for a two-row header: the second row's, prefixed with the group label above when they repeat."""
    second = [str(value).strip() for value in probe.iloc[1]]
    groups = pd.Series([None if _blank(v) else str(v).strip() for v in probe.iloc[0]], dtype=object).ffill()
    joined = len(set(second)) < len(second)
    notes.append("header of 2 rows (merged cells in row 1): names from row 2" + ", joined with those above" * joined)
    return [f"{group} {name}" if joined and isinstance(group, str) else name
            for group, name in zip(groups, second, strict=True)]


def _read_excel(path: Path, data: DataConfig, gz: bool, notes: list[str], skipped: Skipped) -> pd.DataFrame:
    sheet = data.sheet
    estimate = memory.check(path, lambda: _excel_size(path))
    with reading(path), warnings.catch_warnings(), memory.GuardedFile(path, estimate) as handle:
        # openpyxl warns about styles and data validation it ignores; neither matters for reading values.
        warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
        with pd.ExcelFile(handle, engine="openpyxl") as book:
            sheets = book.sheet_names
            name = sheet_name(path, sheets, sheet)
            # Text cells like 0001 would become numbers too, so those columns are read as text.
            probe = pd.read_excel(book, sheet_name=name, header=None, nrows=PROBE_ROWS, dtype=str, na_filter=False)
            header = 1 if _two_row_header(probe) else 0
            padded, long = _text_ids(probe.iloc[header:])
            frame = pd.read_excel(book, sheet_name=name, header=header, na_values=EXTRA_NA,
                                  dtype=dict.fromkeys(padded + long, str))
    notes.extend([f"sheet: {name!r}"] if sheet is not None else [])
    heading = _joined_header(probe, notes) if header else probe.iloc[0].tolist() if len(probe) else []
    raw = [*heading, *[None] * frame.shape[1]][: frame.shape[1]]
    blank = {i for i, value in enumerate(raw) if pd.isna(value) or not str(value).strip()}
    if len(blank) == len(raw):
        problem = "has an empty header row (multi-row headers are not supported)" if raw else "is empty"
        others = f"; set data.sheet to one of {', '.join(map(repr, sheets))}" if len(sheets) > 1 else ""
        raise DataError(f"{path}: sheet {name!r} {problem}{others}")
    unnamed = blank | {i for i, value in enumerate(raw) if re.fullmatch(r"Unnamed: \d+", str(value))}
    empty = [i for i in sorted(unnamed) if len(frame) and frame.iloc[:, i].isna().all()]
    notes.extend(f"dropped empty unnamed column {i + 1}" for i in empty)
    kept = [i for i in range(frame.shape[1]) if i not in empty]
    names = clean_names(path, raw, notes, skip=empty)
    notes.extend(_id_notes(names, [kept.index(i) for i in padded], [kept.index(i) for i in long]))
    return frame.iloc[:, kept].set_axis(names, axis=1)
