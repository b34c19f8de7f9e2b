"""Does choosing K on a sample change the answer? Compare with choosing it on every customer.

reportgen fits the candidate K values on a seeded sample of ``segmentation.search_sample`` customers and then
refits the chosen K on everyone, starting from the sample's centroids. This script runs both on the same table
and prints the chosen K, the segment sizes, the agreement of the two labelings (adjusted Rand index) and the
time each took.

    python benchmarks/check_sample_fit.py benchmarks/data/customers-1000000-seed2026.csv
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from reportgen.config import load_config
from reportgen.inputs.sources import load_source
from reportgen.model.fit import fit_all, order_by_size, transform
from reportgen.model.kselect import select_k
from reportgen.prepare.features import prepare


def _fit(matrix: np.ndarray, preprocessor: object, cfg: object) -> dict:
    start = time.perf_counter()
    selection, models = select_k(matrix, cfg, len(matrix), None, None)
    fitted = order_by_size(fit_all(models[selection.chosen_k], matrix, cfg), matrix, preprocessor)
    return {"seconds": round(time.perf_counter() - start, 2), "search_rows": selection.search_size,
            "chosen_k": selection.chosen_k, "votes": dict(selection.votes),
            "sizes": np.bincount(fitted.labels).tolist(), "labels": fitted.labels}


def main() -> None:
    """Run the comparison and print (and save) what it found."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", type=Path, help="customer table to segment (zero-config)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "sample-fit-check.json")
    args = parser.parse_args()
    config = load_config(None, {"data.path": str(args.table.resolve())})
    source = load_source(config)
    prepared = prepare(source.table, source.config)
    cfg = source.config.segmentation
    matrix, preprocessor = transform(prepared.frame, prepared.numeric, prepared.categorical, cfg)
    sampled = _fit(matrix, preprocessor, cfg)
    full = _fit(matrix, preprocessor, cfg.model_copy(update={"search_sample": len(matrix)}))
    report = {"table": str(args.table), "customers": len(matrix), "sample": sampled, "full": full,
              "adjusted_rand_index": round(float(adjusted_rand_score(sampled.pop("labels"), full.pop("labels"))), 4)}
    print(json.dumps(report, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
