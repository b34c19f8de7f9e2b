"""The Spark engine at scale: a generated customer table of N rows through ``reportgen run --engine spark``.

Writes a seeded Parquet table in chunks (Python stays small), runs the full report (PDF, HTML, JSON and the
segments as Parquet) through Spark ``local[2]`` with ``spark.driver.memory = 4g``, and records the wall time, the
peak resident memory of the Python process and of its Java child (polled from /proc), then runs the same input
through the local engine (its time and memory, or the memory guard's refusal).

    python benchmarks/bench_spark.py --rows 1000000 5000000 20000000 --work /tmp/bench-spark
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 1_000_000
REGIONS = np.array(["north", "south", "east", "west"])
PLANS = np.array(["basic", "plus", "premium"])


def generate(path: Path, rows: int, seed: int = 7) -> Path:
    """A customer table with four groups, 14 numeric and 2 categorical features, written chunk by chunk."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, size=(4, 14)) * 2
    writer = None
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        group = rng.integers(0, 4, n)
        values = centres[group] + rng.normal(0, 1, size=(n, 14))
        columns = {"customer_id": pa.array(np.arange(start, start + n) + 1_000_000)}
        names = ["total_spend", "orders", "recency_days", "tenure_days", "income", "age", "web_visits",
                 "web_purchases", "store_purchases", "deal_purchases", "complaints_score", "products",
                 "balance", "credit_limit"]
        for j, name in enumerate(names):
            scale = 100.0 if j in (0, 4, 12, 13) else 10.0
            columns[name] = pa.array(np.round(np.abs(values[:, j] * scale + 5 * scale), 2))
        columns["region"] = pa.array(REGIONS[(group + rng.integers(0, 2, n)) % 4])
        columns["plan"] = pa.array(PLANS[rng.integers(0, 3, n)])
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=CHUNK)
    assert writer is not None
    writer.close()
    return path


def _status(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def measure(command: list[str], env: dict[str, str], timeout: float | None = None,
            log: Path | None = None) -> dict[str, float]:
    """Run ``command``; wall time, exit code, the peak RSS of the process and of any java descendant (stopped,
    with the stage it had reached, after ``timeout`` seconds)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    python_peak = java_peak = 0
    timed_out = False
    while process.poll() is None:
        if timeout is not None and time.perf_counter() - start > timeout:
            os.killpg(process.pid, 15)
            timed_out = True
            break
        python_peak = max(python_peak, _status(process.pid, "VmHWM"))
        stack = _children(process.pid)
        while stack:
            child = stack.pop()
            stack += _children(child)
            try:
                name = Path(f"/proc/{child}/comm").read_text().strip()
            except OSError:
                continue
            if name == "java":
                java_peak = max(java_peak, _status(child, "VmHWM"))
        time.sleep(0.5)
    out, err = process.communicate()
    if log is not None:  # the whole stderr, for a run that failed
        log.write_text(err, encoding="utf-8")
    stages = {}
    for line in err.splitlines():  # the -v stage timings: "  <stage>   12.34 s"
        parts = line.strip().rsplit(None, 2)
        if len(parts) == 3 and parts[2] == "s" and line.startswith("  "):
            try:
                stages[parts[0]] = float(parts[1])
            except ValueError:
                continue
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    reached = [line.removeprefix("reportgen: ").rstrip("…") for line in err.splitlines()
               if line.startswith("reportgen: ")]
    if timed_out:
        errors.append(f"stopped after {timeout:.0f} s in stage {reached[-1] if reached else '(start)'}")
    return {"seconds": round(time.perf_counter() - start, 1), "exit": process.returncode,
            "python_peak_mb": round(python_peak / 2**20), "java_peak_mb": round(java_peak / 2**20),
            "error": errors[-1] if errors else "", "stages": stages, "reached": reached[-1:],
            "stdout_lines": len(out.splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000, 20_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-spark"))
    parser.add_argument("--skip-local", action="store_true", help="Only the Spark engine.")
    parser.add_argument("--timeout", type=float, help="Stop a run after this many seconds.")
    parser.add_argument("--local-limit", help="REPORTGEN_MEMORY_LIMIT for the local engine's run (e.g. 8GB).")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    reportgen = str(Path(sys.executable).with_name("reportgen"))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    results = []
    for rows in args.rows:
        data = generate(args.work / f"customers_{rows}.parquet", rows)
        config = args.work / "spark.toml"
        config.write_text('engine = "spark"\n[spark]\nmaster = "local[2]"\n[spark.conf]\n'
                          '"spark.driver.memory" = "4g"\n"spark.sql.shuffle.partitions" = "8"\n', encoding="utf-8")
        common = ["run", str(data), "--formats", "pdf,html,json", "--period", "2026-10", "-v"]
        spark = measure([reportgen, *common, "-c", str(config), "-o", str(args.work / f"spark_{rows}")], env,
                        args.timeout, args.work / f"spark_{rows}.log")
        entry = {"rows": rows, "file_mb": round(data.stat().st_size / 2**20), "spark": spark}
        if not args.skip_local:
            limit = {"REPORTGEN_MEMORY_LIMIT": args.local_limit} if args.local_limit else {}
            entry["local"] = measure([reportgen, *common, "-o", str(args.work / f"local_{rows}")], env | limit,
                                     args.timeout, args.work / f"local_{rows}.log")
        results.append(entry)
        print(json.dumps(entry), flush=True)
    (args.work / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
