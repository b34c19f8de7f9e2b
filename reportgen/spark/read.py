"""The input as a Spark DataFrame: a Parquet or CSV file or folder, a catalogue table, or a Spark SQL query."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from reportgen.config import Config
from reportgen.errors import ConfigError, DataError
from reportgen.spark.prepare import MID

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_PARQUET = (".parquet", ".pq", ".parq")
_TEXT = (".csv", ".tsv", ".txt", ".gz")


@dataclass(frozen=True)
class SparkInput:
    """The input as Spark reads it, each row numbered in input order (``__mid``)."""

    frame: DataFrame
    name: str  # the file, folder, table or "query", as the report names its input
    sha256: str  # of the file bytes (a file or folder on this machine), else of the table name or query text
    path: Path | None  # a local file, when it is one (a transaction log's columns are sniffed from it)
    kind: str  # parquet | csv | table | query


def _is_remote(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(("_", ".")))


def _digest(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                sha.update(chunk)
    return sha.hexdigest()


def _format(config: Config, target: str, files: list[Path]) -> str:
    if config.spark.format != "auto":
        return config.spark.format
    names = [p.name.lower() for p in files] or [target.lower()]
    if all(n.endswith(_PARQUET) for n in names):
        return "parquet"
    if all(n.endswith(_TEXT) for n in names):
        return "csv"
    raise ConfigError(f"Config value 'spark.format': {target} holds neither Parquet (.parquet) nor CSV files "
                      f"(.csv, .tsv, .txt, .gz); set 'parquet' or 'csv' but received 'auto'")


def _separator(config: Config, files: list[Path]) -> str:
    if config.data.sep:
        return "\t" if config.data.sep.lower() in ("tab", "\\t") else config.data.sep
    if not files:
        return ","
    from reportgen.inputs.sniff import read_sample, sniff_separator, unquoted

    first = files[0]
    text, _, complete = read_sample(first, first.name.lower().endswith(".gz"), config.data.encoding, [])
    return sniff_separator(first, unquoted(text), complete, None, [])


def read_input(session: SparkSession, config: Config, *, typed: bool = True) -> SparkInput:
    """Open the configured input in Spark (nothing is read yet but the schema).

    Parameters
    ----------
    session
        The run's Spark session.
    config
        ``spark.table`` / ``spark.query`` / ``data.path`` (with ``spark.format``, ``data.sep``, ``data.encoding``).
    typed
        CSV columns typed from the values (customer tables) or all read as text (transaction logs, whose SQL
        types them).

    Raises
    ------
    DataError
        A path that does not exist, a table that is not in the catalogue, a query Spark refuses.
    """
    from pyspark.sql import functions as F

    spark = config.spark
    if spark.table or spark.query:
        what = spark.table or spark.query or ""
        try:
            frame = session.table(spark.table) if spark.table else session.sql(spark.query)
            frame.schema  # noqa: B018 - resolves the table or query now, so a bad one fails here
        except Exception as exc:
            reason = " ".join(str(exc).split())[:200]
            key = "spark.table" if spark.table else "spark.query"
            raise DataError(f"Config value '{key}': Spark cannot read {what!r} ({reason})") from None
        kind = "table" if spark.table else "query"
        name = spark.table or "query"
        return SparkInput(frame.withColumn(MID, F.monotonically_increasing_id()), name,
                          hashlib.sha256(what.encode()).hexdigest(), None, kind)
    if not config.data.path:
        raise DataError("no input: give a file or folder on the command line, or set data.path, spark.table or "
                        "spark.query in the config")
    target = config.data.path
    local = None if _is_remote(target) else config.resolve(target.removeprefix("file://"))
    if local is not None and not local.exists():
        raise DataError(f"{local}: file or folder not found")
    files = _files(local) if local is not None else []
    if local is not None and not files:
        raise DataError(f"{local}: the folder holds no data files")
    kind = _format(config, str(local or target), files)
    where = str(local) if local is not None else target
    try:
        if kind == "parquet":
            frame = session.read.parquet(where)
        else:
            reader = session.read.option("header", "true").option("sep", _separator(config, files))
            reader = reader.option("encoding", config.data.encoding or "UTF-8").option("mode", "PERMISSIVE")
            frame = reader.option("inferSchema", "true" if typed else "false").csv(where)
        frame.schema  # noqa: B018
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200]
        raise DataError(f"{where}: Spark cannot read it as {kind} ({reason})") from None
    frame = frame.toDF(*(c.strip().lstrip("\ufeff") for c in frame.columns))
    digest = _digest(files) if files else hashlib.sha256(target.encode()).hexdigest()
    name = local.name if local is not None else target.rstrip("/").rsplit("/", 1)[-1]
    return SparkInput(frame.withColumn(MID, F.monotonically_increasing_id()), name, digest,
                      local if local is not None and local.is_file() else None, kind)


def sample_frame(frame: DataFrame, rows: int, size: int, seed: int) -> pd.DataFrame:
    """A seeded sample of about ``size`` rows in input order, as pandas (every row when there are few)."""

    part = frame if rows <= size else frame.sample(fraction=min(1.0, 1.2 * size / rows), seed=seed).limit(size)
    pdf = to_pandas(part.orderBy(MID))
    return pdf.drop(columns=[MID]).reset_index(drop=True)


def to_pandas(frame: DataFrame) -> pd.DataFrame:
    """``frame`` (small: a sample or an aggregate) as pandas, with NULLs as missing values."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pdf = frame.toPandas()
    for column in pdf.columns:  # text as the local reader holds it (pandas' str dtype, missing as NaN)
        if pdf[column].dtype == object and pdf[column].map(lambda v: isinstance(v, (str, type(None)))).all():
            pdf[column] = pdf[column].astype("str")
    return pdf
