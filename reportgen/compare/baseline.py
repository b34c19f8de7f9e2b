"""Reading a previous run's output folder as the baseline of this month's comparison.

A baseline is the folder a run wrote: ``summary.json`` (what it found), ``model.json`` (how to assign customers),
``reference.json`` (feature statistics for drift) and ``segments.csv`` (who was in which segment). Only JSON and
CSV are read, never a pickle; every problem names the file.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reportgen.errors import BaselineError, is_link_loop
from reportgen.model.modelfile import check_model, model_digest
from reportgen.result import FORMAT_VERSION
from reportgen.result.cells import UNESCAPE

REFERENCE_FORMAT = 2
FILES = ("summary.json", "model.json", "reference.json", "segments.csv")


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
        report = self.summary.get("report", {})
        log = self.summary.get("transactions") or {}
        return report.get("period") or log.get("as_of") or self.folder.name

    @property
    def segment_names(self) -> dict[int, str]:
        """Segment id → name in the baseline."""
        return {int(s["id"]): str(s["name"]) for s in self.summary.get("segments", [])}

    @property
    def segment_colors(self) -> dict[int, str]:
        """Segment id → colour in the baseline."""
        return {int(s["id"]): str(s["color"]) for s in self.summary.get("segments", [])}


MAX_JSON_BYTES = 256_000_000  # far beyond any summary, model or reference a run writes
MAX_SEGMENTS = 1000


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _json(path: Path) -> Any:
    if not path.is_file():
        raise BaselineError(f"{path}: missing from the baseline folder (a run writes {', '.join(FILES)})")
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise BaselineError(f"{path}: larger than {MAX_JSON_BYTES // 1_000_000} MB; not a file a run writes")
        return json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BaselineError(f"{path}: not valid JSON ({exc.__class__.__name__}: {exc})") from None
    except RecursionError:
        raise BaselineError(f"{path}: not a reportgen file (nested too deeply)") from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot be read ({exc.strerror})") from None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_summary(summary: Any, path: Path) -> None:
    """Refuse a summary.json whose parts the comparison reads have the wrong types or shapes (file edited)."""
    def bad(what: str) -> BaselineError:
        return BaselineError(f"{path}: {what} (file edited or corrupt)")

    if not isinstance(summary, dict):
        raise bad("not a JSON object")
    for part in ("run", "data", "report"):
        if not isinstance(summary.get(part, {}), dict):
            raise bad(f"'{part}' is not an object")
    if not isinstance(summary.get("transactions") or {}, dict):
        raise bad("'transactions' is not an object")
    id_column = summary.get("data", {}).get("id_column")
    if id_column is not None and not isinstance(id_column, str):
        raise bad("'data.id_column' is not a text")
    segments = summary.get("segments")
    if not isinstance(segments, list) or not segments:
        raise bad("'segments' is not a non-empty list")
    if len(segments) > MAX_SEGMENTS:
        raise bad(f"more than {MAX_SEGMENTS} segments")
    seen = set()
    for index, segment in enumerate(segments):
        where = f"segment #{index + 1}"
        if not isinstance(segment, dict):
            raise bad(f"{where} is not an object")
        sid = segment.get("id")
        if type(sid) is not int or not 0 <= sid < MAX_SEGMENTS or sid in seen:
            raise bad(f"{where} has an id that is not a unique whole number from 0 ({sid!r})")
        seen.add(sid)
        if not isinstance(segment.get("name"), str) or not isinstance(segment.get("color"), str):
            raise bad(f"segment {sid} has no name or colour text")
        if type(segment.get("size")) is not int or segment["size"] < 0:
            raise bad(f"segment {sid} has a size that is not a whole number ({segment.get('size')!r})")
        for key in ("share", "value_share"):
            if not _finite(segment.get(key)) and not (key == "value_share" and segment.get(key) is None):
                raise bad(f"segment {sid} has a {key} that is not a finite number ({segment.get(key)!r})")
        stats = segment.get("stats", [])
        if not isinstance(stats, list) or not all(
                isinstance(st, dict) and (st.get("mean") is None or _finite(st.get("mean"))) for st in stats):
            raise bad(f"segment {sid} has malformed stats")


def _version(data: Any, path: Path, newest: int, key: str = "format_version") -> None:
    version = data.get(key) if isinstance(data, dict) else None
    if not isinstance(version, int):
        raise BaselineError(f"{path}: has no {key}; not written by reportgen or corrupt")
    if version > newest:
        raise BaselineError(f"{path}: written by a newer reportgen (format {version}; this version reads up to "
                            f"{newest}); upgrade reportgen to compare with it")


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
    summary = _json(folder / "summary.json")
    _version(summary, folder / "summary.json", FORMAT_VERSION)
    check_summary(summary, folder / "summary.json")
    model = _json(folder / "model.json")
    check_model(model, str(folder / "model.json"))
    recorded = (summary.get("run") or {}).get("model_sha256")
    if recorded and recorded != model_digest(model):
        raise BaselineError(f"{folder / 'model.json'}: does not match the digest recorded in summary.json "
                            "(the model file was edited or replaced)")
    reference = _json(folder / "reference.json")
    _version(reference, folder / "reference.json", REFERENCE_FORMAT, key="format")
    id_name = (summary.get("data") or {}).get("id_column") or ""
    ids, segments = _assignments(folder / "segments.csv", id_name if id_name else "")
    return Baseline(folder, summary, model, reference, ids, segments)
