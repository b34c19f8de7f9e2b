"""Refuse an input too large for the memory available before reading it, rather than being killed half-way.

Before reading a table whole, the loader has its size in memory estimated (text: from the file size and the
sampled rows; Parquet: from the footer, for the columns read; Excel: from the sheet's XML) and scaled by what a
run needs beside it (cleaning copies, feature matrix, K-Means, profiles: 5-7.5 times the table on 0.1 to 10 million
rows, plus a fixed part). The need is compared with the tightest budget: the physical memory available
(``/proc/meminfo``), the cgroup limit less its usage (v2 ``memory.max``, v1 ``memory.limit_in_bytes``, every level
up), ``RLIMIT_AS``/``RLIMIT_DATA`` less what the process maps (``ulimit -v``, ``prlimit --as``), and
``REPORTGEN_MEMORY_LIMIT`` (e.g. ``2GB``), a cap for reportgen alone. A refusal is one DataError line naming the
file, its size, the estimate, the limit and what to do; text files far below every budget are not even estimated.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import io
import os
import re
import resource
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.errors import AnalysisError, ConfigError, DataError

if TYPE_CHECKING:
    import pandas as pd

ENV_LIMIT = "REPORTGEN_MEMORY_LIMIT"
RUN_FACTOR = 6.0  # peak memory of a run, per byte of the loaded table
FIXED_NEED = 150 * 2**20  # libraries loaded on the way, silhouette blocks, the map: independent of the rows
WORST_TEXT_RATIO = 9.0  # most bytes in memory per byte of text: an empty cell (1 byte) becomes an 8-byte NaN
_UNLIMITED = 2**60  # cgroup v1 writes "no limit" as a huge page-aligned number
_NUMBER = r"\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*"
_GZIP_PROBE = 2**20  # compressed bytes decompressed to measure a gzip file's ratio
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Budget:
    """Bytes a run may still allocate, and the limit that says so (e.g. ``the cgroup limit of 2.0 GB``)."""

    available: int
    source: str


def size_text(n: float) -> str:
    """Bytes in decimal units with three significant figures: ``2.15 GB``, ``512 MB``, ``900 kB``."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} bytes"


def parse_size(text: str) -> int:
    """``2GB``, ``1.5G``, ``512MiB`` or a plain byte count as bytes (k, M, G, T powers of 1024)."""
    match = _SIZE.fullmatch(str(text))
    if not match:
        raise ValueError(f"not a size: {text!r}")
    return int(float(match.group(1)) * 1024 ** " kmgt".index(match.group(2).lower() or " "))


def _proc(name: str) -> dict[str, int]:
    """A ``/proc`` key-value file (``MemAvailable:  123 kB``) as bytes per key; empty where there is none."""
    try:
        lines = Path(name).read_text().splitlines()
    except OSError:
        return {}
    parsed = ((key, rest.split()) for key, _, rest in (line.partition(":") for line in lines))
    return {key: int(v[0]) * (1024 if v[1:2] == ["kB"] else 1) for key, v in parsed if v and v[0].isdigit()}


def _read(path: Path, key: str | None = None) -> int | None:
    """A cgroup file's number, or the value of ``key`` in a ``memory.stat``-style file; None when absent."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    pairs = (line.partition(" ")[::2] if key else ("", line.strip()) for line in lines)
    return next((int(v) for k, v in pairs if k == (key or "") and v.isdigit()), None)


def _cgroup_dirs() -> list[tuple[int, Path, Path]]:
    """(version, this process's memory cgroup folder, the hierarchy's mount point) for v2 and v1 memory."""
    mounts: dict[int, tuple[str, Path]] = {}
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text().splitlines()
        own = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    for line in mountinfo:
        left, _, right = line.partition(" - ")
        fields, extra = left.split(), right.split()
        if len(fields) < 5 or len(extra) < 3:
            continue
        if extra[0] == "cgroup2":
            mounts.setdefault(2, (fields[3], Path(fields[4])))
        elif extra[0] == "cgroup" and "memory" in extra[2].split(","):
            mounts.setdefault(1, (fields[3], Path(fields[4])))
    found = []
    for line in own:
        hierarchy, controllers, cgroup = [*line.split(":", 2), "", ""][:3]
        version = 2 if hierarchy == "0" and not controllers else 1 if "memory" in controllers.split(",") else 0
        if version in mounts:
            root, mount = mounts[version]
            relative = os.path.relpath(cgroup, root) if cgroup.startswith(root) else "."
            folder = (mount / relative).resolve()
            found.append((version, folder if folder.is_dir() else mount, mount))
    return found


def _cgroup_budget() -> Budget | None:
    """The tightest cgroup limit less usage (page cache that can be dropped does not count as used)."""
    best: Budget | None = None
    for version, folder, mount in _cgroup_dirs():
        files = (("memory.max", "memory.current", "inactive_file") if version == 2
                 else ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"))
        for level in [folder, *folder.parents]:
            limit = _read(level / files[0])
            if limit is not None and limit < _UNLIMITED:
                used = (_read(level / files[1]) or 0) - (_read(level / "memory.stat", files[2]) or 0)
                name = "memory.max" if version == 2 else "memory.limit_in_bytes"
                budget = Budget(limit - max(used, 0), f"the cgroup limit ({name}) of {size_text(limit)}")
                best = budget if best is None or budget.available < best.available else best
            if level == mount:
                break
    return best


def _rlimit_budgets(status: dict[str, int]) -> list[Budget]:
    budgets = []
    for name, key, label in (("RLIMIT_AS", "VmSize", "address-space"), ("RLIMIT_DATA", "VmData", "data-segment")):
        soft = resource.getrlimit(getattr(resource, name))[0]
        if soft != resource.RLIM_INFINITY and soft >= 0:
            # What is mapped includes allocator reservations; under a limit they shrink to fit, so the rest is
            # what new arrays can still map.
            budgets.append(Budget(soft - status.get(key, 0),
                                  f"the {label} limit ({name}) of {size_text(soft)}"))
    return budgets


def memory_budget() -> Budget | None:
    """The tightest of the memory budgets this process runs under, or None where none can be read.

    Raises
    ------
    ConfigError
        If ``REPORTGEN_MEMORY_LIMIT`` is set but is not a size.
    """
    status = _proc("/proc/self/status")
    budgets = _rlimit_budgets(status)
    if (available := _proc("/proc/meminfo").get("MemAvailable")) is not None:
        budgets.append(Budget(available, "the physical memory available"))
    if (cgroup := _cgroup_budget()) is not None:
        budgets.append(cgroup)
    if configured := os.environ.get(ENV_LIMIT, "").strip():
        try:
            cap = parse_size(configured)
        except ValueError:
            raise ConfigError(f"Environment variable {ENV_LIMIT}: expected a size such as 2GB or 512MB but "
                              f"received {configured!r}") from None
        budgets.append(Budget(cap - status.get("VmRSS", 0), f"{ENV_LIMIT}={configured}"))
    return min(budgets, key=lambda b: b.available) if budgets else None


def need_for(frame_bytes: float) -> int:
    """Estimated peak memory of a run whose loaded table takes ``frame_bytes``."""
    return int(FIXED_NEED + RUN_FACTOR * frame_bytes)


def gzip_size(path: Path) -> int:
    """The uncompressed size of a gzip file, from the ratio of its first megabyte (exact for small files)."""
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            head = handle.read(_GZIP_PROBE)
        inflate = zlib.decompressobj(wbits=31)
        out = len(inflate.decompress(head, 64 * _GZIP_PROBE))
    except (OSError, zlib.error):
        return size  # not a readable gzip file: the reader reports that
    if inflate.eof and not inflate.unused_data and size <= len(head):
        return out
    consumed = len(head) - len(inflate.unconsumed_tail) - len(inflate.unused_data)
    return int(out / max(consumed, 1) * size)


def text_estimate(probe: pd.DataFrame, data_bytes: int, encoding: str,
                  missing: frozenset[str] = frozenset({""})) -> tuple[int, int]:
    """Rows and in-memory bytes of a text table of ``data_bytes`` (decompressed), from ``probe``: its header line
    and first rows, every cell as text. A number takes 8 bytes, a text cell its length plus 9; ``missing`` lists the
    cell texts read as missing (NaN in a numeric column), and UTF-16/32 take 2/4 bytes a character on disk."""
    cells = probe.iloc[1:]
    if cells.empty:
        return 0, 0
    lengths = cells.apply(lambda column: column.str.len())
    numeric = cells.apply(lambda column: (column.str.fullmatch(_NUMBER) | column.isin(missing)).all())
    width = 4 if "32" in encoding else 2 if "16" in encoding else 1
    disk = (float(lengths.to_numpy().sum(axis=1).mean()) + cells.shape[1]) * width
    memory = sum(8.0 if numeric.iloc[i] else float(lengths.iloc[:, i].mean()) + 9 for i in range(cells.shape[1]))
    rows = int(data_bytes / max(disk, 1.0))
    return rows, int(rows * memory)


def check_text(path: Path, gz: bool, probe: pd.DataFrame, encoding: str, missing: frozenset[str]) -> int | None:
    """:func:`check` for a CSV/TSV (see :func:`text_estimate`); one far below the budget is not even estimated."""
    data_bytes = gzip_size(path) if gz else path.stat().st_size
    return check(path, lambda: text_estimate(probe, data_bytes, encoding, missing), WORST_TEXT_RATIO * data_bytes)


def check(path: Path, estimate: Callable[[], tuple[int, int]], most: float | None = None) -> int | None:
    """Refuse a file whose run would not fit, from ``estimate()``: its rows and the loaded table's bytes.

    ``most`` bounds the table's bytes from above: when even that fits, nothing is estimated. Returns the
    estimated bytes of the table (None when not estimated), which :class:`GuardedFile` then quotes.

    Raises
    ------
    DataError
        Naming the file, its size, the estimate, the limit and what to do.
    """
    budget = memory_budget()
    if budget is None or (most is not None and need_for(most) <= budget.available):
        return None
    rows, frame_bytes = estimate()
    need = need_for(frame_bytes)
    if need > budget.available:
        raise DataError(f"{path}: too large for the memory available: the {size_text(path.stat().st_size)} file "
                        f"(about {rows:,} rows) needs about {size_text(need)} to load and segment, but "
                        f"{budget.source} leaves {size_text(max(budget.available, 0))}; keep only the columns to "
                        "segment on, split or sample the rows, or raise the limit")
    return frame_bytes


def out_of_memory(path: str | os.PathLike[str] | None) -> AnalysisError:
    """The one-line error for a run that ran out of memory anyway, naming the file and the tightest limit."""
    try:
        budget = memory_budget()
    except ConfigError:
        budget = None
    limit = f" under {budget.source}" if budget is not None else ""
    return AnalysisError(f"{path or 'the input'}: ran out of memory while processing it{limit}; keep only the "
                         f"columns to segment on, split or sample the rows, or raise the limit")


def give_back() -> None:
    """Collect garbage and hand freed heap memory back to the operating system (glibc's ``malloc_trim``).

    Called where a process has finished its heavy work but stays alive: the analysis process while the render
    process lays out the PDF. At 100,000 customers its memory drops from 280 to 234 MB, and to 206 MB with the
    cleaned table let go and Arrow's pool emptied. Elsewhere than glibc only Python and Arrow give memory back.
    """
    gc.collect()
    if "pyarrow" in sys.modules:  # Arrow keeps freed buffers in its own allocator's pool
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).malloc_trim(0)  # the C library is already loaded: no lookup


READ_OVERHEAD = 2.0  # a reader holds its parse buffers beside the columns it builds
_CHECK_EVERY = 2**20  # bytes read between two looks at the process's memory


def _resident() -> int:
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


class GuardedFile(io.FileIO):
    """A file that, while a reader consumes it, watches how much the process grew and stops the read early.

    The estimate made before reading can be fooled (a gzip file whose first megabyte is ordinary and the rest one
    row repeated, a sheet whose ``<dimension>`` understates it). Every megabyte read, the growth of the resident
    memory since opening is compared with what the run can afford under the tightest budget (the table and the
    reader's buffers, :data:`READ_OVERHEAD` times what :func:`need_for` leaves for the table); past it the read
    raises a :class:`DataError` naming the file, the growth so far, the estimate and the limit.
    """

    def __init__(self, path: Path, estimate: int | None = None) -> None:
        super().__init__(path, "rb")
        self.path, self.estimate = Path(path), estimate
        self.budget = memory_budget()
        self.start = _resident()
        self.unchecked = self.calls = 0

    def _watch(self, count: int) -> None:
        # By bytes, and by calls too: a zip member or gzip stream may unpack a megabyte into a gigabyte.
        self.unchecked += count
        self.calls += 1
        if self.budget is None or (self.unchecked < _CHECK_EVERY and self.calls % 16):
            return
        self.unchecked = 0
        grown = _resident() - self.start
        affordable = READ_OVERHEAD * (self.budget.available - FIXED_NEED) / RUN_FACTOR
        if grown > affordable:
            estimate = f"the estimate was about {size_text(need_for(self.estimate))}; " if self.estimate else ""
            raise DataError(f"{self.path}: too large for the memory available: reading it took {size_text(grown)} "
                            f"after {size_text(self.tell())} of the {size_text(os.fstat(self.fileno()).st_size)} "
                            f"file, more than the run can afford ({estimate}{self.budget.source} leaves "
                            f"{size_text(max(self.budget.available, 0))}); keep only the columns to segment on, "
                            "split or sample the rows, or raise the limit")

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        self._watch(len(data or b""))
        return data

    def readinto(self, buffer: Any) -> int:
        count = super().readinto(buffer)
        self._watch(count or 0)
        return count

    def readall(self) -> bytes:
        data = super().readall()
        self._watch(len(data))
        return data
