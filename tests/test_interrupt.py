"""A run stopped mid-render (SIGTERM or Ctrl-C) leaves the previous outputs intact and no staging debris."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reportgen.resources import sample_data_dir

SAMPLE = str(sample_data_dir() / "customers.csv")


def _run(out: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "reportgen", "run", SAMPLE, "-o", str(out), *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_killed_mid_render_keeps_previous_outputs(tmp_path: Path, signum: int) -> None:
    out = tmp_path / "report"
    with _run(out, "--formats", "json,csv", "-q") as first:
        _, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with _run(out) as second:
        assert second.stderr is not None
        deadline = time.monotonic() + 120
        for line in second.stderr:  # progress lines name each stage as it starts
            if "pdf" in line or time.monotonic() > deadline:
                break
        second.send_signal(signum)
        _, rest = second.communicate(timeout=60)
        code = second.returncode
    assert code == 130, rest
    assert "Interrupted: nothing was written." in rest and "Traceback" not in rest
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["report"]
