"""Database benchmark: a full report from a 1,000,000-customer PostgreSQL table, beside the same data as CSV and
Parquet.

Starts a throwaway local PostgreSQL cluster (``tests/pgcluster.py``: Debian's server binaries, run as ``nobody``
when started by root), loads the generated table (``gen_customers.py``, the 1M-row CSV) into it as
``customers``, then runs ``reportgen run`` with every default output in a fresh process under
``/usr/bin/time -v`` (``bench_report.run_once``) on each of the three inputs, ``--runs`` times, alternating.
Prints the median and all wall times, the median run's load stage and the peak resident memory, and saves
``benchmarks/results/database-<rows>.json``. The cluster is stopped and removed at the end.

    python benchmarks/bench_database.py               # 1,000,000 customers, 3 runs of each input
    python benchmarks/bench_database.py --rows 100000 --runs 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import gen_customers
import pyarrow.csv as pacsv
from bench_report import run_once, summarise

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from pgcluster import start_cluster  # noqa: E402  (a test helper, found through the path above)


def load_table(url: str, csv: Path) -> float:
    """Copy the CSV into the table ``customers`` (through Arrow and COPY); returns the seconds it took."""
    import adbc_driver_postgresql.dbapi as pg

    start = time.perf_counter()
    table = pacsv.read_csv(csv)
    with pg.connect(url) as con, con.cursor() as cursor:
        cursor.adbc_ingest("customers", table, mode="replace")
        con.commit()
        cursor.execute("ANALYZE customers")
        con.commit()
    return time.perf_counter() - start


def main() -> None:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="customers (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each input (default 3)")
    args = parser.parse_args()
    csv = gen_customers.ensure(args.rows, fmt="csv")
    parquet = gen_customers.ensure(args.rows, fmt="parquet")
    cluster = start_cluster()
    try:
        url = cluster.url("shop")
        loaded = load_table(url, csv)
        print(f"loaded {args.rows:,} rows into PostgreSQL in {loaded:.1f} s")
        inputs = {"csv": [str(csv)], "parquet": [str(parquet)], "postgresql": [url, "--table", "customers"]}
        results: dict[str, list[dict]] = {name: [] for name in inputs}
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(args.runs):
                for name, argv in inputs.items():
                    results[name].append(run_once(argv, Path(tmp) / f"{name}-{run}"))
                    print(f"  {name:<11} run {run + 1}: {results[name][-1]['wall_s']:.2f} s", flush=True)
    finally:
        cluster.stop()
    summary = {name: summarise(f"{name}-{args.rows}", runs) for name, runs in results.items()}
    print(f"\n{args.rows:,} customers, full report (PDF, HTML, JSON, CSV), {args.runs} run(s) each:")
    print(f"  {'input':<11}{'median s':>10}{'min s':>8}{'max s':>8}{'load s':>8}{'peak RSS MB':>13}")
    for name, item in summary.items():
        walls = item["wall_all_s"]
        load = statistics.median(r["stages_s"].get("load", float("nan")) for r in results[name])
        print(f"  {name:<11}{item['wall_median_s']:>10.2f}{min(walls):>8.2f}{max(walls):>8.2f}{load:>8.2f}"
              f"{item['peak_rss_mb_max']:>13.0f}")
    out = REPO / "benchmarks" / "results" / f"database-{args.rows}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"when": datetime.now(UTC).isoformat(timespec="seconds"), "rows": args.rows,
                               "postgres_load_s": loaded, "cases": summary}, indent=2))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
