"""A folder of monthly runs read back as a time series: one :class:`RunPoint` per run, ordered by period.

Only each run's ``summary.json`` is read (JSON, never a pickle). Segments are followed across runs by name, the
identity a comparison run keeps when it carries a segment over from its baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from reportgen.errors import BaselineError, DataError
from reportgen.result.summary import read_summary, summary_period

SUMMARY = "summary.json"
MIN_RUNS = 3  # fewer points make a trend nobody should read


class SegmentPoint(NamedTuple):
    """One segment of one run, as its summary recorded it."""

    name: str
    color: str
    size: int
    share: float
    value_share: float | None


@dataclass(frozen=True)
class RunPoint:
    """What the trend report needs from one run's ``summary.json``."""

    period: str
    folder: str
    customers: int
    segments: tuple[SegmentPoint, ...]
    drift_share: float | None = None  # share of features drifted against the run's baseline, if it had one
    dataset_drift: bool | None = None
    advice: str | None = None  # keep | retrain, when the run was compared with a baseline
    company: str = ""
    accent_color: str = ""
    page_size: str = "A4"
    value_column: str | None = None
    dataset_share: float | None = None  # the run's drift threshold: share of drifted features that flags the data


@dataclass(frozen=True)
class History:
    """The runs in period order, and every segment name seen, in first-seen order with its latest colour."""

    runs: tuple[RunPoint, ...]
    segments: tuple[tuple[str, str], ...]  # (name, colour)

    @classmethod
    def from_runs(cls, runs: Iterable[RunPoint], unused_color: Callable[[set[str], str], str]) -> History:
        """Build the history of ``runs`` (already in period order); ``unused_color(taken, fallback)`` picks a
        colour for a retired segment whose colour a current one now wears (a presentation choice)."""
        runs = tuple(runs)
        latest = {segment.name: segment.color for run in runs for segment in run.segments}
        order = list(dict.fromkeys(segment.name for run in runs for segment in run.segments))
        return cls(runs, tuple(_distinct(order, latest, runs[-1] if runs else None, unused_color)))

    @property
    def labels(self) -> tuple[str, ...]:
        """One axis label per run: its period, with the folder added when two runs share a period."""
        periods = [run.period for run in self.runs]
        return tuple(run.period if periods.count(run.period) == 1 else f"{run.period} ({run.folder})"
                     for run in self.runs)

    @property
    def has_drift(self) -> bool:
        """Whether any run was compared with a baseline and recorded its drift."""
        return any(run.drift_share is not None for run in self.runs)


def _distinct(order: list[str], latest: dict[str, str], last: RunPoint | None,
              unused_color: Callable[[set[str], str], str]) -> list[tuple[str, str]]:
    """Pair names with colours; a retired segment whose colour a current one now wears gets an unused colour."""
    current = {s.name for s in last.segments} if last else set()
    taken = {latest[name] for name in current}
    pairs = []
    for name in order:
        color = latest[name]
        if name not in current and color in taken:
            color = unused_color(taken, color)
        taken.add(color)
        pairs.append((name, color))
    return pairs


def _optional(value: Any, kind: type) -> Any:
    return None if value is None else kind(value)


def _run_point(folder: Path, summary: Any) -> RunPoint:
    report = summary.get("report") or {}
    comparison = summary.get("comparison") or {}
    drift = comparison.get("drift") or {}
    segments = tuple(SegmentPoint(str(s["name"]), str(s["color"]), int(s["size"]), float(s["share"]),
                                  _optional(s.get("value_share"), float)) for s in summary["segments"])
    return RunPoint(
        period=summary_period(summary, folder.name), folder=folder.name,
        customers=int(summary["data"]["rows_segmented"]), segments=segments,
        drift_share=_optional(drift.get("share_drifted"), float),
        dataset_drift=_optional(drift.get("dataset_drift"), bool),
        advice=_optional((comparison.get("advice") or {}).get("action"), str),
        company=str(report.get("company") or ""), accent_color=str(report.get("accent_color") or ""),
        page_size=str(report.get("page_size") or "A4"), value_column=_optional(summary.get("value_column"), str),
        dataset_share=_optional(((summary.get("run") or {}).get("config") or {}).get("comparison", {})
                                .get("dataset_share"), float))


def read_run(folder: Path) -> RunPoint:
    """Read one run folder's ``summary.json``.

    Raises
    ------
    BaselineError
        When the file cannot be read, is not JSON, or lacks what a reportgen summary holds.
    """
    path = folder / SUMMARY
    summary = read_summary(path)
    try:
        return _run_point(folder, summary)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = " ".join(str(exc).split())
        raise BaselineError(f"{path}: not a reportgen summary ({type(exc).__name__}: {detail})") from None


def collect_runs(folder: Path) -> tuple[RunPoint, ...]:
    """Read every run in ``folder`` (its immediate subfolders holding a ``summary.json``), ordered by period.

    Parameters
    ----------
    folder
        Folder of run output folders; other subfolders and files are ignored.

    Returns
    -------
    tuple of RunPoint
        Sorted by period (ISO-like periods such as ``2026-10`` sort in time order), then by folder name.

    Raises
    ------
    DataError
        When ``folder`` is not a folder or holds fewer than three runs.
    BaselineError
        When a ``summary.json`` is corrupt (names the file).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"runs folder not found: {folder}")
    runs = [read_run(sub) for sub in sorted(folder.iterdir()) if sub.is_dir() and (sub / SUMMARY).is_file()]
    if len(runs) < MIN_RUNS:
        raise DataError(f"needs at least {MIN_RUNS} runs, found {len(runs)} in {folder}")
    return tuple(sorted(runs, key=lambda run: (run.period, run.folder)))
