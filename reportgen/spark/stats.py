"""Quantiles over all rows in Spark: exact (numpy's linear interpolation) up to a size, approximate beyond it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# Spark's exact ``percentile`` keeps a count per distinct value; beyond this many rows ``percentile_approx`` is
# used, with a rank error of at most 1 / ACCURACY of the rows (Spark's default, 1e-4: 100 rows in a million).
EXACT_ROWS = 200_000
ACCURACY = 10_000


def quantiles(frame: DataFrame, columns: Sequence[str], levels: float | Sequence[float], rows: int,
              groups: str | None = None) -> list[Any]:
    """The quantiles ``levels`` of each column over its present values, in one aggregation.

    Parameters
    ----------
    frame
        The rows.
    columns
        Numeric columns.
    levels
        One level (each result is a float or None) or several (each result is a list).
    rows
        How many rows ``frame`` holds: decides between exact and approximate quantiles.
    groups
        A column to group by; then the result is ``{group: [per column]}``.

    Returns
    -------
    list
        Per column, the quantile(s); None where a column has no present value.
    """
    from pyspark.sql import functions as F

    if not columns:
        return [] if groups is None else {}
    single = isinstance(levels, (int, float))
    wanted = [float(levels)] if single else [float(q) for q in levels]

    def aggregate(column: str) -> Any:
        value = F.col(column).cast("double")
        if rows <= EXACT_ROWS:
            return F.percentile(value, F.array(*(F.lit(q) for q in wanted)))
        return F.percentile_approx(value, F.array(*(F.lit(q) for q in wanted)), ACCURACY)

    parts = [aggregate(c).alias(f"q{i}") for i, c in enumerate(columns)]

    def unpack(row: Any) -> list[Any]:
        out = []
        for i in range(len(columns)):
            found = row[f"q{i}"]
            values = [None if v is None else float(v) for v in found] if found is not None else [None] * len(wanted)
            out.append(values[0] if single else values)
        return out

    if groups is None:
        return unpack(frame.agg(*parts).first())
    return {row[groups]: unpack(row) for row in frame.groupBy(groups).agg(*parts).collect()}
