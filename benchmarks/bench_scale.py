"""Scale benchmark: ``reportgen run`` end to end on generated tables of 100k to 10M rows.

Each case generates its input once (``benchmarks/data/``, reused while the rows, seed and format stay the same),
then runs ``reportgen run FILE -o OUT -v`` zero-config, with all the default outputs, in a fresh process under
``/usr/bin/time -v`` (see ``bench_report.run_once``) ``--runs`` times. It prints the median time of every stage
the run reports, the whole run's median, min and max wall time, the peak resident memory (max and median over
the runs) and the sizes of ``report.html`` and ``report.pdf``, each beside its target. The figures are saved
with the machine and a timestamp as ``benchmarks/results/scale-<case>.json``; ``--compare`` prints the change
from an earlier file (or from a folder of them). Memory and file sizes are in MB of 2**20 bytes.

Cases:

    customers_100k     100,000 customers, CSV       (gen_customers.py)   target <= 5 s,   <= 500 MB
    customers_1m       1,000,000 customers, CSV     (~90 MB)             target <= 15 s,  <= 1.2 GB
    customers_10m      10,000,000 customers, Parquet (~190 MB)           target <= 180 s, <= 8 GB
    transactions_1m    1,000,000 log lines, CSV     (gen_transactions.py)
    transactions_10m   10,000,000 log lines, Parquet

Every case: report.html <= 3 MB and report.pdf <= 2 MB.

    python benchmarks/bench_scale.py --case customers_100k --runs 1
    python benchmarks/bench_scale.py --case customers_1m --case transactions_1m      # 3 runs each
    python benchmarks/bench_scale.py --case customers_1m --compare old/scale-customers_1m.json
    python benchmarks/bench_scale.py --case all --timeout 3600
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import gen_customers
import gen_transactions
from bench_report import run_once, summarise

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "benchmarks" / "results"
MB = 2**20
TRANSACTIONS_SEED = 42  # gen_transactions.py's default
REPORT_FILES = {"report.html": 3 * MB, "report.pdf": 2 * MB}


@dataclass(frozen=True)
class Case:
    """One benchmark input and the targets its run is measured against."""

    name: str
    kind: str  # "customers" or "transactions"
    rows: int
    fmt: str  # "csv" or "parquet"
    max_wall_s: float | None = None
    max_rss_mb: float | None = None


CASES = {case.name: case for case in (
    Case("customers_100k", "customers", 100_000, "csv", 5, 500),
    Case("customers_1m", "customers", 1_000_000, "csv", 15, 1.2 * 1024),
    Case("customers_10m", "customers", 10_000_000, "parquet", 180, 8 * 1024),
    Case("transactions_1m", "transactions", 1_000_000, "csv"),
    Case("transactions_10m", "transactions", 10_000_000, "parquet"),
)}
DEFAULT_CASES = ("customers_100k", "customers_1m", "transactions_1m")


def ensure_input(case: Case, seed: int | None, data_dir: Path) -> tuple[Path, float | None]:
    """Generate the case's input file unless it exists already.

    Parameters
    ----------
    case
        The benchmark case.
    seed
        Seed of the generator; ``None`` for the generator's default.
    data_dir
        Folder of the generated inputs.

    Returns
    -------
    path, seconds
        The input file and how long generating it took (``None`` when an existing file was reused).
    """
    start = time.perf_counter()
    if case.kind == "customers":
        seed = gen_customers.DEFAULT_SEED if seed is None else seed
        existed = gen_customers.output_path(case.rows, seed, case.fmt, data_dir).exists()
        path = gen_customers.ensure(case.rows, seed, case.fmt, data_dir)
    else:
        seed = TRANSACTIONS_SEED if seed is None else seed
        path = data_dir / f"transactions-{case.rows}-seed{seed}.{case.fmt}"
        existed = path.exists()
        if not existed:
            data_dir.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.stem}.partial{path.suffix}")  # the writer picks the format by suffix
            try:
                gen_transactions.write(gen_transactions.generate(case.rows, seed), partial)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            partial.replace(path)
            print(f"wrote {case.rows:,} log lines to {path} ({path.stat().st_size / MB:,.1f} MB) "
                  f"in {time.perf_counter() - start:.1f} s")
        else:
            print(f"reusing {path} ({path.stat().st_size / MB:,.1f} MB)")
    return path, None if existed else time.perf_counter() - start


def bench_case(case: Case, path: Path, runs: int, timeout: float | None) -> dict:
    """Run one case ``runs`` times (stopping at the first run that fails or times out) and summarise it.

    Parameters
    ----------
    case
        The benchmark case.
    path
        Its input file.
    runs
        Number of runs.
    timeout
        Seconds after which a run is stopped; ``None`` for no limit.

    Returns
    -------
    dict
        ``bench_report.summarise``'s summary of the completed runs plus per-stage medians, wall min/max, the
        median peak RSS, report sizes, targets, input, machine and timestamp; ``status`` is ``"ok"``,
        ``"timeout"`` or ``"failed"`` (then ``error`` says why).
    """
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load_before = os.getloadavg()
    results: list[dict] = []
    status, error = "ok", None
    with tempfile.TemporaryDirectory(prefix="reportgen-scale-") as tmp:
        for i in range(runs):
            out = Path(tmp) / f"run{i}"
            try:
                result = run_once([str(path)], out, timeout=timeout)
            except TimeoutError as exc:
                status, error = "timeout", str(exc)
            except SystemExit as exc:  # run_once's way of reporting a failed run
                status, error = "failed", str(exc)
            finally:
                shutil.rmtree(out, ignore_errors=True)
            if status != "ok":
                print(f"  run {i + 1}/{runs}: {status}: {error}", flush=True)
                break
            results.append(result)
            print(f"  run {i + 1}/{runs}: {result['wall_s']:.1f} s, peak {result['peak_rss_mb']:,.0f} MB largest "
                  "process", flush=True)
        memory = None
        if status == "ok":  # one more run, memory sampled (that slows a run down, so it is not timed)
            memory = run_once([str(path)], Path(tmp) / "memory", timeout=timeout, sample_memory=True)
            print(f"  memory run: {memory['peak_tree_pss_mb']:,.0f} MB all processes", flush=True)

    summary: dict = summarise(case.name, results) if results else {"case": case.name, "runs": 0}
    summary["peak_tree_pss_mb_max"] = memory["peak_tree_pss_mb"] if memory else None
    summary |= {"status": status, "error": error, "runs_requested": runs, "timeout_s": timeout,
                "timestamp": started, "input": _input_info(case, path)}
    if results:
        walls = [r["wall_s"] for r in results]
        summary |= {
            "wall_min_s": min(walls), "wall_max_s": max(walls),
            "peak_rss_mb_median": statistics.median(r["peak_rss_mb"] for r in results),
            "stages_s_median": _stage_medians(results),
            "report_bytes": {name: summary["sizes_bytes"].get(name) for name in REPORT_FILES},
        }
    summary["targets"] = {"wall_s": case.max_wall_s, "peak_rss_mb": case.max_rss_mb,
                          **{f"{name}_bytes": limit for name, limit in REPORT_FILES.items()}}
    summary["machine"] = {**summary.get("machine", {}), **_machine(), "loadavg_before": load_before,
                          "loadavg_after": os.getloadavg()}
    return summary


def _stage_medians(results: list[dict]) -> dict[str, float]:
    """Median seconds of every stage over the runs, in the order the runs report them."""
    names = dict.fromkeys(name for r in results for name in r["stages_s"])
    return {name: statistics.median(r["stages_s"][name] for r in results if name in r["stages_s"])
            for name in names}


def _input_info(case: Case, path: Path) -> dict:
    return {"kind": case.kind, "rows": case.rows, "format": case.fmt, "file": path.name,
            "bytes": path.stat().st_size}


def _machine() -> dict:
    """Hardware and versions beyond ``bench_report``'s: CPU model, memory, reportgen version."""
    info: dict = {"cpu": platform.processor() or platform.machine()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                           if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        meminfo = Path("/proc/meminfo").read_text().split()
        info["memory_mb"] = int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024
    except (OSError, ValueError):
        pass
    with contextlib.suppress(metadata.PackageNotFoundError):
        info["reportgen"] = metadata.version("reportgen")
    return info


def _mb(size: float | None) -> str:
    return "—" if size is None else f"{size / MB:.2f} MB"


def _check(value: float | None, limit: float | None) -> str:
    if value is None or limit is None:
        return ""
    return "ok" if value <= limit else "OVER"


def print_case(summary: dict, old: dict | None = None) -> None:
    """Print one case's table: stages, wall time, memory and report sizes, with targets and the change from ``old``.

    Parameters
    ----------
    summary
        What :func:`bench_case` returned.
    old
        An earlier summary of the same case to compare with, or ``None``.
    """
    info, targets = summary["input"], summary["targets"]
    print(f"\n{summary['case']}: {info['rows']:,} rows, {info['format']} {info['bytes'] / MB:,.1f} MB, "
          f"{summary['runs']} run(s), {summary['timestamp']}")
    if summary["status"] != "ok":
        print(f"  {summary['status'].upper()}: {summary['error']}")
    if not summary["runs"]:
        return
    compare = old is not None and old.get("runs")
    header = f"  {'stage':<20}{'median':>10}"
    if compare:
        header += f"{'before':>10}{'change':>10}{'':>8}"
    print(header)

    def row(label: str, new: float | None, before: float | None, unit: str = "s", extra: str = "") -> None:
        line = f"  {label:<20}{_num(new, unit):>10}"
        if compare:
            line += f"{_num(before, unit):>10}{_delta(new, before, unit):>18}"
        print(line + (f"   {extra}" if extra else ""))

    old_stages = (old or {}).get("stages_s_median") or (old or {}).get("stages_s_median_run") or {}
    for stage, seconds in summary["stages_s_median"].items():
        if stage != "total":
            row(stage, seconds, old_stages.get(stage))
    if "total" in summary["stages_s_median"]:
        row("total (in process)", summary["stages_s_median"]["total"], old_stages.get("total"))
    wall_extra = f"min {summary['wall_min_s']:.2f}  max {summary['wall_max_s']:.2f}"
    if targets["wall_s"] is not None:
        wall_extra += f"   target <= {targets['wall_s']:g} s  {_check(summary['wall_median_s'], targets['wall_s'])}"
    row("wall (process)", summary["wall_median_s"], (old or {}).get("wall_median_s"), extra=wall_extra)
    rss_extra = "summed PSS of every process of the run"
    if targets["peak_rss_mb"] is not None:
        rss_extra += (f"   target <= {_num(targets['peak_rss_mb'], 'MB')}  "
                      f"{_check(summary['peak_tree_pss_mb_max'], targets['peak_rss_mb'])}")
    row("peak RSS (largest process)", summary["peak_rss_mb_max"], (old or {}).get("peak_rss_mb_max"), "MB",
        f"median {_num(summary['peak_rss_mb_median'], 'MB')}")
    row("peak memory (all processes)", summary["peak_tree_pss_mb_max"], (old or {}).get("peak_tree_pss_mb_max"),
        "MB", rss_extra)
    old_sizes = (old or {}).get("report_bytes") or {}
    for name, limit in REPORT_FILES.items():
        size = summary["report_bytes"].get(name)
        before = old_sizes.get(name)
        row(name, None if size is None else size / MB, None if before is None else before / MB, "MB",
            f"target <= {limit / MB:g} MB  {_check(size, limit)}")


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "MB" and value >= 1024:
        return f"{value / 1024:.2f} GB"
    if unit == "MB":
        return f"{value:,.0f} MB" if value >= 10 else f"{value:.2f} MB"
    return f"{value:.2f} s"


def _delta(new: float | None, before: float | None, unit: str) -> str:
    if new is None or before is None:
        return ""
    change = new - before
    percent = f"{change / before:+.0%}" if before else ""
    return f"{change:+.2f} {'s' if unit == 's' else 'MB'} {percent:>6}"


def print_overview(summaries: list[dict]) -> None:
    """Print the stage medians of several cases side by side.

    Parameters
    ----------
    summaries
        What :func:`bench_case` returned for each case.
    """
    done = [s for s in summaries if s["runs"]]
    if len(done) < 2:
        return
    stages = dict.fromkeys(stage for s in done for stage in s["stages_s_median"])
    print(f"\n  {'median s':<20}" + "".join(f"{s['case']:>18}" for s in done))
    for stage in stages:
        print(f"  {stage:<20}" + "".join(f"{_num(s['stages_s_median'].get(stage), 's'):>18}" for s in done))
    print(f"  {'wall (process)':<20}" + "".join(f"{_num(s['wall_median_s'], 's'):>18}" for s in done))
    print(f"  {'peak RSS (max)':<20}" + "".join(f"{_num(s['peak_rss_mb_max'], 'MB'):>18}" for s in done))
    print(f"  {'peak all processes':<20}" + "".join(f"{_num(s['peak_tree_pss_mb_max'], 'MB'):>18}" for s in done))


def load_old(compare: Path | None, case: str, only_case: bool) -> dict | None:
    """The earlier summary of ``case`` to compare with.

    Parameters
    ----------
    compare
        A ``scale-<case>.json`` file, or a folder of them; ``None`` for no comparison.
    case
        Name of the case.
    only_case
        Whether this is the only case run: a single file is then compared whatever case it holds.

    Returns
    -------
    dict or None
        The earlier summary, or ``None`` when there is none for this case.
    """
    if compare is None:
        return None
    path = compare / f"scale-{case}.json" if compare.is_dir() else compare
    if not path.is_file():
        return None
    old = json.loads(path.read_text())
    return old if old.get("case") == case or (only_case and not compare.is_dir()) else None


def main() -> None:
    """Command line of the scale benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", action="append", choices=[*CASES, "all"],
                        help=f"case to run (repeatable; default: {', '.join(DEFAULT_CASES)})")
    parser.add_argument("--runs", type=int, default=3, help="runs per case (default %(default)s)")
    parser.add_argument("--timeout", type=float, default=900,
                        help="seconds after which a run is stopped, 0 for none (default %(default)g)")
    parser.add_argument("--seed", type=int, default=None,
                        help=f"generator seed (default {gen_customers.DEFAULT_SEED} for customers, "
                             f"{TRANSACTIONS_SEED} for transactions)")
    parser.add_argument("--data-dir", type=Path, default=gen_customers.DATA_DIR, help="folder of generated inputs")
    parser.add_argument("--compare", type=Path, help="earlier scale-<case>.json, or a folder of them, to compare with")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    names = list(dict.fromkeys(args.case or DEFAULT_CASES))
    if "all" in names:
        names = list(CASES)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)

    summaries = []
    for name in names:
        case = CASES[name]
        print(f"{name}:", flush=True)
        path, generated_s = ensure_input(case, args.seed, args.data_dir)
        summary = bench_case(case, path, args.runs, args.timeout or None)
        summary["input"]["generated_s"] = generated_s
        print_case(summary, load_old(args.compare, name, len(names) == 1))
        (RESULTS_DIR / f"scale-{name}.json").write_text(json.dumps(summary, indent=2) + "\n")
        summaries.append(summary)
    print_overview(summaries)
    if any(s["status"] != "ok" for s in summaries):
        sys.exit(1)


if __name__ == "__main__":
    main()
