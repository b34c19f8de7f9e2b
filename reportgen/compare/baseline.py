"""Reading a previous run's output folder as the baseline of this month's comparison.

A baseline is the folder a run wrote: ``summary.json`` (what it found), ``model.json`` (how to assign customers),
``reference.json`` (feature statistics for drift) and ``segments.csv`` (who was in which segment). Only JSON and
CSV are read, never a pickle; every problem names the file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reportgen.errors import BaselineError, is_link_loop
from reportgen.model.modelfile import check_model, model_digest
from reportgen.result.cells import UNESCAPE
from reportgen.result.summary import check_version, read_json, read_summary, summary_period

REFERENCE_FORMAT = 2


@dataclass(frozen=True)
class Baseline:
    """Everything this month's comparison needs from last month's run."""

    folder: Path
    summary: dict[str, Any]
    model: dict[str, Any]
    reference: dict[str, Any]
    ids: pd.Series  # customer id as text
    segments: pd.Series  # segment id per customer, aligned with ids

    @property
    def period(self) -> str:
        """The baseline's period label (its report period, else its as-of date, else its folder name)."""
        return summary_period(self.summary, self.folder.name)

    @property
    def segment_names(self) -> dict[int, str]:
        """Segment id → name in the baseline."""
        return {int(s["id"]): str(s["name"]) for s in self.summary.get("segments", [])}

    @property
    def segment_colors(self) -> dict[int, str]:
        """Segment id → colour in the baseline."""
        return {int(s["id"]): str(s["color"]) for s in self.summary.get("segments", [])}


def _assignments(path: Path, id_name: str) -> tuple[pd.Series, pd.Series]:
    if not path.is_file():
        raise BaselineError(f"{path}: missing from the baseline folder (run the baseline with the csv format)")
    # Columns are read by position: the id column keeps its own name, which may even be "segment_id".
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
        table = pd.read_csv(path, dtype=str, keep_default_na=False, header=None, skiprows=1)
        if header[1:2] != ["segment_id"] or table.shape[1] < 2:
            raise KeyError("segment_id")
        ids = table[0].str.replace(UNESCAPE, "", regex=True)
        segments = pd.to_numeric(table[1], errors="raise").astype("int64")
    except (KeyError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: not a reportgen segments file ({exc.__class__.__name__})") from None
    if header[0] != id_name and id_name:
        raise BaselineError(f"{path}: first column is {header[0]!r}, expected the id column {id_name!r}")
    return ids, segments


def load_baseline(folder: Path) -> Baseline:
    """Read and check a previous run's folder.

    Raises
    ------
    BaselineError
        When the folder or a file is missing or corrupt, written by a newer format, or the model file was edited.
    """
    folder = Path(folder)
    if not folder.is_dir():
        if is_link_loop(folder):
            raise BaselineError(f"baseline folder {folder}: a symbolic link loop")
        raise BaselineError(f"baseline folder not found: {folder}")
    summary = read_summary(folder / "summary.json")
    model = read_json(folder / "model.json")
    check_model(model, str(folder / "model.json"))
    recorded = (summary.get("run") or {}).get("model_sha256")
    if recorded and recorded != model_digest(model):
        raise BaselineError(f"{folder / 'model.json'}: does not match the digest recorded in summary.json "
                            "(the model file was edited or replaced)")
    reference = read_json(folder / "reference.json")
    check_version(reference, folder / "reference.json", REFERENCE_FORMAT, key="format")
    id_name = (summary.get("data") or {}).get("id_column") or ""
    ids, segments = _assignments(folder / "segments.csv", id_name if id_name else "")
    return Baseline(folder, summary, model, reference, ids, segments)
