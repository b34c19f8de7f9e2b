"""A second process for the visual formats (charts, HTML, PDF), started before the analysis.

The rendering libraries take about as long to import and initialise as the analysis libraries, and laying
out the PDF takes as long as writing a million-row CSV. A fresh interpreter (``spawn``: safe whatever
threads or native runtimes the parent holds) imports and warms them up while the parent loads and analyses
the data; when the result is ready it renders HTML and PDF into the staging folder, while the parent writes
the data formats. Where it can fork, it forks a chart process (:mod:`reportgen.render.charts.process`) that draws
the charts and the HTML report while it parses and styles the PDF's page. Errors come back as messages and
are raised in the parent as :class:`~reportgen.errors.RenderError`; the parent kills the worker (and its chart
process) before it removes a staging folder.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen.errors import RenderError, ReportgenError

if TYPE_CHECKING:
    from reportgen.render.charts.process import ChartFeed, ChartProcess

VISUAL = ("html", "pdf")  # the formats that need the charts and the layout engine


def _start_chart_process(conn: Connection, formats: tuple[str, ...]) -> ChartProcess | None:
    """With a PDF to lay out, fork the chart process (before the chart engine starts: its threads must not be
    forked); None when the platform cannot fork, and this process draws the charts itself."""
    from reportgen.render.charts import process as chartproc

    if "pdf" not in formats or not chartproc.can_fork():
        return None
    from reportgen.render.charts import report as charts  # noqa: F401 - imported once, before the fork, for both processes
    from reportgen.render.html import document as html  # noqa: F401
    from reportgen.render.pdf import document as pdf  # noqa: F401

    helper = chartproc.ChartProcess(formats, conn)
    conn.send(("helper", helper.pid))
    return helper


def _warm_up(formats: tuple[str, ...], charts_here: bool) -> None:
    """Initialise the chart engine (when the charts are drawn here) and the layout engine."""
    if charts_here:
        from reportgen.render.charts import report as charts

        charts.warm_up()
    if "pdf" in formats:
        from reportgen.render.pdf import document as pdf

        pdf.warm_up()


def _render(conn: Connection, job: dict[str, Any], formats: tuple[str, ...]) -> None:
    """Draw the charts, then render the formats one after the other (no chart process)."""
    from reportgen.render import RenderContext, renderer
    from reportgen.render.charts.report import build_charts

    conn.send(("stage", "charts"))
    start = time.perf_counter()
    charts, notes = build_charts(job["result"])
    timings = {"charts": time.perf_counter() - start}
    if "html" in formats:
        from reportgen.render.charts import vega

        # vl-convert runs one job at a time: the page's JavaScript bundles after the charts, in native code,
        # while the PDF is laid out in Python.
        vega.prefetch()
    ctx = RenderContext(generated_at=job["generated_at"], template_dir=job["template_dir"], charts=charts,
                        chart_notes=notes)
    paths: list[Path] = []
    for fmt in sorted(formats, key=lambda f: f != "pdf"):  # the PDF first, while the bundle builds
        conn.send(("stage", fmt))
        start = time.perf_counter()
        paths += renderer(fmt)(job["result"], job["customers"], ctx, job["out_dir"])
        timings[fmt] = time.perf_counter() - start
    conn.send(("done", paths, timings))


def _render_beside(conn: Connection, job: dict[str, Any], feed: ChartFeed) -> None:
    """Lay out the PDF while the chart process draws the charts (and then the HTML report)."""
    from reportgen.render import RenderContext, renderer

    conn.send(("stage", "charts"))
    feed.names()  # the chart process's plan: which charts there will be, and the note under each
    ctx = RenderContext(generated_at=job["generated_at"], template_dir=job["template_dir"], charts=feed,
                        chart_notes=feed.notes, chart_drawings=feed.drawings)
    conn.send(("stage", "pdf"))
    start = time.perf_counter()
    paths = renderer("pdf")(job["result"], job["customers"], ctx, job["out_dir"])
    timings = {"pdf": time.perf_counter() - start}
    more, drawn = feed.finish()
    conn.send(("done", paths + more, timings | drawn))


def serve(conn: Connection, formats: tuple[str, ...]) -> None:
    """The worker's main loop: warm up, wait for one job, render it, report back."""
    helper = None
    try:
        with contextlib.suppress(Exception):  # both are optimisations; the render reports real errors
            helper = _start_chart_process(conn, formats)
        with contextlib.suppress(Exception):
            _warm_up(formats, charts_here=helper is None)
        raw = conn.recv_bytes()
        job = pickle.loads(raw)
        if job is None:
            return
        try:
            if helper is not None:
                _render_beside(conn, job, helper.submit(raw))
            else:
                _render(conn, job, formats)
        except ReportgenError as exc:
            if helper is not None:
                helper.close()  # before the parent hears of the error and removes the staging folder
            conn.send(("error", str(exc)))
        except Exception as exc:  # the parent turns this into a clean RenderError
            if helper is not None:
                helper.close()
            conn.send(("error", f"rendering failed: {type(exc).__name__}: {' '.join(str(exc).split())}"))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):  # the parent stopped: leave quietly
        return
    finally:
        if helper is not None:
            helper.close()


_prestarted: RenderWorker | None = None


def prestart(formats: list[str]) -> None:
    """Start the render process now, for the next :func:`~reportgen.pipeline.build_report` with
    ``parallel=True`` in this process to use (the command line calls this before importing the analysis)."""
    global _prestarted
    visual = tuple(f for f in dict.fromkeys(formats) if f in VISUAL)
    if visual and _prestarted is None:
        _prestarted = RenderWorker(visual)


def claim(formats: tuple[str, ...]) -> RenderWorker:
    """The prestarted render process when it warmed up for ``formats``, otherwise a new one."""
    global _prestarted
    worker, _prestarted = _prestarted, None
    if worker is not None and worker.formats == formats:
        return worker
    if worker is not None:
        worker.close()
    return RenderWorker(formats)


class RenderWorker:
    """Handle on the worker process: :meth:`submit` one job, :meth:`wait` for its files, :meth:`close`."""

    def __init__(self, formats: tuple[str, ...]) -> None:
        self.formats = formats
        self._done = False
        self._helper = 0  # pid of the chart process the worker forked, once it says so
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child, formats), name="reportgen-render",
                                        daemon=True)
        self._process.start()
        child.close()

    def submit(self, result: Any, customers: Any, out_dir: Path, generated_at: str, template_dir: Path | None) -> None:
        """Hand over the analysis; the worker renders its formats into ``out_dir``."""
        from reportgen.render.html.explorer import page_customers

        customers = page_customers(result, customers)  # HTML and PDF never show more than the explorer's rows
        try:
            self._conn.send({"result": result, "customers": customers, "out_dir": out_dir, "generated_at": generated_at,
                             "template_dir": template_dir})
        except (BrokenPipeError, EOFError, OSError):
            raise RenderError(self._died()) from None

    def wait(self, progress: Callable[[str], None] | None, timings: dict[str, float]) -> list[Path]:
        """Block until the worker is done; forward its progress, merge its stage timings, return its files."""
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                raise RenderError(self._died()) from None
            if message[0] == "helper":
                self._helper = message[1]
            elif message[0] == "stage":
                if progress:
                    progress(message[1])
            elif message[0] == "error":
                raise RenderError(message[1])
            else:
                timings.update(message[2])
                self._done = True
                return message[1]

    def _died(self) -> str:
        self._process.join(timeout=5)
        return f"the rendering process ended unexpectedly (exit code {self._process.exitcode})"

    def close(self) -> None:
        """Stop the worker (at once if it is still busy) and reap it; safe to call twice.

        A worker that reported its files has nothing left to do but tear its interpreter down; it is not waited for.
        A busy worker's chart process is killed too, so that neither writes into a folder about to be removed.
        """
        if self._process.is_alive() and not self._done:
            with contextlib.suppress(BrokenPipeError, OSError, EOFError):
                while self._conn.poll():  # it may have named its chart process since the last wait
                    message = self._conn.recv()
                    self._helper = message[1] if message[0] == "helper" else self._helper
                self._conn.send(None)
            self._process.join(timeout=0.05)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
            if self._helper:  # it dies with the worker anyway (Linux); do not let it write in the meantime
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(self._helper, signal.SIGKILL)
        self._conn.close()
