"""A run's ``summary.json`` read back: one reader, with its checks, for the baseline and the history.

Only JSON is read, never a pickle. Every problem names the file; a summary whose parts have the wrong types or
shapes (an edited or corrupt file) is refused before anything uses it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from reportgen.errors import BaselineError
from reportgen.result import FORMAT_VERSION

FILES = ("summary.json", "model.json", "reference.json", "segments.csv")  # what a run folder holds

MAX_JSON_BYTES = 256_000_000  # far beyond any summary, model or reference a run writes
MAX_SEGMENTS = 1000


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def read_json(path: Path) -> Any:
    """A JSON file of a run folder (NaN and Infinity refused), or a BaselineError naming it."""
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


def check_version(data: Any, path: Path, newest: int, key: str = "format_version") -> None:
    """Refuse a file without a format number, or written by a newer format than this version reads."""
    version = data.get(key) if isinstance(data, dict) else None
    if not isinstance(version, int):
        raise BaselineError(f"{path}: has no {key}; not written by reportgen or corrupt")
    if version > newest:
        raise BaselineError(f"{path}: written by a newer reportgen (format {version}; this version reads up to "
                            f"{newest}); upgrade reportgen to read it")


def read_summary(path: Path) -> dict[str, Any]:
    """Read and check a run's ``summary.json``.

    Raises
    ------
    BaselineError
        When the file is missing, not JSON, written by a newer format, or its parts have the wrong shapes.
    """
    summary = read_json(path)
    check_version(summary, path, FORMAT_VERSION)
    check_summary(summary, path)
    return summary


def summary_period(summary: dict[str, Any], folder_name: str) -> str:
    """A run's period label: its report period, else its as-of date, else its folder's name."""
    report = summary.get("report") or {}
    log = summary.get("transactions") or {}
    return str(report.get("period") or log.get("as_of") or folder_name)
