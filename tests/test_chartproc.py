"""The chart process's side of the PDF: charts arrive by name as drawn; errors and deaths become RenderErrors;
nothing is forked."""

from __future__ import annotations

import os
import signal
import threading
import time
from multiprocessing import Pipe
from pathlib import Path

import pytest

from reportgen import build_report
from reportgen.config import load_config
from reportgen.errors import RenderError
from reportgen.render.charts.process import ChartFeed
from reportgen.resources import sample_data_dir


def test_feed_waits_for_each_chart_and_keeps_the_others() -> None:
    ours, theirs = Pipe()
    feed = ChartFeed(ours)

    def chart_process() -> None:
        theirs.send(("plan", ["a", "b"], {"a": "note a", "b": "note b"}))
        time.sleep(0.05)
        theirs.send(("chart", "b", "<svg>b</svg>"))
        theirs.send(("chart", "a", "<svg>a</svg>"))
        theirs.send(("done", [Path("report.html")], {"charts": 0.1, "html": 0.2}))

    sender = threading.Thread(target=chart_process)
    sender.start()
    assert list(feed) == ["a", "b"] and len(feed) == 2 and "a" in feed and "c" not in feed
    assert feed.notes == {"a": "note a", "b": "note b"}
    assert feed["a"] == "<svg>a</svg>" and feed["b"] == "<svg>b</svg>"
    with pytest.raises(KeyError):
        feed["c"]
    assert feed.finish() == ([Path("report.html")], {"charts": 0.1, "html": 0.2})
    sender.join()


def test_feed_raises_the_chart_process_error_or_its_end() -> None:
    ours, theirs = Pipe()
    theirs.send(("plan", ["a"], {}))
    theirs.send(("error", "chart 'a' could not be drawn: boom"))
    with pytest.raises(RenderError, match="chart 'a' could not be drawn"):
        ChartFeed(ours)["a"]
    ours, theirs = Pipe()
    theirs.send(("plan", ["a"], {}))
    theirs.close()
    with pytest.raises(RenderError, match="chart process ended unexpectedly"):
        ChartFeed(ours)["a"]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _loads_vl_convert(pid: int) -> bool:
    try:
        return "vl_convert" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_a_killed_chart_process_is_a_render_error_and_leaves_no_debris(tmp_path: Path) -> None:
    def kill_chart_process(stage: str) -> None:
        if stage != "name & recommend":  # the analysis is nearly done; the job has not been sent yet
            return
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # Both processes are spawned children of this one; the chart process is the one with the chart engine.
            for child in _children(os.getpid()):
                if _loads_vl_convert(child):
                    os.kill(child, signal.SIGKILL)
                    return
            time.sleep(0.01)
        raise AssertionError("no chart process found")

    config = load_config(sample_data_dir() / "reportgen.toml",
                         {"output.dir": str(tmp_path / "out"), "data.path": str(sample_data_dir() / "customers.csv")})
    with pytest.raises(RenderError, match="chart process ended unexpectedly"):
        build_report(config, kill_chart_process, parallel=True)
    assert list(tmp_path.iterdir()) == []


def test_no_process_of_a_run_is_forked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The render and chart processes start as fresh interpreters (spawn), whatever threads this process runs."""
    forks: list[int] = []
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or pytest.fail("a process was forked"))
    from reportgen.render.worker import RenderWorker

    worker = RenderWorker(("html", "pdf"))
    try:
        spawned = [pid for pid in _children(os.getpid()) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(spawned) == 2 and forks == []  # the render and chart processes (beside multiprocessing's tracker)
    finally:
        worker.close()
