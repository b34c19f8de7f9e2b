"""Per-customer outputs written by Spark, never collected: the segments as Parquet partitioned by period, and
with the CSV output ``segments.csv`` and the audience files (one file each, the local engine's columns)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.config import Config
from reportgen.spark.model import DISTANCE, LABEL
from reportgen.spark.prepare import ID

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


def _safe(text: Column) -> Column:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (as :mod:`reportgen.render.csvout`)."""
    from pyspark.sql import functions as F

    risky = F.lit(False)
    for trigger in _TRIGGERS:
        risky = risky | text.startswith(trigger)
    return F.when(risky & text.try_cast("double").isNull(), F.concat(F.lit("'"), text)).otherwise(text)


def _one_csv(frame: DataFrame, target: Path) -> Path:
    """``frame`` as one CSV file with a header (Spark writes a folder of parts; its one part is moved)."""
    with tempfile.TemporaryDirectory(prefix=".spark-", dir=target.parent) as tmp:
        folder = Path(tmp) / "out"
        frame.coalesce(1).write.option("header", "true").option("emptyValue", "").csv(str(folder))
        part = next(folder.glob("part-*"), None)
        if part is None:
            target.write_text(",".join(frame.columns) + "\n", encoding="utf-8")
        else:
            shutil.move(str(part), target)
    return target


def segment_writer(assigned: DataFrame, config: Config, id_name: str, names: list[str], recommendations: tuple,
                   tests: dict[str, Column]) -> Callable[[Path], list[Path]]:
    """The function that writes every customer's segment into a run's staging folder.

    Parameters
    ----------
    assigned
        The customers with ``__id``, ``__label`` and ``__distance``.
    config
        ``spark.segments`` (else ``segments.parquet`` in the output folder), ``report.period``, the formats.
    id_name
        The id column's name in the input.
    names
        Segment names by id.
    recommendations
        The ranked recommendations, each naming its audience file and target.
    tests
        Each target's condition (:func:`reportgen.spark.audiences.audience_sizes`).
    """
    from pyspark.sql import functions as F

    segment_name = F.element_at(F.array(*(F.lit(n) for n in names)), F.col(LABEL) + 1)
    rows = assigned.select(F.col(ID).alias("customer_id"), F.col(LABEL).alias("segment_id"),
                           segment_name.alias("segment_name"), F.col(DISTANCE).alias("distance_to_centroid"),
                           F.lit(config.report.period or "unset").alias("period"))

    def write(stage: Path) -> list[Path]:
        written = []
        configured = config.resolve(config.spark.segments)
        parquet = configured if configured is not None else stage / "segments.parquet"
        (rows.write.mode("overwrite" if configured is None else "append").partitionBy("period")
         .parquet(str(parquet)))
        if configured is None:
            written.append(parquet)
        if "csv" in config.output.formats:
            text = rows.select(_safe(F.col("customer_id")).alias(id_name), "segment_id",
                               _safe(F.col("segment_name")).alias("segment_name"),
                               F.round("distance_to_centroid", 6).alias("distance_to_centroid"))
            written.append(_one_csv(text, stage / "segments.csv"))
            for rec in recommendations:
                chosen = assigned.where(F.col(LABEL) == rec.segment_id)
                test = _target_test(rec, tests)
                if test is not None:
                    chosen = chosen.where(test)
                part = chosen.select(_safe(F.col(ID)).alias(id_name), F.col(LABEL).alias("segment_id"),
                                     F.lit(names[rec.segment_id]).alias("segment_name"))
                written.append(_one_csv(part, stage / rec.audience_file))
        return written

    return write


def _target_test(rec: object, tests: dict[str, Column]) -> Column | None:
    from reportgen.describe.stakes import TARGETS

    description = getattr(rec, "target", "")
    for name, target in TARGETS.items():
        if target.description == description and name in tests:
            return tests[name]
    return None
