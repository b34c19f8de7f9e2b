"""Time to interactive of the HTML report: open report.html in headless Chromium until every chart is live.

The page's script sets ``data-ready="true"`` on ``<html>`` once the customer explorer is filled and every chart has
been swapped for its live version, with ``data-ready-ms`` the time since navigation started. Each report is opened
in a fresh browser tab several times; the median, the file size and the chart count are printed and saved as JSON
(``benchmarks/results/html-<name>.json``).

    python benchmarks/bench_html.py                          # builds the sample report first (HTML only)
    python benchmarks/bench_html.py out/report.html --runs 9
    python benchmarks/bench_html.py --screenshot docs/html-report.png   # also saves a screenshot (segment 2 in focus)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
BUDGET_MS, BUDGET_BYTES = 2_000, 3_000_000


def build_sample(out: Path) -> Path:
    """Run reportgen on the bundled sample data (HTML only) and return the report's path."""
    command = [sys.executable, "-m", "reportgen", "run", "-c", str(REPO / "sample_data" / "reportgen.toml"),
               "--formats", "html", "-o", str(out), "-q"]
    subprocess.run(command, check=True)
    return out / "report.html"


def time_to_interactive(browser: Browser, report: Path) -> tuple[int, int]:
    """Open the report once in a fresh tab; (ms until every chart is live, number of live charts)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(report.resolve().as_uri())
        page.wait_for_selector("html[data-ready='true']", state="attached", timeout=30_000)
        return int(page.get_attribute("html", "data-ready-ms")), page.locator("figure.is-live").count()
    finally:
        page.close()


def screenshot(browser: Browser, report: Path, path: Path) -> None:
    """A screenshot of the overview with the third segment in focus and its value-share bar's tooltip showing."""
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(report.resolve().as_uri())
    page.wait_for_selector("html[data-ready='true']", state="attached", timeout=30_000)
    page.select_option("#focus-segment", "2")
    page.evaluate("document.getElementById('overview').scrollIntoView({behavior: 'instant'})")
    bar = page.locator('figure[data-chart="sizes"] .chart-live .mark-rect path').nth(7).bounding_box()
    page.mouse.move(bar["x"] + bar["width"] * 0.6, bar["y"] + bar["height"] / 2, steps=4)
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=5_000)
    page.screenshot(path=str(path))
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="*", type=Path, help="report.html files (default: build the sample's)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--screenshot", type=Path, help="save a screenshot of the first report here")
    parser.add_argument("--save", action="store_true", help="write benchmarks/results/html-<name>.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        reports = args.reports or [build_sample(Path(tmp) / "sample")]
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        for report in reports:
            times, charts = zip(*(time_to_interactive(browser, report) for _ in range(args.runs)), strict=True)
            size = report.stat().st_size
            name = report.parent.name
            median = statistics.median(times)
            print(f"{name:<24} interactive median {median:6.0f} ms (runs: {', '.join(map(str, times))}); "
                  f"{max(charts)} live charts; {size / 1e6:.2f} MB"
                  + ("" if median <= BUDGET_MS and size <= BUDGET_BYTES else "   OVER BUDGET"))
            if args.save:
                result = {"report": name, "runs": args.runs, "ready_ms_median": median, "ready_ms_all": list(times),
                          "live_charts": max(charts), "size_bytes": size}
                (REPO / "benchmarks" / "results" / f"html-{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        if args.screenshot:
            screenshot(browser, reports[0], args.screenshot)
            print(f"screenshot: {args.screenshot}")
        browser.close()


if __name__ == "__main__":
    main()
