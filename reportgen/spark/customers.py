"""One row per customer in Spark: a customer table as read, or a transaction log aggregated per customer."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from reportgen.config import Config

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


@dataclasses.dataclass(frozen=True)
class Customers:
    """One row per customer in Spark, with what the report says about the input."""

    frame: DataFrame
    rows: int
    config: Config
    name: str
    sha256: str
    kind: str  # customers | transactions
    log: Any = None  # LogSummary
    log_scaled: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
