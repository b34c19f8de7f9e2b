"""Read the input table: CSV/TSV/TXT (optionally gzipped), Parquet or Excel, sniffing what the config leaves unset.

Every problem a user can cause ends as a one-line :class:`~reportgen.errors.DataError` naming the file, and each
guess (separator, encoding, decimal mark, skipped columns) is kept as a note so the report can show it.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import re
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from reportgen.errors import DataError

if TYPE_CHECKING:
    from reportgen.config import DataConfig

SAMPLE_BYTES = 64 * 1024
PROBE_ROWS = 1000
SEPARATORS = (",", ";", "\t", "|")
EXTRA_NA = ["-", "N/A", "n/a", "NA", "null", "None", "?"]
# pandas' own NA strings; only used to ignore missing cells while looking for zero-padded ids.
_NA_TOKENS = frozenset([*EXTRA_NA, "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                        "1.#QNAN", "<NA>", "NULL", "NaN", "nan"])
_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"')
_COMMA_NUMBER = re.compile(r"(?<![^;\n]) *-?\d+,\d+ *(?![^;\r\n])")
_DOT_NUMBER = re.compile(r"(?<![^;\n]) *-?\d+\.\d+ *(?![^;\r\n])")
# C0 control bytes other than tab, line breaks and form feed practically never occur in a text table.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_UNNAMED = re.compile(r"Unnamed: \d+")
_BINARY_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx"}


@dataclass(frozen=True)
class LoadedTable:
    """A table as read from disk, before any cleaning.

    Attributes
    ----------
    frame
        The data, columns named as in the file (surrounding whitespace and a byte-order mark stripped).
    path
        The file read.
    sha256
        Hex digest of the file bytes as on disk.
    rows_read
        Number of data rows read.
    notes
        What was sniffed or skipped, e.g. ``"separator: TAB"`` or ``"skipped nested column 'x'"``.
    """

    frame: pd.DataFrame
    path: Path
    sha256: str
    rows_read: int
    notes: tuple[str, ...]


def file_sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file's bytes, read in chunks."""
    with _reading(Path(path)), Path(path).open("rb") as handle:
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
        If the file is missing, empty, binary, corrupt, has duplicate column names or no data rows.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"input file not found: {path}")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    kind, gz = _format_of(path)
    notes: list[str] = []
    if kind == "parquet":
        frame = _read_parquet(path, notes)
    elif kind == "xlsx":
        frame = _read_excel(path, data.sheet, notes)
    else:
        frame = _read_text(path, data, gz, notes)
    if len(frame) == 0:
        raise DataError(f"{path}: has a header but no data rows")
    return LoadedTable(frame, path, file_sha256(path), len(frame), tuple(notes))


def _format_of(path: Path) -> tuple[str, bool]:
    suffixes = [suffix.lower() for suffix in path.suffixes]
    gz = suffixes[-1:] == [".gz"]
    ext = (suffixes[-2:-1] if gz else suffixes[-1:]) or [""]
    if gz or ext[0] in (".csv", ".tsv", ".txt"):
        return "text", gz
    if ext[0] in _BINARY_FORMATS:
        return _BINARY_FORMATS[ext[0]], False
    with _reading(path), path.open("rb") as handle:
        magic = handle.read(4)
    return {b"PAR1": ("parquet", False), b"PK\x03\x04": ("xlsx", False)}.get(magic, ("text", magic[:2] == b"\x1f\x8b"))


@contextmanager
def _reading(path: Path, gz: bool = False) -> Iterator[None]:
    """Turn whatever pandas, pyarrow, openpyxl or the OS raise into a one-line DataError naming the file."""
    try:
        yield
    except DataError:
        raise
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        if gz:
            raise DataError(f"{path}: the file is not a valid gzip archive (truncated or corrupt)") from None
        raise DataError(f"{path}: cannot be read ({_reason(exc)})") from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise DataError(f"{path}: cannot be decoded as {exc.encoding} (byte 0x{byte:02x}); set data.encoding") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (ValueError, OSError, pa.ArrowException, zipfile.BadZipFile, KeyError, IndexError) as exc:
        raise DataError(f"{path}: cannot be read ({_reason(exc)})") from None


def _reason(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).strip("'\"")
    text = " ".join(text.split()).removeprefix("Error tokenizing data. C error: ") or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _clean_names(path: Path, raw: list[Any], notes: list[str], skip: Collection[int] = ()) -> list[str]:
    """Strip names, name blank ones ``column_<position>`` and reject duplicates; ``skip`` are dropped positions."""
    names = []
    for n, name in enumerate(raw, start=1):
        if n - 1 in skip:
            continue
        text = "" if name is None or (not isinstance(name, str) and pd.isna(name)) else str(name)
        text = (text.lstrip("\ufeff") if n == 1 else text).strip()
        if not text:
            notes.append(f"blank column name at position {n} named 'column_{n}'")
        names.append(text or f"column_{n}")
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise DataError(f"{path}: duplicate column name {repeated[0]!r}; column names must be unique")
    return names


def _read_text(path: Path, data: DataConfig, gz: bool, notes: list[str]) -> pd.DataFrame:
    with _reading(path, gz), (gzip.open(path, "rb") if gz else path.open("rb")) as handle:
        raw = handle.read(SAMPLE_BYTES + 1)
    complete, raw = len(raw) <= SAMPLE_BYTES, raw[:SAMPLE_BYTES]
    encoding, text = _decode(path, raw, complete, data.encoding, notes)
    if complete and not text.replace("\ufeff", "").strip():
        raise DataError(f"{path}: the file is empty")
    body = _QUOTED.sub("", text)
    sep = _separator(path, body, complete, data.sep, notes)
    decimal = data.decimal or _decimal(body, sep)
    if decimal != ".":
        notes.append(f"decimal: {decimal!r}" + (" (configured)" if data.decimal else ""))
    engine = "c" if len(sep) == 1 else "python"
    kw: dict[str, Any] = {"sep": sep, "encoding": encoding, "compression": "gzip" if gz else None, "engine": engine}
    fallback = data.encoding is None and encoding == "utf-8"
    probe = _csv(path, gz, fallback, notes, kw, header=None, nrows=PROBE_ROWS, dtype=str, na_filter=False)
    names = _clean_names(path, probe.iloc[0].tolist() if len(probe) else [], notes)
    if len(probe) < 2:
        raise DataError(f"{path}: has a header but no data rows")
    padded = [name for i, name in enumerate(names) if _zero_padded(probe.iloc[1:, i])]
    if padded:
        notes.append("zero-padded ids kept as text: " + ", ".join(padded))
    extra = {"low_memory": False} if engine == "c" else {}
    return _csv(path, gz, fallback, notes, kw, header=0, names=names, index_col=False, decimal=decimal,
                na_values=EXTRA_NA, dtype=dict.fromkeys(padded, str), **extra)


def _csv(path: Path, gz: bool, fallback: bool, notes: list[str], kw: dict[str, Any], **more: Any) -> pd.DataFrame:
    """read_csv; when UTF-8 was only a guess from the sample and fails further on, switch to cp1252 for good."""
    with _reading(path, gz):
        try:
            return pd.read_csv(path, **kw, **more)
        except UnicodeDecodeError:
            if not fallback or kw["encoding"] != "utf-8":
                raise
        kw["encoding"] = "cp1252"
        notes[:] = [note for note in notes if not note.startswith("encoding:")] + ["encoding: cp1252"]
        return pd.read_csv(path, **kw, **more)


def _decode(path: Path, raw: bytes, complete: bool, configured: str | None, notes: list[str]) -> tuple[str, str]:
    if configured:
        candidates = [configured]
    elif raw.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "cp1252"]
    try:
        codec = codecs.lookup(candidates[0]).name
    except LookupError:
        raise DataError(f"{path}: unknown encoding {configured!r} (data.encoding)") from None
    wide = "16" in codec or "32" in codec
    if not wide and (b"\x00" in raw or len(raw) - len(raw.translate(None, _CONTROL)) > len(raw) // 20):
        raise DataError(f"{path}: not a readable table (binary content)")
    for encoding in candidates:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(raw, final=complete)
        except UnicodeDecodeError:
            continue
        notes.append(f"encoding: {encoding}" + (" (configured)" if configured else ""))
        return encoding, text
    raise DataError(f"{path}: cannot be decoded as {' or '.join(candidates)}; set data.encoding")


def _separator(path: Path, body: str, complete: bool, configured: str | None, notes: list[str]) -> str:
    if configured:
        sep = "\t" if configured.lower() in ("tab", "\\t", "\t") else configured
        notes.append(f"separator: {_show(sep)} (configured)")
        return sep
    lines = body.split("\n")[: None if complete else -1]
    lines = [line for line in lines if line.strip()][:PROBE_ROWS]
    best, best_key = None, (0.0, 0)
    for sep in SEPARATORS:
        counts = [line.count(sep) for line in lines]
        if counts and counts[0]:
            # A real separator appears equally often on every line; ties go to the one splitting more columns.
            key = (sum(count == counts[0] for count in counts) / len(counts), counts[0])
            best, best_key = (sep, key) if key > best_key else (best, best_key)
    if best is None:
        best = "\t" if ".tsv" in [suffix.lower() for suffix in path.suffixes] else ","
        notes.append(f"separator: {_show(best)} (single column)")
    else:
        notes.append(f"separator: {_show(best)}")
    return best


def _show(sep: str) -> str:
    return "TAB" if sep == "\t" else repr(sep)


def _decimal(body: str, sep: str) -> str:
    if sep != ";":
        return "."
    return "," if len(_COMMA_NUMBER.findall(body)) > len(_DOT_NUMBER.findall(body)) else "."


def _zero_padded(values: pd.Series) -> bool:
    values = values.dropna()
    values = values[~values.isin(_NA_TOKENS)]
    if values.empty or not values.str.fullmatch(r"\d+").all():
        return False
    return bool((values.str.len().gt(1) & values.str.startswith("0")).any())


def _read_parquet(path: Path, notes: list[str]) -> pd.DataFrame:
    with _reading(path), pq.ParquetFile(path) as parquet:
        keep = []
        for field in parquet.schema_arrow:
            if field.name.startswith("__index_level_"):
                continue  # an unnamed pandas index: row numbers, not data
            if pa.types.is_nested(field.type):
                notes.append(f"skipped nested column {field.name!r}")
            else:
                keep.append(field.name)
        if not keep:
            raise DataError(f"{path}: no readable columns (nested columns are not supported)")
        names = _clean_names(path, keep, notes)
        frame = parquet.read(columns=keep).replace_schema_metadata(None).to_pandas()
    frame.columns = names
    return frame


def _read_excel(path: Path, sheet: str | int | None, notes: list[str]) -> pd.DataFrame:
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with _reading(path), warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            with pd.ExcelFile(path, engine="openpyxl") as book:
                name = _pick_sheet(path, book.sheet_names, sheet)
                head = pd.read_excel(book, sheet_name=name, header=None, nrows=1, na_filter=False)
                frame = pd.read_excel(book, sheet_name=name, header=0, na_values=EXTRA_NA)
    except InvalidFileException as exc:
        raise DataError(f"{path}: cannot be read ({_reason(exc)})") from None
    if sheet is not None:
        notes.append(f"sheet: {name!r}")
    raw = [*(head.iloc[0].tolist() if len(head) else []), *[None] * frame.shape[1]][: frame.shape[1]]
    if all(pd.isna(value) or not str(value).strip() for value in raw):
        raise DataError(f"{path}: sheet {name!r} has an empty header row (row 1); merged or multi-row headers "
                        "are not supported")
    unnamed = {i for i, value in enumerate(raw) if pd.isna(value) or not str(value).strip()
               or _UNNAMED.fullmatch(str(value))}
    empty = [i for i in sorted(unnamed) if frame.iloc[:, i].isna().all() and len(frame)]
    frame = frame.iloc[:, [i for i in range(frame.shape[1]) if i not in empty]]
    notes.extend(f"dropped empty unnamed column {i + 1}" for i in empty)
    frame.columns = _clean_names(path, raw, notes, skip=empty)
    return frame


def _pick_sheet(path: Path, names: list[str], sheet: str | int | None) -> str:
    if sheet is None:
        return names[0]
    if isinstance(sheet, str) and sheet not in names and sheet.strip().isdigit():
        sheet = int(sheet)
    if sheet in names or (isinstance(sheet, int) and 0 <= sheet < len(names)):
        return sheet if isinstance(sheet, str) else names[sheet]
    raise DataError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(map(repr, names))})")
