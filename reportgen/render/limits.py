"""What the chart engine needs from the process limits, checked before any work starts.

The charts are drawn by vl-convert, whose JavaScript engine (V8) reserves 64 GiB of address space at start for its
heap cage and uses little of it. Under an address-space limit (``ulimit -v``, ``prlimit --as``) below that, the
engine cannot start and aborts the process. An HTML or PDF output under such a limit is therefore refused at once
with one line saying what limit it needs; a data-segment limit (``ulimit -d``, ``prlimit --data``), a cgroup memory
limit or ``REPORTGEN_MEMORY_LIMIT`` bound the memory without that problem, and JSON and CSV outputs need no charts.
"""

from __future__ import annotations

import resource
from collections.abc import Iterable

from reportgen.errors import RenderError
from reportgen.memory import size_text

CHART_ENGINE_RESERVATION = 64 * 2**30
PROCESS_SHARE = 500 * 2**20  # what the rendering process maps itself beside the engine's reservation
CHART_FORMATS = frozenset({"html", "pdf", "history"})


def check_address_space(formats: Iterable[str]) -> None:
    """Refuse chart-drawing outputs under an address-space limit the chart engine cannot start in.

    Raises
    ------
    RenderError
        Naming the limit found and the one needed.
    """
    wanted = sorted(CHART_FORMATS & set(formats))
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    need = CHART_ENGINE_RESERVATION + PROCESS_SHARE
    if not wanted or soft == resource.RLIM_INFINITY or soft < 0 or soft >= need:
        return
    what = "the history report" if wanted == ["history"] else " and ".join(f.upper() for f in wanted) + " output"
    raise RenderError(f"{what} needs an address-space limit (ulimit -v, prlimit --as) of at least "
                      f"{size_text(70e9)}, but it is {size_text(soft)}: the chart engine reserves 64 GiB of address "
                      "space it does not use; bound memory with ulimit -d or prlimit --data, a cgroup limit or "
                      "REPORTGEN_MEMORY_LIMIT instead, or write --formats json,csv")
