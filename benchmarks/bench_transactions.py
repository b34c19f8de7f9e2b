"""Time ``aggregate_log`` on the real Online Retail log and on a generated 10M-line Parquet log.

Each run is a fresh process under ``/usr/bin/time -v``: the aggregation time is measured inside it, the wall time
and peak resident memory (Python, pandas and DuckDB together) around it. The median of the runs is reported and
the results are saved as JSON (``benchmarks/results/transactions.json``).

    python benchmarks/bench_transactions.py                     # both cases, 3 runs each
    python benchmarks/bench_transactions.py --case online_retail --runs 5
    python benchmarks/bench_transactions.py --log /tmp/log10m.parquet   # reuse a generated log
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# ../shared/datasets, or the same next to a folder further up (a checkout in a sub-folder of the workspace).
DATASETS = next((up / "shared" / "datasets" for up in REPO.parents if (up / "shared" / "datasets").is_dir()),
                REPO.parent / "shared" / "datasets")
GENERATED_ROWS = 10_000_000
CHILD = """
import json, sys, time
from pathlib import Path
from reportgen.config import DataConfig, TransactionsConfig
from reportgen.inputs.logs.transactions import aggregate_log
start = time.perf_counter()
result = aggregate_log(Path(sys.argv[1]), DataConfig(), TransactionsConfig(window="all"))
print(json.dumps({"aggregate_s": time.perf_counter() - start, "customers": len(result.customers),
                  "raw_rows": result.reconciliation[0].count, "lines_used": result.reconciliation[-1].count}))
"""


def run_once(path: Path) -> dict:
    """One aggregation in a fresh process: in-process seconds, process wall seconds, peak RSS in MB."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", CHILD, str(path)], capture_output=True,
                          text=True, check=False, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-3:]}")
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", proc.stderr).group(1)
    wall = sum(float(part) * 60 ** i for i, part in enumerate(reversed(clock.split(":"))))
    return {**stats, "wall_s": wall, "peak_rss_mb": rss_kb / 1024}


def bench(name: str, path: Path, runs: int) -> dict:
    """Run one case ``runs`` times and summarise it by the median run."""
    results = [run_once(path) for _ in range(runs)]
    median = sorted(results, key=lambda r: r["aggregate_s"])[len(results) // 2]
    summary = {"case": name, "file_bytes": path.stat().st_size, "runs": runs,
               "aggregate_median_s": statistics.median(r["aggregate_s"] for r in results),
               "wall_median_s": statistics.median(r["wall_s"] for r in results),
               "peak_rss_mb_max": max(r["peak_rss_mb"] for r in results),
               "raw_rows": median["raw_rows"], "lines_used": median["lines_used"], "customers": median["customers"],
               "all_runs": results,
               "machine": {"python": platform.python_version(), "cpus": os.cpu_count() or 0,
                           "platform": platform.platform()}}
    each = ", ".join(f"{r['aggregate_s']:.2f}" for r in results)
    print(f"{name:<16}{summary['raw_rows']:>12,}{summary['customers']:>11,}{summary['aggregate_median_s']:>11.2f}"
          f"{summary['wall_median_s']:>9.2f}{summary['peak_rss_mb_max']:>10.0f}   ({each})")
    return summary


def main() -> None:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--case", action="append", choices=["online_retail", "generated_10m"],
                        help="case to run (repeatable); both by default")
    parser.add_argument("--log", type=Path, help="generated Parquet log to use instead of generating one")
    args = parser.parse_args()
    results_dir = REPO / "benchmarks" / "results"
    results_dir.mkdir(exist_ok=True)
    print(f"{'case':<16}{'rows':>12}{'customers':>11}{'aggregate':>11}{'wall':>9}{'peak MB':>10}   "
          "(aggregate s of each run)")
    summaries = []
    with tempfile.TemporaryDirectory(prefix="reportgen-bench-") as tmp:
        for case in args.case or ["online_retail", "generated_10m"]:
            path = DATASETS / "online_retail.csv.gz" if case == "online_retail" else args.log
            if path is None:
                path = Path(tmp) / "log10m.parquet"
                subprocess.run([sys.executable, str(REPO / "benchmarks" / "gen_transactions.py"), str(path),
                                "--rows", str(GENERATED_ROWS)], check=True, stdout=subprocess.DEVNULL)
            summaries.append(bench(case, path, args.runs))
    (results_dir / "transactions.json").write_text(json.dumps(summaries, indent=2) + "\n")


if __name__ == "__main__":
    main()
