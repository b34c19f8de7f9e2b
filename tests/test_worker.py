"""HTML and PDF rendered in the second process: same files as in-process, errors and deaths end cleanly."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from reportgen import build_report
from reportgen.config import load_config
from reportgen.errors import RenderError
from reportgen.resources import sample_data_dir


def _config(out: Path, **extra: object):
    overrides = {"output.dir": str(out), "data.path": str(sample_data_dir() / "customers.csv"), **extra}
    return load_config(sample_data_dir() / "reportgen.toml", overrides)


def test_parallel_writes_what_in_process_writes(tmp_path: Path) -> None:
    here = build_report(_config(tmp_path / "here"))
    there = build_report(_config(tmp_path / "there"), parallel=True)
    assert sorted(p.name for p in here.paths) == sorted(p.name for p in there.paths)
    for name in ("summary.json", "segments.csv", "model.json"):
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "there" / name).read_bytes()
    pages = PdfReader(tmp_path / "there" / "report.pdf").pages
    assert len(pages) == len(PdfReader(tmp_path / "here" / "report.pdf").pages) > 3
    summary = json.loads((tmp_path / "there" / "summary.json").read_text())
    assert summary["segments"][0]["name"] in (tmp_path / "there" / "report.html").read_text()
    assert {"charts", "pdf", "html"} <= set(there.timings) and there.seconds > 0


def test_template_error_in_the_worker_is_a_render_error_and_nothing_is_written(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "_cover.html").write_text("{{ ''.__class__.__mro__ }}")
    out = tmp_path / "out"
    with pytest.raises(RenderError, match=r"sandbox|unsafe|private"):
        build_report(_config(out, **{"output.template_dir": str(templates)}), parallel=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["templates"]


def test_a_killed_worker_is_a_render_error_and_leaves_no_debris(tmp_path: Path) -> None:
    def kill_worker() -> None:  # the render process: the spawned child that loads the layout engine (Pango)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for pid in os.listdir("/proc"):
                if pid.isdigit() and _parent(pid) == os.getpid() and b"spawn_main" in _cmdline(pid) \
                        and "libpango" in _maps(pid):
                    os.kill(int(pid), signal.SIGKILL)
                    return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_worker)
    killer.start()
    with pytest.raises(RenderError, match="rendering process ended unexpectedly"):
        build_report(_config(tmp_path / "out", **{"output.formats": ["pdf", "json"]}), parallel=True)
    killer.join()
    assert list(tmp_path.iterdir()) == []


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _maps(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""


def _parent(pid: str) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def test_the_worker_gets_only_the_rows_the_page_lists() -> None:
    from reportgen.render.html.explorer import explorer_data, page_customers
    from reportgen.result import CustomerTable
    from tests.factories import make_result

    result = make_result(3)
    n = 12_345
    rng = np.random.default_rng(7)
    customers = CustomerTable(np.array([f"C{i}" for i in range(n)], dtype=object), rng.integers(0, 3, n),
                              rng.random(n), tuple(s.name for s in result.segments), "id",
                              {"extra": np.zeros(n)}, {"spend": rng.random(n) * 100})
    sent = page_customers(result, customers)
    assert sent.total == n and len(sent.segment) <= 5_000 + 3 and not sent.columns
    assert explorer_data(result, sent) == explorer_data(result, customers)
