"""The chart process: draws the charts and the HTML report beside the PDF layout.

The command line starts it (``spawn``: a fresh interpreter, so nothing of another process's threads or native
runtimes is copied into it) together with the render process when a PDF is requested
(:mod:`reportgen.render.worker`); it imports the chart engine and warms it up while the analysis runs. Both
processes then receive the same job: this process draws every chart in the order the report shows them and sends
each SVG to the render process as soon as it is drawn, then each chart's PDF drawing
(:mod:`reportgen.render.pdf.chartforms`), then writes the HTML report. The render process meanwhile lays out the
PDF page by page, taking each chart's size (through :class:`ChartFeed`) when its page is laid out and the drawings
when it writes the file, so drawing and layout overlap.
"""

from __future__ import annotations

import contextlib
import pickle
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.errors import RenderError, ReportgenError

if TYPE_CHECKING:
    from reportgen.render.pdf.chartforms import ChartDrawing


def _draw(feed: Connection, job: dict[str, Any], formats: tuple[str, ...]) -> None:
    from reportgen.render import RenderContext, renderer
    from reportgen.render.charts.report import plan_charts
    from reportgen.render.charts.svg import spec_to_svg
    from reportgen.render.pdf.chartread import drawing_from_svg

    start = time.perf_counter()
    specs, notes = plan_charts(job["result"])
    feed.send(("plan", list(specs), notes))
    svgs: dict[str, str] = {}
    for name, spec in specs.items():
        svgs[name] = spec_to_svg(name, spec)
        feed.send(("chart", name, svgs[name]))
    timings = {"charts": time.perf_counter() - start}
    # The PDF lays out its pages with the SVGs' sizes and places these drawings when it writes the file.
    start = time.perf_counter()
    for name, svg in svgs.items():
        feed.send(("drawing", name, drawing_from_svg(svg)))
    timings["chart drawings"] = time.perf_counter() - start
    paths: list[Path] = []
    if "html" in formats:
        start = time.perf_counter()
        ctx = RenderContext(generated_at=job["generated_at"], template_dir=job["template_dir"], charts=svgs,
                            chart_notes=notes)
        paths = renderer("html")(job["result"], job["customers"], ctx, job["out_dir"])
        timings["html"] = time.perf_counter() - start
    feed.send(("done", paths, timings))


def serve(jobs: Connection, feed: Connection, formats: tuple[str, ...]) -> None:
    """The chart process's main loop: warm up, wait for one job on ``jobs``, send what it draws on ``feed``.

    Parameters
    ----------
    jobs
        The line from the process that started it: one pickled job, or None to leave.
    feed
        The line to the render process, which reads it with a :class:`ChartFeed`.
    formats
        The visual formats of the run (``html`` among them: this process writes the HTML report too).
    """
    try:
        from reportgen.render.charts.report import warm_up
        from reportgen.render.pdf import chartread  # noqa: F401 - imported while the analysis runs

        if "html" in formats:
            from reportgen.render.html import document  # noqa: F401

        with contextlib.suppress(Exception):  # an optimisation; drawing reports real errors
            warm_up()
        job = pickle.loads(jobs.recv_bytes())
        if job is None:
            return
        try:
            _draw(feed, job, formats)
        except ReportgenError as exc:
            feed.send(("error", str(exc)))
        except Exception as exc:
            feed.send(("error", f"rendering failed: {type(exc).__name__}: {' '.join(str(exc).split())}"))
    except (KeyboardInterrupt, EOFError, OSError):  # the run stopped, or the render process went away: leave
        return


class ChartFeed(Mapping[str, str]):
    """Chart name → SVG, as the chart process sends them; :attr:`drawings` maps chart name →
    :class:`~reportgen.render.pdf.chartforms.ChartDrawing` the same way; then its HTML report's files.

    A thread reads every message as it comes, so the chart process never waits for the layout to ask for what it
    sends; a lookup waits for its chart only while it has not come yet.

    Raises
    ------
    RenderError
        On lookup or :meth:`finish`, when the chart process reports an error or ends unexpectedly.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._names: list[str] | None = None
        self._svgs: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.drawings = _Drawings(self)
        self._done: tuple[list[Path], dict[str, float]] | None = None
        self._error: str | None = None
        self._changed = threading.Condition()
        threading.Thread(target=self._receive, name="chart feed", daemon=True).start()

    def _receive(self) -> None:
        while self._done is None and self._error is None:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                message = ("error", "the chart process ended unexpectedly")
            with self._changed:
                if message[0] == "plan":
                    self._names, self.notes = message[1], message[2]
                elif message[0] == "chart":
                    self._svgs[message[1]] = message[2]
                elif message[0] == "drawing":
                    self.drawings.received[message[1]] = message[2]
                elif message[0] == "done":
                    self._done = (message[1], message[2])
                else:
                    self._error = message[1]
                self._changed.notify_all()

    def wait(self, ready: Callable[[], bool]) -> None:
        """Wait until ``ready()``; raises the chart process's error, or its end before that."""
        with self._changed:
            while not ready():
                if self._error is not None:
                    raise RenderError(self._error)
                if self._done is not None:
                    raise RenderError("the chart process finished without sending everything it planned")
                self._changed.wait()

    def names(self) -> list[str]:
        """The charts that will be drawn, in drawing order (waits for the chart process's plan)."""
        self.wait(lambda: self._names is not None)
        return self._names  # type: ignore[return-value]

    def __getitem__(self, name: str) -> str:
        if name not in self.names():
            raise KeyError(name)
        self.wait(lambda: name in self._svgs)
        return self._svgs[name]

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def finish(self) -> tuple[list[Path], dict[str, float]]:
        """Wait for the chart process to finish; the files it wrote and its stage timings."""
        self.wait(lambda: self._done is not None)
        return self._done  # type: ignore[return-value]


class _Drawings(Mapping[str, "ChartDrawing"]):
    """The chart process's PDF drawings of the charts, as it sends them."""

    def __init__(self, feed: ChartFeed) -> None:
        self._feed = feed
        self.received: dict[str, ChartDrawing] = {}

    def __getitem__(self, name: str) -> ChartDrawing:
        if name not in self._feed.names():
            raise KeyError(name)
        self._feed.wait(lambda: name in self.received)
        return self.received[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._feed.names())

    def __len__(self) -> int:
        return len(self._feed.names())
