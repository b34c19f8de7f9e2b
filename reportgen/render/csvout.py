"""Per-customer CSV files, written by one writer that neutralises spreadsheet formula injection."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from reportgen.render import RenderContext, register
from reportgen.result import AnalysisResult, CustomerTable
from reportgen.result.cells import TRIGGERS as _TRIGGERS

_NEEDS_QUOTES = r'[,"\r\n]'


def _float_text(values: np.ndarray) -> pa.Array:
    """Floats rounded to 6 places in their shortest round-trip form (``2``, ``-3.5``, ``1e+20``); NaN and ±inf
    become empty cells."""
    rounded = np.round(values.astype(np.float64), 6) + 0.0  # + 0.0 turns -0.0 into 0.0
    return pc.cast(pa.array(rounded, mask=~np.isfinite(rounded)), pa.string())


def safe_cell(value: object) -> str:
    """Text for one CSV cell: numbers as written; text that a spreadsheet would run as a formula gets a
    leading apostrophe (OWASP CSV-injection guidance). Negative numbers stay numbers."""
    if isinstance(value, (float, np.floating)):
        return _float_text(np.array([value])).to_pylist()[0] or ""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    text = "" if value is None else str(value)
    if text.startswith(_TRIGGERS):
        try:
            float(text)
            return text
        except ValueError:
            return "'" + text
    return text


def _safe_column(values: np.ndarray) -> pa.Array:
    """:func:`safe_cell` over a whole column, vectorised where the column is all numbers or all text."""
    if values.dtype.kind in "iu":
        return pa.array(values)
    if values.dtype.kind == "f":
        return _float_text(values)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return pa.array([safe_cell(v) for v in values], type=pa.string())
    text = pd.Series(values, dtype=object).fillna("")
    risky = text.str.startswith(_TRIGGERS)
    if risky.any():  # a leading sign is fine when the whole cell is a number
        risky[risky] = pd.to_numeric(text[risky], errors="coerce").isna()
        text[risky] = "'" + text[risky]
    return pa.array(text.to_numpy(), type=pa.string())


def write_columns(path: Path, header: Sequence[str], columns: Sequence[np.ndarray]) -> Path:
    """Write a CSV (UTF-8, ``\n`` line ends, quotes only where needed) from whole columns, every cell through
    :func:`safe_cell`. Arrow's C++ writer does the rows unless some cell needs quotes."""
    table = pa.table({str(i): _safe_column(np.asarray(c)) for i, c in enumerate(columns)})
    texts = [c for c in table.columns if pa.types.is_string(c.type)]
    quoted = any(pc.any(pc.match_substring_regex(c, _NEEDS_QUOTES)).as_py() for c in texts)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow([safe_cell(h) for h in header])
        if quoted:  # the csv module quotes minimally, as the header row above
            table.to_pandas().to_csv(handle, header=False, index=False, lineterminator="\n")
    if not quoted:
        with path.open("ab") as handle:
            pacsv.write_csv(table, handle, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return path


def write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """:func:`write_columns` for data held row by row."""
    rows = list(rows)
    columns = [np.array(column, dtype=object) for column in zip(*rows, strict=True)] if rows else \
        [np.array([], dtype=object) for _ in header]
    return write_columns(path, header, columns)


@register("csv")
def render_csv(result: AnalysisResult, customers: CustomerTable, ctx: RenderContext, out_dir: Path) -> list[Path]:
    """Write ``segments.csv`` (customer id, segment id and name, distance to the centroid) and, when the input
    carried per-customer features (a transaction log), ``customers.csv`` with every feature, the R/F/M scores,
    the RFM group and the segment; and one ``audience_segment<id>_<rule>.csv`` per recommendation listing the
    customers it targets (named in each recommendation's ``audience_file``)."""
    names = np.asarray(customers.segment_names, dtype=object)[customers.segment]
    header = [customers.id_name, "segment_id", "segment_name", "distance_to_centroid"]
    written = [write_columns(out_dir / "segments.csv", header,
                             [customers.ids, customers.segment, names, customers.distance])]
    # One audience file per recommendation: the targeted customers, ready for a campaign tool.
    segment_of = {s.id: s.name for s in result.segments}
    for rec in result.recommendations:
        rows = customers.audiences.get(rec.audience_file)
        if not rec.audience_file or rows is None:
            continue
        written.append(write_columns(out_dir / rec.audience_file, [customers.id_name, "segment_id", "segment_name"],
                                     [customers.ids[rows], customers.segment[rows],
                                      np.full(len(rows), segment_of.get(rec.segment_id, ""), dtype=object)]))
    if customers.columns:
        extra = list(customers.columns)
        columns = [customers.ids, *customers.columns.values(), customers.segment, names]
        written.append(write_columns(out_dir / "customers.csv",
                                     [customers.id_name, *extra, "segment_id", "segment_name"], columns))
    return written
