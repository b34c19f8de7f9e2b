"""The command line as a user meets it: exit codes, messages, the files written, and nothing written on error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen import __version__
from reportgen.cli import main
from reportgen.resources import sample_data_dir

SAMPLE = str(sample_data_dir() / "customers.csv")
FAST = ["--formats", "json,csv", "-q"]


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def test_version_and_help() -> None:
    assert invoke("--version").output.strip() == f"reportgen, version {__version__}"
    for command in ("run", "init", "validate"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Example" in result.output


def test_run_writes_outputs_and_prints_paths(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("run", SAMPLE, "-o", str(out), "--formats", "json,csv", "--k", "4", "--seed", "7",
                    "--period", "2026-10", "--title", "October brief")
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.iterdir())
    assert [n for n in written if not n.startswith("audience_")] == [".reportgen-output", "model.json",
                                                                      "reference.json", "segments.csv", "summary.json"]
    assert str(out / "summary.json") in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k_selection"]["chosen_k"] == 4 and summary["run"]["seed"] == 7
    assert {n for n in written if n.startswith("audience_")} == {r["audience_file"] for r in summary["recommendations"]}
    assert summary["report"]["title"] == "October brief" and summary["report"]["period"] == "2026-10"
    header = (out / "segments.csv").read_text().splitlines()[0]
    assert header == "customer_id,segment_id,segment_name,distance_to_centroid"


def test_same_input_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert invoke("run", SAMPLE, "-o", str(tmp_path / name), *FAST).exit_code == 0
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "Error: input file not found: "),
        (["--k", "5000"], "Error: segmentation.k = 5000 is larger than the number of customers (3,000)"),
        (["-c", "nope.toml"], "Error: config file not found: nope.toml"),
    ],
)
def test_user_errors_exit_1_and_leave_output_alone(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    assert invoke("run", SAMPLE, "-o", str(out), *FAST).exit_code == 0
    before = snapshot(out)
    argv = ["run", *args] if args[0].endswith(".csv") else ["run", SAMPLE, *args]
    result = invoke(*(argv[:1] + [str(tmp_path / a) if a.endswith(".csv") else a for a in argv[1:]]),
                    "-o", str(out), *FAST)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging debris


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("id,name\n", "has a header but no data rows"),
        ("id,name\n1,a\n2,b\n3,c\n", "no usable feature column"),
    ],
)
def test_bad_tables(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = invoke("run", str(path), "-o", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / "out").exists()


def test_unknown_column_in_config(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[features]\nnumeric = ["total_spend", "not_a_column"]\n')
    result = invoke("run", SAMPLE, "-c", str(config), "-o", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 1
    assert "column 'not_a_column' named in the config is not in the data" in result.output


@pytest.mark.parametrize("args", [["--k", "zero"], ["--k", "1"], ["--formats", "pdf,doc"], ["--bogus"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert invoke("run", SAMPLE, *args).exit_code == 2


def test_refuses_to_replace_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = invoke("run", SAMPLE, "-o", str(tmp_path), *FAST)
    assert result.exit_code == 1 and "was not written by reportgen" in result.output
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_init_then_run(tmp_path: Path) -> None:
    config = tmp_path / "reportgen.toml"
    result = invoke("init", SAMPLE, "-o", str(config))
    assert result.exit_code == 0, result.output
    text = config.read_text()
    assert 'id_column = "customer_id"' in text and 'monetary = "total_spend"' in text
    assert "# Random seed" in text
    assert invoke("init", SAMPLE, "-o", str(config)).exit_code == 1  # no silent overwrite
    run = invoke("run", "-c", str(config), "-o", str(tmp_path / "out"), *FAST)
    assert run.exit_code == 0, run.output


def test_init_never_suggests_a_total_named_like_an_existing_column(tmp_path: Path) -> None:
    rows = ["id,MntWines,MntFruits,TotalSpend,Income"] + [
        f"{i},{i * 7 % 50},{i * 3 % 20},{'high' if i % 2 else 'low'},{20000 + i * 917 % 40000}" for i in range(1, 61)]
    data = tmp_path / "shop.csv"
    data.write_text("\n".join(rows) + "\n")
    config = tmp_path / "reportgen.toml"
    assert invoke("init", str(data), "-o", str(config)).exit_code == 0
    derived = [line for line in config.read_text().splitlines() if line.startswith("derived")]
    assert not any("TotalSpend =" in line for line in derived)
    run = invoke("run", "-c", str(config), "-o", str(tmp_path / "out"), *FAST)
    assert run.exit_code == 0, run.output


def test_validate_prints_quality_summary() -> None:
    result = invoke("validate", SAMPLE, "-c", str(sample_data_dir() / "reportgen.toml"))
    assert result.exit_code == 0, result.output
    assert "customers.csv: 3,000 rows read" in result.output
    assert "cleaning: birth_year: out of plausible range → missing (5)" in result.output
    assert result.output.strip().endswith("OK: the data and config are usable.")


def test_demo_run_writes_into_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "--formats", "json,csv", "-q")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reportgen-report" / "summary.json").is_file()
    assert not (sample_data_dir() / "reportgen-report").exists()
