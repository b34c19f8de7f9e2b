"""A 2 GB customer CSV under a small memory limit: reportgen must stop with a clean error, not be killed.

Writes a real CSV of the requested size (unique ids, numeric, categorical and date columns) into a temporary
folder, then runs ``python -m reportgen run`` on it under ``prlimit --as`` (an address-space limit; falls back to
``resource.setrlimit`` when prlimit is missing) and ``/usr/bin/time -v``, and prints the exit code, the message,
the wall time, the peak resident memory and whether the previous output folder survived. The result is saved as
``benchmarks/results/bigfile-<size>GB-limit-<limit>GB.json``.

    python benchmarks/bench_bigfile.py                       # 2 GB file, 4 GB address-space limit
    python benchmarks/bench_bigfile.py --size-gb 0.5 --limit-gb 3
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
BLOCK_ROWS = 500_000


def block_text(seed: int) -> str:
    """One block of rows as CSV text without a header; ids start with ``@@@`` for the block number to replace."""
    rng = np.random.default_rng(seed)
    n = BLOCK_ROWS
    signup = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    frame = pd.DataFrame({
        "customer_id": [f"@@@{i:06d}" for i in range(n)],
        "spend": rng.gamma(2.0, 300.0, n).round(2), "orders": rng.integers(1, 40, n),
        "web_visits": rng.integers(0, 20, n), "income": rng.normal(50_000, 15_000, n).round(0),
        "age": rng.integers(18, 90, n), "recency": rng.integers(0, 365, n),
        "region": rng.choice(["North", "South", "East", "West"], n), "signup": signup.strftime("%Y-%m-%d"),
    })
    return frame.to_csv(index=False, header=False)


def write_csv(path: Path, size: int) -> int:
    """Write a CSV of at least ``size`` bytes with unique customer ids; returns the number of rows."""
    block = block_text(0)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("customer_id,spend,orders,web_visits,income,age,recency,region,signup\n")
        number = 0
        while handle.tell() < size:
            handle.write(("\n" + block).replace("\n@@@", f"\nC{number:04d}")[1:])
            rows += BLOCK_ROWS
            number += 1
    return rows


def run(path: Path, out: Path, limit: int) -> dict:
    """Run reportgen on ``path`` under an address-space limit of ``limit`` bytes and measure it."""
    command = [sys.executable, "-m", "reportgen", "run", str(path), "-o", str(out), "--formats", "json,csv", "-q"]
    prlimit = shutil.which("prlimit")
    preexec = None
    if prlimit:
        command = [prlimit, f"--as={limit}", *command]
    else:
        def preexec() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=False,
                          preexec_fn=preexec)
    wall = time.perf_counter() - start
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    signal = re.search(r"Command terminated by signal (\d+)", proc.stderr)
    messages = [line for line in proc.stderr.splitlines() if not line.startswith(("\t", "Command "))]
    return {"exit_code": proc.returncode, "killed_by_signal": int(signal.group(1)) if signal else None,
            "message": "\n".join(messages), "traceback": "Traceback" in proc.stderr, "wall_s": round(wall, 2),
            "peak_rss_mb": round(int(peak.group(1)) / 1024, 1) if peak else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-gb", type=float, default=2.0, help="size of the CSV to write (default 2)")
    parser.add_argument("--limit-gb", type=float, default=4.0, help="address-space limit of the run (default 4)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="reportgen-bigfile-"))
    try:
        path = tmp / "customers.csv"
        start = time.perf_counter()
        rows = write_csv(path, int(args.size_gb * 1e9))
        written = time.perf_counter() - start
        print(f"wrote {path.stat().st_size / 1e9:.2f} GB, {rows:,} rows in {written:.1f} s")
        out = tmp / "out"
        out.mkdir()
        (out / ".reportgen-output").write_text("previous run\n")
        (out / "summary.json").write_text('{"previous": true}\n')
        before = sorted((p.name, p.read_bytes()) for p in out.iterdir())
        result = run(path, out, int(args.limit_gb * 1e9))
        result["output_unchanged"] = sorted((p.name, p.read_bytes()) for p in out.iterdir()) == before
        result |= {"file_bytes": path.stat().st_size, "rows": rows, "limit_bytes": int(args.limit_gb * 1e9),
                   "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"}
        print(json.dumps(result, indent=2))
        results = REPO / "benchmarks" / "results"
        results.mkdir(exist_ok=True)
        name = f"bigfile-{args.size_gb:g}GB-limit-{args.limit_gb:g}GB.json"
        (results / name).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
