"""Processes for the visual formats (charts, HTML, PDF), started before the analysis.

The rendering libraries take about as long to import and initialise as the analysis libraries, and laying
out the PDF takes as long as writing a million-row CSV. A fresh interpreter (``spawn``: safe whatever
threads or native runtimes the parent holds) imports and warms them up while the parent loads and analyses
the data; when the result is ready it renders HTML and PDF into the staging folder, while the parent writes
the data formats. With a PDF to lay out, a second fresh interpreter, the chart process
(:mod:`reportgen.render.charts.process`), draws the charts and writes the HTML report while the render process
lays out the PDF's pages; it sends what it draws straight to the render process. No process of a run is ever
forked. Errors come back as messages and are raised in the parent as :class:`~reportgen.errors.RenderError`; the
parent kills both processes before it removes a staging folder.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from reportgen.errors import RenderError, ReportgenError

VISUAL = ("html", "pdf")  # the formats that need the charts and the layout engine


def _warm_up(formats: tuple[str, ...], charts_here: bool) -> None:
    """Initialise the chart engine (when the charts are drawn here) and the layout engine."""
    if charts_here:
        from reportgen.render.charts import report as charts

        charts.warm_up()
    if "pdf" in formats:
        from reportgen.render.pdf import document as pdf

        pdf.warm_up()


def _render(conn: Connection, job: dict[str, Any], formats: tuple[str, ...]) -> None:
    """Draw the charts, then write the HTML report (no PDF to lay out beside: no chart process)."""
    from reportgen.render import RenderContext, renderer
    from reportgen.render.charts.report import build_charts

    conn.send(("stage", "charts"))
    start = time.perf_counter()
    charts, notes = build_charts(job["result"])
    timings = {"charts": time.perf_counter() - start}
    ctx = RenderContext(generated_at=job["generated_at"], template_dir=job["template_dir"], charts=charts,
                        chart_notes=notes)
    paths: list[Path] = []
    for fmt in formats:
        conn.send(("stage", fmt))
        start = time.perf_counter()
        paths += renderer(fmt)(job["result"], job["customers"], ctx, job["out_dir"])
        timings[fmt] = time.perf_counter() - start
    conn.send(("done", paths, timings))


def _render_beside(conn: Connection, job: dict[str, Any], charts: Connection) -> None:
    """Lay out the PDF while the chart process draws the charts (and then the HTML report)."""
    from reportgen.render import RenderContext, renderer
    from reportgen.render.charts.process import ChartFeed

    feed = ChartFeed(charts)
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


def serve(conn: Connection, formats: tuple[str, ...], charts: Connection | None = None) -> None:
    """The render process's main loop: warm up, wait for one job, render it, report back.

    Parameters
    ----------
    conn
        The line to the parent: the job comes in, progress, errors and the files written go out.
    formats
        The visual formats to render.
    charts
        The line from the chart process (with a PDF to lay out); None: this process draws the charts itself.
    """
    try:
        with contextlib.suppress(Exception):  # an optimisation; the render reports real errors
            _warm_up(formats, charts_here=charts is None)
        job = pickle.loads(conn.recv_bytes())
        if job is None:
            return
        try:
            if charts is not None:
                _render_beside(conn, job, charts)
            else:
                _render(conn, job, formats)
        except ReportgenError as exc:
            conn.send(("error", str(exc)))
        except Exception as exc:  # the parent turns this into a clean RenderError
            conn.send(("error", f"rendering failed: {type(exc).__name__}: {' '.join(str(exc).split())}"))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):  # the parent stopped: leave quietly
        return


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
    """Handle on the render process (and, with a PDF, the chart process): :meth:`submit` one job, :meth:`wait`
    for its files, :meth:`close`."""

    def __init__(self, formats: tuple[str, ...]) -> None:
        self.formats = formats
        self._done = False
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._charts: tuple[multiprocessing.process.BaseProcess, Connection] | None = None
        feed_out = feed_in = None
        if "pdf" in formats:
            from reportgen.render.charts import process as chartproc

            feed_out, feed_in = context.Pipe(duplex=False)
            chart_jobs, jobs = context.Pipe(duplex=False)
            chart = context.Process(target=chartproc.serve, args=(chart_jobs, feed_in, formats),
                                    name="reportgen-charts", daemon=True)
            chart.start()
            chart_jobs.close()
            feed_in.close()
            self._charts = (chart, jobs)
        self._process = context.Process(target=serve, args=(child, formats, feed_out), name="reportgen-render",
                                        daemon=True)
        self._process.start()
        child.close()
        if feed_out is not None:
            feed_out.close()  # only the render process reads it: the line ends when the chart process does

    def submit(self, result: Any, customers: Any, out_dir: Path, generated_at: str, template_dir: Path | None) -> None:
        """Hand over the analysis; the processes render their formats into ``out_dir``."""
        from reportgen.render.html.explorer import page_customers

        customers = page_customers(result, customers)  # HTML and PDF never show more than the explorer's rows
        job = pickle.dumps({"result": result, "customers": customers, "out_dir": out_dir,
                            "generated_at": generated_at, "template_dir": template_dir},
                           protocol=pickle.HIGHEST_PROTOCOL)
        if self._charts is not None:
            # First: the charts are what the layout waits for. A chart process that died is reported by the render
            # process, which then reads the end of its line.
            with contextlib.suppress(BrokenPipeError, EOFError, OSError):
                self._charts[1].send_bytes(job)
        try:
            self._conn.send_bytes(job)
        except (BrokenPipeError, EOFError, OSError):
            raise RenderError(self._died()) from None

    def wait(self, progress: Callable[[str], None] | None, timings: dict[str, float]) -> list[Path]:
        """Block until the render process is done; forward its progress, merge its stage timings, return its
        files."""
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                raise RenderError(self._died()) from None
            if message[0] == "stage":
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
        """Stop both processes (at once if they are still busy) and reap them; safe to call twice.

        Processes that reported their files have nothing left to do but tear their interpreters down; they are not
        waited for. Busy ones are killed, so that neither writes into a folder about to be removed.
        """
        lines = [self._conn] + ([self._charts[1]] if self._charts else [])
        processes = [self._process] + ([self._charts[0]] if self._charts else [])
        if not self._done and self._process.is_alive():
            for line in lines:  # a process still waiting for its job leaves when it gets None
                with contextlib.suppress(BrokenPipeError, OSError, EOFError):
                    line.send(None)
            for process in processes:
                process.join(timeout=0.05)
        for process in processes:
            if process.is_alive():
                process.kill()
        for process in processes:
            process.join()
        for line in lines:
            line.close()
