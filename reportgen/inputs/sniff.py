"""Sniff what a table file does not say about itself: encoding, separator and clean column names.

Shared by the customer-table reader (:mod:`reportgen.inputs.files`) and the transaction-log reader
(:mod:`reportgen.inputs.logs.transactions`), so that both
judge a file from the same first bytes in the same way and word their
errors alike. Guesses are appended to a caller's ``notes`` list, e.g. ``"separator: TAB"``.
"""

from __future__ import annotations

import codecs
import gzip
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

import pandas as pd
import pyarrow as pa

from reportgen.errors import DataError, is_link_loop
from reportgen.memory import size_text

SAMPLE_BYTES = 64 * 1024
PROBE_ROWS = 1000
_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"')
# C0 control bytes other than tab, line breaks and form feed practically never occur in a text table.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


@contextmanager
def reading(path: Path, gz: bool = False) -> Iterator[None]:
    """Turn whatever pandas, pyarrow, openpyxl or the OS raise into a one-line DataError naming the file.

    Parameters
    ----------
    path
        The file being read, named in the error.
    gz
        Whether the file is gzipped, so that a decompression error is reported as a bad archive.

    Raises
    ------
    DataError
        In place of the I/O, decoding, parsing or archive error raised inside the block.
    """
    try:
        yield
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        reason = "the file is not a valid gzip archive (truncated or corrupt)" if gz else _reason(exc)
        raise DataError(f"{path}: {reason}") from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise DataError(f"{path}: cannot be decoded as {exc.encoding} (byte 0x{byte:02x}); set data.encoding") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (ElementTree.ParseError, ExpatError) as exc:  # a workbook's XML: malformed, or entity bombs refused
        raise DataError(f"{path}: not a readable workbook (its XML cannot be parsed: {_one_line(exc)})") from None
    except LookupError as exc:
        raise DataError(f"{path}: cannot be read ({exc}); set data.encoding to one such as utf-8, cp1252, utf-16")\
            from None
    except (MemoryError, ValueError, OSError, pa.ArrowException, zipfile.BadZipFile) as exc:
        # pyarrow's ArrowMemoryError is a MemoryError too; pandas' tokenizer says "C error: out of memory".
        if isinstance(exc, MemoryError) or "out of memory" in str(exc):
            raise DataError(f"{path}: not enough memory to read the file ({size_text(path.stat().st_size)}); keep "
                            "only the columns to segment on, split or sample the rows, or raise the memory limit"
                            ) from None
        raise DataError(f"{path}: {_reason(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."


def _reason(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).strip("'\"")
    text = " ".join(text.split()).removeprefix("Error tokenizing data. C error: ") or type(exc).__name__
    return f"cannot be read ({text if len(text) <= 160 else text[:157] + '...'})"


def require_file(path: Path) -> None:
    """Raise a DataError unless ``path`` is an existing regular file."""
    if not path.is_file():
        if is_link_loop(path):
            raise DataError(f"{path}: a symbolic link loop, not a file")
        raise DataError(f"{path}: is a directory, not a file" if path.is_dir() else f"input file not found: {path}")


def read_magic(path: Path) -> bytes:
    """The first four bytes of a file, which tell Parquet, zip (xlsx) and gzip apart from text."""
    with reading(path), path.open("rb") as handle:
        return handle.read(4)


def read_sample(path: Path, gz: bool, configured: str | None, notes: list[str]) -> tuple[str, str, bool]:
    """Read and decode the first :data:`SAMPLE_BYTES` of a text file, noting the encoding used.

    Parameters
    ----------
    path
        Text file, gzipped when ``gz``.
    gz
        Whether to decompress the file first.
    configured
        ``data.encoding``; when unset a BOM decides, else UTF-8 and then cp1252 are tried.
    notes
        Receives ``"encoding: <name>"``.

    Returns
    -------
    tuple[str, str, bool]
        The encoding, the decoded text with every line break as ``\n``, and whether the sample holds the whole file.

    Raises
    ------
    DataError
        If the file cannot be read, looks binary or cannot be decoded.
    """
    with reading(path, gz), (gzip.open(path, "rb") if gz else path.open("rb")) as handle:
        raw = handle.read(SAMPLE_BYTES + 1)
    complete, raw = len(raw) <= SAMPLE_BYTES, raw[:SAMPLE_BYTES]
    encoding, text = _decode(path, raw, complete, configured, notes)
    # Old Mac exports end lines with a bare CR; the sniffers and header readers split lines on LF only.
    return encoding, text.replace("\r\n", "\n").replace("\r", "\n"), complete


def _decode(path: Path, raw: bytes, complete: bool, configured: str | None, notes: list[str]) -> tuple[str, str]:
    candidates = ["utf-8", "cp1252"]
    nul_even, nul_odd = (half.count(0) / max(len(half), 1) for half in (raw[0::2], raw[1::2]))
    if configured or raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [configured or ("utf-8-sig" if raw.startswith(codecs.BOM_UTF8) else "utf-16")]
    elif len(raw) >= 8 and max(nul_even, nul_odd) >= 0.9 and min(nul_even, nul_odd) <= 0.1:  # UTF-16 without BOM
        candidates = ["utf-16-le" if nul_odd > nul_even else "utf-16-be"]
    with reading(path):
        codec = codecs.lookup(candidates[0]).name
    controls = len(raw) - len(raw.translate(None, _CONTROL))
    # A stray NUL or control byte in a cell is data; a file made of them is not a table.
    if "16" not in codec and "32" not in codec and (raw.count(0) > len(raw) // 100 or controls > len(raw) // 20):
        raise DataError(f"{path}: not a readable table (binary content)")
    failure = None
    for encoding in candidates:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(raw, final=complete)
        except UnicodeDecodeError as exc:
            failure = failure or exc
            continue
        notes.append(f"encoding: {encoding}" + (" (configured)" if configured else ""))
        return encoding, text
    start = failure.start if failure else 0
    where = f" line {raw[:start].count(10) + 1} (byte 0x{raw[start]:02x}):" if failure else ""
    advice = "check data.encoding" if configured else "set data.encoding"
    raise DataError(f"{path}:{where} cannot be decoded as {' or '.join(candidates)}; {advice}")


def unquoted(text: str) -> str:
    """``text`` without its double-quoted fields, whose separators and decimal marks are data, not structure."""
    return _QUOTED.sub("", text)


def sniff_separator(path: Path, body: str, complete: bool, configured: str | None, notes: list[str]) -> str:
    """The field separator: ``configured`` (``tab`` or ``\\t`` meaning TAB), else the one most consistent per line.

    Parameters
    ----------
    path
        The file; a ``.tsv`` suffix makes a single-column file tab-separated.
    body
        The sample text with quoted fields removed (see :func:`unquoted`).
    complete
        Whether the sample holds the whole file; if not, its last, possibly cut, line is ignored.
    configured
        ``data.sep``, or None to sniff among comma, semicolon, TAB and pipe.
    notes
        Receives ``"separator: <sep>"``.

    Returns
    -------
    str
        The separator.

    Raises
    ------
    DataError
        If the configured separator is missing from the header line while another one splits every line alike.
    """
    lines = [line for line in body.split("\n")[: None if complete else -1] if line.strip()][:PROBE_ROWS]
    if configured:
        best = "\t" if configured.lower() in ("tab", "\\t") else configured
        sniffed, score = _most_consistent(lines)
        # A stale config meeting a re-exported file would otherwise read every row as one text column.
        if lines and best not in lines[0] and sniffed is not None and score[0] == 1.0:
            raise DataError(f"{path}: data.sep = {configured!r} does not occur in the header line; the file looks "
                            f"{_label(sniffed)}-separated (change data.sep or remove it to sniff the separator)")
        how = " (configured)"
    else:
        best, how = _most_consistent(lines)[0], ""
    if best is None:
        best, how = ("\t" if ".tsv" in [suffix.lower() for suffix in path.suffixes] else ","), " (single column)"
    notes.append(f"separator: {_label(best)}{how}")
    return best


def _most_consistent(lines: list[str]) -> tuple[str | None, tuple[float, int]]:
    """The candidate separator found equally often on most lines, with (share of such lines, count per line)."""
    best, key = None, (0.0, 0)
    for sep in (",", ";", "\t", "|"):
        counts = [line.count(sep) for line in lines]
        # A real separator appears equally often on every line; ties go to the one splitting more columns.
        if counts and counts[0] and (score := (sum(c == counts[0] for c in counts) / len(counts), counts[0])) > key:
            best, key = sep, score
    return best, key


def _label(sep: str) -> str:
    return "TAB" if sep == "\t" else repr(sep)


def clean_names(path: Path, raw: list[Any], notes: list[str], skip: Collection[int] = ()) -> list[str]:
    """Strip column names, join lines of a wrapped name with a space, name blank ones ``column_<position>`` and
    reject duplicates.

    Parameters
    ----------
    path
        The file, named in the error.
    raw
        The header cells as read; None or NaN counts as blank, and a BOM before the first name is dropped.
    notes
        Receives a note for every blank name filled in.
    skip
        0-based positions of columns the caller drops; they keep their place in the numbering.

    Returns
    -------
    list[str]
        The names of the columns not skipped.

    Raises
    ------
    DataError
        If two kept columns end up with the same name.
    """
    names = []
    for n, name in enumerate(raw, start=1):
        text = "" if name is None or (not isinstance(name, str) and pd.isna(name)) else str(name)
        # A line break inside a header cell (wrapped Excel headers) is layout; kept, it would split error messages.
        text = re.sub(r"\s*[\r\n]+\s*", " ", (text.lstrip("\ufeff") if n == 1 else text).strip())
        if n - 1 not in skip:
            names.append(text or f"column_{n}")
            notes.extend([] if text else [f"blank column name at position {n} named 'column_{n}'"])
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise DataError(f"{path}: duplicate column name {repeated[0]!r}; column names must be unique")
    return names


def sheet_name(path: Path, sheets: list[str], sheet: str | int | None) -> str:
    """The workbook sheet ``data.sheet`` names: a name, a 0-based position (also written as text), or the first.

    Raises
    ------
    DataError
        Naming the sheets the workbook has, when there is no such sheet.
    """
    if isinstance(sheet, str) and sheet not in sheets and sheet.strip().isdigit():
        sheet = int(sheet)
    if not (sheet is None or sheet in sheets or (isinstance(sheet, int) and 0 <= sheet < len(sheets))):
        raise DataError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(map(repr, sheets))})")
    return sheet if isinstance(sheet, str) else sheets[sheet or 0]
