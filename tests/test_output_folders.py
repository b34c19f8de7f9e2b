"""Output folders cannot lose data: kinds are kept apart, the user's files stay, kills and races leave a folder.

The kill cases run the real swap in a child process that kills itself with SIGKILL at the chosen step, then check
what the next run finds and leaves.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.render.output import MARKER, read_marker, staging


def run_cli(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def debris(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


@pytest.fixture(scope="module")
def data(small_data: Path) -> Path:
    return small_data


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    """A good run's output folder (JSON and CSV only, a fixed K: quick)."""
    folder = tmp_path_factory.mktemp("good") / "2026-10"
    result = run_cli("run", str(data), "-o", str(folder), "--k", "3",
                     "--formats", "json,csv", "-q", "--period", "2026-10")
    assert result.exit_code == 0, result.output
    return folder


def test_marker_names_the_kind_and_the_files(run_folder: Path) -> None:
    marker = read_marker(run_folder)
    assert marker is not None and marker.kind == "run"
    core = {"model.json", "reference.json", "segments.csv", "summary.json"}
    assert core <= marker.files
    audiences = marker.files - core  # one audience file per recommendation, each written by the run
    assert audiences and all(n.startswith("audience_") and (run_folder / n).is_file() for n in audiences)


def test_history_into_a_run_folder_is_refused(run_folder: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for month in ("2026-10", "2026-11", "2026-12"):
        shutil.copytree(run_folder, runs / month)
    before = snapshot(runs / "2026-10")
    result = run_cli("history", str(runs), "-o", str(runs / "2026-10"))
    assert result.exit_code == 1
    assert result.output == (f"Error: output folder {runs / '2026-10'} holds a reportgen run (report, summary.json, "
                             "model.json); write the history into a folder of its own\n")
    assert snapshot(runs / "2026-10") == before and debris(runs) == []


def test_run_into_a_history_folder_is_refused(tmp_path: Path, data: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    (history / "history.html").write_text("<p>trend</p>")
    (history / MARKER).write_text("kind = history\nfile = history.html\n")
    before = snapshot(history)
    result = run_cli("run", str(data), "-o", str(history), "--formats", "json", "-q")
    assert result.exit_code == 1
    assert result.output == (f"Error: output folder {history} holds a reportgen history report; write the run into "
                             "a folder of its own\n")
    assert snapshot(history) == before


def test_old_marker_without_a_kind_is_read_from_the_files(run_folder: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(run_folder, old)
    (old / MARKER).write_text("reportgen output folder; replaced as a whole by the next run\n")
    (old / "notes.txt").write_text("mine")
    marker = read_marker(old)
    assert marker is not None and marker.kind == "run" and "notes.txt" not in marker.files


def test_an_input_inside_the_output_folder_stays(run_folder: Path, tmp_path: Path, data: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(run_folder, out)
    mine = out / "mydata.csv"
    shutil.copyfile(data, mine)
    (out / "notes.txt").write_text("the user's own notes")
    os.chmod(out, 0o775)
    for _ in range(2):  # and again: a kept file stays kept
        result = run_cli("run", str(mine), "-o", str(out), "--k", "3", "--formats", "json", "-q")
        assert result.exit_code == 0, result.output
    assert mine.read_bytes() == data.read_bytes()
    assert (out / "notes.txt").read_text() == "the user's own notes"
    assert stat.S_IMODE(out.stat().st_mode) == 0o775
    assert read_marker(out).files == {"model.json", "reference.json", "summary.json"}  # type: ignore[union-attr]
    assert not (out / "segments.csv").exists() and debris(tmp_path) == []


def test_a_user_file_named_like_an_output_is_not_replaced(run_folder: Path, tmp_path: Path, data: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(run_folder, out)
    (out / MARKER).write_text("kind = run\nfile = summary.json\n")  # segments.csv and the others are not ours
    before = snapshot(out)
    result = run_cli("run", str(data), "-o", str(out), "--k", "3",
                     "--formats", "json,csv", "-q")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: output folder {out} holds '")
    assert "', which reportgen did not write" in result.output
    assert snapshot(out) == before and debris(tmp_path) == []


def test_new_folder_gets_the_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "fresh"
    with staging(target) as stage:
        (stage / "summary.json").write_text("{}")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~umask


KILL = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import reportgen.render.output as output

    target, step = Path(sys.argv[1]), sys.argv[2]
    if step.startswith("fallback"):
        output._exchange = lambda a, b: False
    real_rename = os.rename
    calls = []

    def rename(a, b):
        calls.append((a, b))
        stop = {"fallback-between": 2, "fallback-before": 1, "moving-user-files": 2}.get(step)
        if stop is not None and len(calls) == stop:
            os.kill(os.getpid(), signal.SIGKILL)
        real_rename(a, b)

    os.rename = rename
    real_exchange = output._exchange

    def exchange(a, b):
        done = real_exchange(a, b)
        if step == "after-exchange":
            os.kill(os.getpid(), signal.SIGKILL)
        return done

    output._exchange = exchange
    real_rmtree = output.shutil.rmtree
    with output.staging(target) as stage:
        (stage / "summary.json").write_text("new")
        (stage / "model.json").write_text("new")
        if step == "during-render":
            os.kill(os.getpid(), signal.SIGKILL)
""")


def _old_folder(target: Path) -> None:
    target.mkdir()
    (target / "summary.json").write_text("old")
    (target / "model.json").write_text("old")
    (target / MARKER).write_text("kind = run\nfile = model.json\nfile = summary.json\n")
    (target / "input.csv").write_text("the user's")
    (target / "notes.txt").write_text("the user's too")


@pytest.mark.parametrize("step", ["during-render", "moving-user-files", "after-exchange", "fallback-before",
                                  "fallback-between"])
def test_a_kill_at_any_step_leaves_a_folder_and_the_next_run_cleans_up(tmp_path: Path, step: str,
                                                                      data: Path) -> None:
    target = tmp_path / "out"
    _old_folder(target)
    proc = subprocess.run([sys.executable, "-c", KILL, str(target), step], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == -9, proc.stderr
    if target.is_dir():  # old or new outputs, never a mix
        assert (target / "summary.json").read_text() == (target / "model.json").read_text()
    else:
        assert step == "fallback-between" and debris(tmp_path)  # the previous outputs wait in .out.old-*

    result = run_cli("run", str(data), "-o", str(target), "--k", "3",
                     "--formats", "json", "-q")

    assert result.exit_code == 0, result.output
    assert debris(tmp_path) == []
    assert (target / "input.csv").read_text() == "the user's"
    assert (target / "notes.txt").read_text() == "the user's too"
    assert (target / "summary.json").read_text().startswith("{")


def test_a_live_run_keeps_its_staging_folder(tmp_path: Path, data: Path) -> None:
    """Another run's cleanup must not take the staging folder of a run still rendering."""
    target = tmp_path / "out"
    _old_folder(target)
    with staging(target) as stage:
        (stage / "summary.json").write_text("{}")
        result = run_cli("run", str(data), "-o", str(target), "--k", "3",
                         "--formats", "json", "-q")
        assert result.exit_code == 0, result.output
        assert stage.is_dir() and (stage / "summary.json").exists()
    assert (target / "summary.json").read_text() == "{}" and debris(tmp_path) == []
    assert (target / "input.csv").read_text() == "the user's"


RACE = textwrap.dedent("""
    import sys
    from pathlib import Path
    from reportgen.render.output import staging

    target = Path(sys.argv[1])
    for i in range(40):
        with staging(target) as stage:
            (stage / "summary.json").write_text(sys.argv[2])
""")


def test_concurrent_swaps_into_one_folder_are_serialised(tmp_path: Path) -> None:
    target = tmp_path / "out"
    procs = [subprocess.Popen([sys.executable, "-c", RACE, str(target), name], stderr=subprocess.PIPE, text=True)
             for name in ("a", "b", "c")]
    errors = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], errors
    assert (target / "summary.json").read_text() in {"a", "b", "c"}
    assert debris(tmp_path) == []


@pytest.mark.parametrize("option", ["-o", "input", "--baseline"])
def test_a_symbolic_link_loop_is_one_line(tmp_path: Path, option: str, data: Path) -> None:
    loop = tmp_path / "loop"
    os.symlink(tmp_path / "loop2", loop)
    os.symlink(loop, tmp_path / "loop2")
    args = {"-o": [str(data), "-o", str(loop)], "input": [str(loop), "-o", str(tmp_path / "out")],
            "--baseline": [str(data), "-o", str(tmp_path / "out"), "--baseline", str(loop)]}[option]
    result = run_cli("run", *args, "--formats", "json", "-q", "--k", "3")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "a symbolic link loop" in result.output, result.output
    assert str(loop) in result.output
    assert not (tmp_path / "out").exists() and debris(tmp_path) == []
