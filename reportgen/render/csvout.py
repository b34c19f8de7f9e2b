"""Per-customer CSV files, written by one writer that neutralises spreadsheet formula injection."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.render import RenderContext, register
from reportgen.result import AnalysisResult, CustomerTable

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Text for one CSV cell: numbers as written; text that a spreadsheet would run as a formula gets a
    leading apostrophe (OWASP CSV-injection guidance). Negative numbers stay numbers."""
    if isinstance(value, (float, np.floating)):
        return "" if not np.isfinite(value) else repr(round(float(value), 6))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = "" if value is None else str(value)
    if text.startswith(_TRIGGERS):
        try:
            float(text)
            return text
        except ValueError:
            return "'" + text
    return text


def write_rows(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Write a CSV with ``\\n`` line endings and UTF-8, every cell through :func:`safe_cell`."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([safe_cell(h) for h in header])
        writer.writerows([safe_cell(v) for v in row] for row in rows)
    return path


def _safe_column(values: np.ndarray) -> np.ndarray | pd.Series:
    """:func:`safe_cell` over a whole column, vectorised (numbers stay numbers; floats rounded to 6 places)."""
    if values.dtype.kind in "iub":
        return values
    if values.dtype.kind == "f":
        return np.where(np.isfinite(values), np.round(values, 6), np.nan)
    series = pd.Series(values, dtype=object)
    missing = series.isna()
    text = series.astype(str).where(~missing, "")
    risky = text.str.startswith(_TRIGGERS)
    if risky.any():  # a leading sign is fine when the whole cell is a number
        risky[risky] = pd.to_numeric(text[risky], errors="coerce").isna()
        text[risky] = "'" + text[risky]
    return text.to_numpy()


def write_columns(path: Path, header: Sequence[str], columns: Sequence[np.ndarray]) -> Path:
    """Write a CSV from whole columns, cell for cell as :func:`write_rows` would, at columnar speed."""
    frame = pd.DataFrame({i: _safe_column(np.asarray(c)) for i, c in enumerate(columns)})
    frame.columns = [safe_cell(h) for h in header]
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8", na_rep="")
    return path


@register("csv")
def render_csv(result: AnalysisResult, customers: CustomerTable, ctx: RenderContext, out_dir: Path) -> list[Path]:
    """Write ``segments.csv`` (customer id, segment id and name, distance to the centroid) and, when the input
    carried per-customer features (a transaction log), ``customers.csv`` with every feature, the R/F/M scores,
    the RFM group and the segment."""
    names = np.asarray(customers.segment_names, dtype=object)[customers.segment]
    header = [customers.id_name, "segment_id", "segment_name", "distance_to_centroid"]
    written = [write_columns(out_dir / "segments.csv", header,
                             [customers.ids, customers.segment, names, customers.distance])]
    if customers.columns:
        extra = list(customers.columns)
        columns = [customers.ids, *customers.columns.values(), customers.segment, names]
        written.append(write_columns(out_dir / "customers.csv",
                                     [customers.id_name, *extra, "segment_id", "segment_name"], columns))
    return written
