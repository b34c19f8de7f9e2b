"""The customer explorer of the HTML report: which customers it lists (their key features are chosen by
:func:`reportgen.describe.keyfeatures.key_features`).

The page lists every customer up to ``report.explorer_rows``; beyond that, a seeded random sample drawn from each
segment in proportion to its size, and the page says so. The cap keeps the file size flat whatever the input size
(``segments.csv`` always lists every customer).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from reportgen.render.context import safe_color
from reportgen.result import AnalysisResult, CustomerTable

# Where a column name may wrap: after an underscore, or between a lower-case letter and an upper-case one.
_WRAP = re.compile(r"(?<=_)(?=[^_])|(?<=[a-z])(?=[A-Z])")


def header_parts(name: str) -> list[str]:
    """A column name cut where the header may wrap: ``days_since_last`` → ``days_ since_ last``, ``NumWebVisits``
    → ``Num Web Visits`` (joined with ``<wbr>`` in the page, so the name reads and copies unchanged)."""
    return [part for part in _WRAP.split(name) if part]


def headers(customers: CustomerTable) -> list[list[str]]:
    """The explorer's column headers, each cut by :func:`header_parts`, in the order of the page's columns."""
    names = [customers.id_name, "Segment id", "Segment", *customers.features, "Distance to centre"]
    return [header_parts(name) for name in names]


def stratified_rows(segment: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """Row positions the explorer lists: all when at most ``cap``, else a stratified seeded sample.

    Each segment gets a share of ``cap`` proportional to its size (largest remainders round up, at least one row
    per segment); rows are drawn without replacement and returned in their original order.
    """
    n = len(segment)
    if n <= cap:
        return np.arange(n)
    labels, counts = np.unique(segment, return_counts=True)
    exact = cap * counts / n
    quota = np.maximum(np.floor(exact).astype(int), 1)
    for i in np.argsort(-(exact - np.floor(exact)), kind="stable")[: max(cap - int(quota.sum()), 0)]:
        quota[i] += 1
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(segment == label), min(q, c), replace=False)
             for label, q, c in zip(labels, quota, counts, strict=True)]
    return np.sort(np.concatenate(picks))


def _plain_column(values: np.ndarray) -> list[Any]:
    """Numbers for JSON: integers stay integers, others keep 2 decimals, missing values become null."""
    finite = np.isfinite(values)
    if finite.all() and np.array_equal(values, np.round(values)) and np.abs(values).max(initial=0) < 2 ** 53:
        return values.astype(np.int64).tolist()
    rounded = np.round(values, 2).astype(object)
    rounded[~finite] = None
    return rounded.tolist()


def _ids(ids: np.ndarray) -> list[Any]:
    if np.issubdtype(ids.dtype, np.integer):
        return ids.tolist()
    return [str(v) for v in ids.tolist()]


def _cap(result: AnalysisResult) -> int:
    return int(result.run.config["report"]["explorer_rows"])  # the effective setting, default from the schema


def page_customers(result: AnalysisResult, customers: CustomerTable) -> CustomerTable:
    """Only the customers the page lists (all up to the cap, else the seeded sample), as a smaller table that
    remembers the full count: what a render process needs instead of a table of millions."""
    return customers.take(stratified_rows(customers.segment, _cap(result), result.run.seed))


def explorer_data(result: AnalysisResult, customers: CustomerTable) -> dict[str, Any]:
    """What the page's customer explorer shows, as plain JSON-ready data (columns of equal length).

    Returns
    -------
    dict
        ``idName``, ``numericIds``, ``features`` (names), ``segments`` (id, name, colour), ``ids``, ``segment`` (ids),
        ``distance``, ``values`` (one list per feature), ``total`` and ``shown`` customers, ``sampled`` and the
        ``note`` the page states about them.
    """
    cap = _cap(result)
    # A table that is already the page's sample (see page_customers) is shown whole.
    rows = np.arange(len(customers.segment)) if customers.total else stratified_rows(customers.segment, cap,
                                                                                   result.run.seed)
    features = dict(customers.features)
    total, shown = customers.total or len(customers.segment), len(rows)
    colors = {s.id: safe_color(s.color) for s in result.segments}
    names = customers.segment_names
    if shown < total:
        note = (f"A random sample of {shown:,} of {total:,} customers (seed {result.run.seed}), drawn from each "
                f"segment in proportion to its size; the report lists at most {cap:,}. segments.csv lists every "
                "customer.")
    else:
        note = f"All {total:,} customers."
    return {
        "idName": customers.id_name,
        "numericIds": bool(np.issubdtype(np.asarray(customers.ids).dtype, np.integer)),
        "features": list(features),
        "segments": [{"id": i, "name": name, "color": colors.get(i, safe_color(None))} for i, name in enumerate(names)],
        "ids": _ids(np.asarray(customers.ids)[rows]),
        "segment": np.asarray(customers.segment)[rows].astype(int).tolist(),
        "distance": _plain_column(np.asarray(customers.distance, dtype=float)[rows]),
        "values": [_plain_column(values[rows]) for values in features.values()],
        "total": total, "shown": shown, "sampled": shown < total, "note": note,
    }
