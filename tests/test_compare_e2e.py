"""Monthly comparison end to end: identities survive refits, migration adds up, drift is zero on the same data,
and a broken baseline is refused with one line naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.resources import sample_data_dir

SAMPLE = str(sample_data_dir() / "customers.csv")
CONFIG = str(sample_data_dir() / "reportgen.toml")
FAST = ["--formats", "json,csv", "-q"]


def run(*args: str) -> object:
    return CliRunner().invoke(main, ["run", *args])


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "2026-09"
    result = run("-c", CONFIG, "-o", str(out), "--period", "2026-09", *FAST)
    assert result.exit_code == 0, result.output
    return out


def test_same_data_is_the_same_segments(baseline: Path, tmp_path: Path) -> None:
    out = tmp_path / "2026-10"
    result = run("-c", CONFIG, "-o", str(out), "--period", "2026-10", "--baseline", str(baseline), *FAST)
    assert result.exit_code == 0, result.output
    old, new = summary(baseline), summary(out)
    comparison = new["comparison"]
    assert [(s["name"], s["color"]) for s in new["segments"]] == [(s["name"], s["color"]) for s in old["segments"]]
    assert all(f["psi"] < 1e-9 and f["distance"] < 1e-9 for f in comparison["drift"]["features"])
    assert comparison["drift"]["dataset_drift"] is False
    cells = comparison["migration"]["cells"]
    assert all(count == 0 for old_id, new_id, count, _ in cells if old_id != new_id)
    assert sum(count for *_, count, _ in cells) == 3000 == comparison["migration"]["both"]
    assert comparison["advice"]["action"] == "keep" and comparison["ari"] == pytest.approx(1.0)
    assert comparison["sentences"][0].startswith("Since 2026-09:")
    assert comparison["mix"]["total_change"] == pytest.approx(0.0, abs=1e-6)  # summary floats are rounded


def test_identity_survives_shuffle_and_seed(baseline: Path, tmp_path: Path) -> None:
    shuffled = tmp_path / "shuffled.csv"
    pd.read_csv(SAMPLE, dtype=str).sample(frac=1.0, random_state=7).to_csv(shuffled, index=False)
    config = tmp_path / "c.toml"
    config.write_text(Path(CONFIG).read_text().replace('path = "customers.csv"', f'path = "{shuffled}"'))
    out = tmp_path / "2026-10"
    result = run("-c", str(config), "-o", str(out), "--seed", "11", "--baseline", str(baseline), *FAST)
    assert result.exit_code == 0, result.output
    old, new = summary(baseline), summary(out)
    assert sorted(s["name"] for s in new["segments"]) == sorted(s["name"] for s in old["segments"])
    by_name_old = {s["name"]: s["size"] for s in old["segments"]}
    for segment in new["segments"]:
        assert abs(segment["size"] - by_name_old[segment["name"]]) <= 30  # same customers, relabelled


def test_reuse_model_assigns_exactly_as_before(baseline: Path, tmp_path: Path) -> None:
    out = tmp_path / "reuse"
    result = run("-c", CONFIG, "-o", str(out), "--baseline", str(baseline), "--reuse-model", *FAST)
    assert result.exit_code == 0, result.output
    old = pd.read_csv(baseline / "segments.csv", dtype=str)
    new = pd.read_csv(out / "segments.csv", dtype=str)
    assert (old["segment_name"] == new["segment_name"]).all()
    assert summary(out)["comparison"]["mode"] == "reuse-model"


def _copy(baseline: Path, target: Path) -> Path:
    target.mkdir()
    for path in baseline.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "summary.json").unlink(), "summary.json: missing from the baseline folder"),
        (lambda f: (f / "summary.json").write_text("{not json"), "summary.json: not valid JSON"),
        (lambda f: (f / "summary.json").write_text(json.dumps({**json.loads((f / "summary.json").read_text()),
                                                                "format_version": 99})),
         "summary.json: written by a newer reportgen"),
        (lambda f: (f / "model.json").write_text((f / "model.json").read_text().replace("[", "[0.5, ", 1)),
         "model.json"),
        (lambda f: (f / "model.json").write_text(json.dumps({**json.loads((f / "model.json").read_text()),
                                                              "seed": 1234})),
         "model.json: does not match the digest recorded in summary.json"),
        (lambda f: (f / "reference.json").unlink(), "reference.json: missing"),
        (lambda f: (f / "segments.csv").write_text("customer_id,cluster\n1,0\n"),
         "segments.csv: not a reportgen segments file"),
        (lambda f: (f / "segments.csv").write_text(""), "segments.csv: not a reportgen segments file"),
    ],
)
def test_broken_baseline_is_refused(baseline: Path, tmp_path: Path, damage: object, message: str) -> None:
    folder = _copy(baseline, tmp_path / "broken")
    damage(folder)
    out = tmp_path / "out"
    result = run("-c", CONFIG, "-o", str(out), "--baseline", str(folder), *FAST)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_id_column_named_segment_id(tmp_path: Path) -> None:
    """Output columns are found by position, so an id column called ``segment_id`` still compares."""
    data = tmp_path / "customers.csv"
    pd.read_csv(SAMPLE, dtype=str).rename(columns={"customer_id": "segment_id"}).to_csv(data, index=False)
    first, second = tmp_path / "2026-09", tmp_path / "2026-10"
    assert run(str(data), "-o", str(first), *FAST).exit_code == 0
    result = run(str(data), "-o", str(second), "--baseline", str(first), *FAST)
    assert result.exit_code == 0, result.output
    header = (second / "segments.csv").read_text().splitlines()[0]
    assert header == "segment_id,segment_id,segment_name,distance_to_centroid"
    migration = summary(second)["comparison"]["migration"]
    assert migration["both"] == migration["stayed"] == 3000


def test_missing_baseline_folder(tmp_path: Path) -> None:
    result = run("-c", CONFIG, "-o", str(tmp_path / "out"), "--baseline", str(tmp_path / "nope"), *FAST)
    assert result.exit_code == 1 and "baseline folder not found" in result.output


def test_incompatible_baseline_is_a_clear_error(baseline: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(Path(CONFIG).read_text().replace('exclude = ["birth_year"]',
                                                       'exclude = ["birth_year", "spend_home"]'))
    result = run(SAMPLE, "-c", str(config), "-o", str(tmp_path / "out"), "--baseline", str(baseline), *FAST)
    assert result.exit_code == 1
    assert "segmented on other features (only in the baseline: spend_home)" in result.output


@pytest.mark.slow
def test_online_retail_migration_reconciles(datasets_dir: Path, tmp_path: Path) -> None:
    log = str(datasets_dir / "online_retail.csv.gz")
    september, december = tmp_path / "2011-09", tmp_path / "2011-12"
    assert run(log, "--as-of", "2011-09-01", "-o", str(september), *FAST).exit_code == 0
    result = run(log, "--as-of", "2011-12-01", "-o", str(december), "--baseline", str(september), *FAST)
    assert result.exit_code == 0, result.output
    old, new = summary(september), summary(december)
    mig = new["comparison"]["migration"]
    old_ids = set(pd.read_csv(september / "segments.csv", dtype=str)["customer_id"])
    new_ids = set(pd.read_csv(december / "segments.csv", dtype=str)["customer_id"])
    assert mig["both"] == len(old_ids & new_ids) > 1000
    assert sum(count for *_, count, _ in mig["cells"]) == mig["both"]
    assert mig["both"] + mig["lost"] == old["data"]["rows_segmented"]
    assert mig["both"] + mig["added"] == new["data"]["rows_segmented"]
    assert any(count for old_id, new_id, count, _ in mig["cells"] if old_id != new_id)
