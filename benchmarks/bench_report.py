"""Time ``reportgen run`` end to end (all outputs) and measure its peak memory.

Each case runs the installed command in a fresh process under ``/usr/bin/time -v`` several times and reports the
median wall time and the peak resident memory; with ``-v`` the per-stage timings of the median run are shown.
Results are saved as JSON (``benchmarks/results/<name>.json``) so runs can be compared.

    python benchmarks/bench_report.py                 # sample data and marketing_campaign.csv, 5 runs each
    python benchmarks/bench_report.py --runs 3 --case sample
    python benchmarks/bench_report.py --tree ../main --tree .    # A/B: two checkouts, runs alternating

With ``--tree`` (twice or more) each case runs from each source checkout in turn (run 1 of every tree, then run 2,
...), so the machine's drift falls on all of them alike; ``reportgen`` is imported from the checkout (it is the
working folder of the run), the configs and datasets are this checkout's. CPU seconds are the run's user and
system time, its render and chart processes included (sampled from ``/proc``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"

CASES = {
    "sample": ["-c", str(REPO / "sample_data" / "reportgen.toml")],
    "marketing_campaign": ["-c", str(REPO / "examples" / "marketing_campaign.toml")],
    "marketing_campaign_zero_config": [str(DATASETS / "marketing_campaign.csv")],
    "mall_customers": ["-c", str(REPO / "examples" / "mall_customers.toml")],
    "online_retail": [str(DATASETS / "online_retail.csv.gz"), "--as-of", "2011-12-10"],
}
# "<case>+baseline": the case compared with a previous run of itself (made once, before timing).
CASES |= {f"{name}+baseline": args for name, args in list(CASES.items())}


def run_once(args: list[str], out_dir: Path, timeout: float | None = None, sample_memory: bool = False,
             tree: Path | None = None) -> dict:
    """One run in a fresh process: wall seconds, CPU seconds, peak RSS in MB, per-stage seconds.

    With ``tree`` the run imports ``reportgen`` from that source checkout (its working folder).

    With ``timeout`` (seconds) a run that takes longer is stopped and ``TimeoutError`` is raised. With
    ``sample_memory`` the whole run's memory is sampled too (``peak_tree_pss_mb``); reading the processes'
    memory maps 50 times a second slows the run itself down, so timed runs leave it off.
    """
    limit = ["timeout", "--kill-after=10", f"{timeout:g}"] if timeout else []
    command = ["/usr/bin/time", "-v", *limit, sys.executable, "-m", "reportgen", "run", *args, "-o", str(out_dir),
               "-v"]
    start = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tree) as child:
        tree_peak = [0]
        ticks: dict[int, int] = {}
        sampler = threading.Thread(target=_sample_tree, args=(child.pid, tree_peak), daemon=True)
        counter = threading.Thread(target=_count_cpu, args=(child.pid, ticks), daemon=True)
        if sample_memory:
            sampler.start()
        counter.start()
        stdout, stderr = child.communicate()
        for thread in (sampler, counter):
            if thread.is_alive():
                thread.join()
    proc = subprocess.CompletedProcess(command, child.returncode, stdout, stderr)
    wall = time.perf_counter() - start
    if limit and proc.returncode in (124, 137):  # stopped by timeout (TERM, or KILL when TERM was not enough)
        reached = re.findall(r"^reportgen: (.+?)…$", proc.stderr, re.MULTILINE)
        raise TimeoutError(f"run stopped after {wall:.0f} s (timeout {timeout:g} s)"
                           + (f" during '{reached[-1]}'" if reached else ""))
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-3:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", proc.stderr))
    stages = {m.group(1).strip(): float(m.group(2))
              for m in re.finditer(r"^  (\S[^\d]*?)\s+([\d.]+) s$", proc.stderr, re.MULTILINE)}
    sizes = {p.name: p.stat().st_size for p in out_dir.iterdir() if not p.name.startswith(".")}
    return {"wall_s": wall, "cpu_s": cpu, "cpu_tree_s": sum(ticks.values()) / os.sysconf("SC_CLK_TCK"),
            "peak_rss_mb": rss_kb / 1024, "peak_tree_pss_mb": tree_peak[0] / 1024,
            "stages_s": stages, "sizes_bytes": sizes}


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):  # a process or thread may end while its folder is being read
            for task in list(Path(f"/proc/{current}/task").glob("*/children")):
                with contextlib.suppress(OSError):
                    todo += [int(c) for c in task.read_text().split()]
    return found


def _pss_kb(pid: int) -> int:
    with contextlib.suppress(OSError, StopIteration):
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        return int(next(line.split()[1] for line in rollup.splitlines() if line.startswith("Pss:")))
    return 0


def _count_cpu(pid: int, ticks: dict[int, int]) -> None:
    """Every 50 ms, the CPU time (user and system clock ticks) each of ``pid`` and its descendants has used so far:
    the whole run's CPU time, whichever process reaps which (a process killed unreaped is missing from
    ``/usr/bin/time``'s figure). A process's last 50 ms may be missed."""
    while Path(f"/proc/{pid}").exists():
        for process in _descendants(pid):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
                ticks[process] = max(ticks.get(process, 0), int(fields[11]) + int(fields[12]))
        time.sleep(0.05)


def _sample_tree(pid: int, peak: list[int]) -> None:
    """Every 20 ms, the summed proportional set size (PSS) of ``pid`` and all its descendants: the memory the
    whole run holds at once. ``/usr/bin/time`` reports only the largest single process, and reportgen renders
    in a second process."""
    while Path(f"/proc/{pid}").exists():
        peak[0] = max(peak[0], sum(_pss_kb(p) for p in _descendants(pid)))
        time.sleep(0.02)


def bench(name: str, runs: int, verbose: bool) -> dict:
    """Run one case ``runs`` times and summarise it."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        args = list(CASES[name])
        if name.endswith("+baseline"):
            run_once(args, Path(tmp) / "baseline")
            args += ["--baseline", str(Path(tmp) / "baseline")]
        for i in range(runs):
            out = Path(tmp) / f"run{i}"
            results.append(run_once(args, out))
            shutil.rmtree(out, ignore_errors=True)
        memory = run_once(args, Path(tmp) / "memory", sample_memory=True)  # one more run, for memory only
    summary = summarise(name, results) | {"peak_tree_pss_mb_max": memory["peak_tree_pss_mb"]}
    walls, median_run = summary["wall_all_s"], _median_run(results)
    print(f"{name:<32} median {summary['wall_median_s']:6.2f} s   peak {summary['peak_rss_mb_max']:7.1f} MB "
          f"(largest process), {summary['peak_tree_pss_mb_max']:7.1f} MB (all processes, PSS)   "
          f"(runs: {', '.join(f'{w:.2f}' for w in walls)})")
    if verbose:
        for stage, seconds in median_run["stages_s"].items():
            print(f"    {stage:<20}{seconds:7.2f} s")
        for file, size in sorted(median_run["sizes_bytes"].items()):
            print(f"    {file:<20}{size / 1024:9.1f} KB")
    return summary


def bench_trees(name: str, runs: int, trees: list[Path]) -> dict[str, dict]:
    """Run one case ``runs`` times from each checkout in ``trees``, alternating; a summary per checkout."""
    results: dict[Path, list[dict]] = {tree: [] for tree in trees}
    memory: dict[Path, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        args = list(CASES[name])
        if name.endswith("+baseline"):
            run_once(args, Path(tmp) / "baseline", tree=trees[0])
            args += ["--baseline", str(Path(tmp) / "baseline")]
        for i in range(runs):
            for tree in trees if i % 2 == 0 else trees[::-1]:  # neither checkout always runs first
                out = Path(tmp) / f"run{i}"
                results[tree].append(run_once(args, out, tree=tree))
                shutil.rmtree(out, ignore_errors=True)
        for tree in trees:  # one more run each, for memory only
            memory[tree] = run_once(args, Path(tmp) / "memory", sample_memory=True, tree=tree)["peak_tree_pss_mb"]
            shutil.rmtree(Path(tmp) / "memory", ignore_errors=True)
    summaries = {}
    for tree in trees:
        summary = summarise(name, results[tree]) | {"peak_tree_pss_mb_max": memory[tree], "tree": str(tree)}
        summaries[str(tree)] = summary
        print(f"{name:<24} {tree.name:<14} median {summary['wall_median_s']:6.2f} s  "
              f"cpu {summary['cpu_tree_median_s']:6.2f} s   peak {summary['peak_rss_mb_max']:7.1f} MB (largest), "
              f"{memory[tree]:7.1f} MB (all, PSS)   "
              f"(runs: {', '.join(f'{w:.2f}' for w in summary['wall_all_s'])})")
    return summaries


def summarise(name: str, results: list[dict]) -> dict:
    """Summary of a case's runs (results of :func:`run_once`): median wall time, peak RSS, the median run's stages."""
    walls = [r["wall_s"] for r in results]
    median_run = _median_run(results)
    return {"case": name, "runs": len(results), "wall_median_s": statistics.median(walls), "wall_all_s": walls,
            "cpu_median_s": statistics.median(r["cpu_s"] for r in results),
            "cpu_tree_median_s": statistics.median(r["cpu_tree_s"] for r in results),
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in results),
            "stages_s_median_run": median_run["stages_s"], "sizes_bytes": median_run["sizes_bytes"],
            "machine": {"python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform()}}


def _median_run(results: list[dict]) -> dict:
    return sorted(results, key=lambda r: r["wall_s"])[len(results) // 2]


def _cpus() -> int:
    return os.cpu_count() or 0


def main() -> None:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="case to run (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show stage timings and output sizes")
    parser.add_argument("--tree", action="append", type=Path,
                        help="source checkout to run from (repeat to compare checkouts, runs alternating)")
    args = parser.parse_args()
    results_dir = REPO / "benchmarks" / "results"
    results_dir.mkdir(exist_ok=True)
    if args.tree:
        trees = [tree.resolve() for tree in args.tree]
        for name in args.case or ["sample", "marketing_campaign"]:
            summaries = bench_trees(name, args.runs, trees)
            (results_dir / f"{name}.ab.json").write_text(json.dumps(summaries, indent=2) + "\n")
        return
    for name in args.case or ["sample", "marketing_campaign"]:
        summary = bench(name, args.runs, args.verbose)
        (results_dir / f"{name}.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
